"""Signals: facts a committed change hands to the work that follows it (docs/ARCHITECTURE.md,
"After commit").

A service records a signal on its unit of work (`uow.signal`); only once the transaction has
committed are the handlers registered for the signal's type run (`storage.after_commit`). The
modules that react (page images, carried annotations, live vote progress) register at the
composition root, so the module that commits never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VersionStored:
    """A document version's PDF and rows are committed (`number` 1: a new document)."""

    document_id: int
    version_id: int
    number: int
    sha256: str


@dataclass(frozen=True)
class BallotsCounted:
    """A committed ballot batch changed how many have voted in these polls."""

    poll_ids: tuple[int, ...]


@dataclass(frozen=True)
class AccessChanged:
    """A user's tokens or roles changed: the live sockets of the user (of `token_id` only,
    when given) are re-authorised on every worker."""

    user_id: int
    token_id: int | None = None
