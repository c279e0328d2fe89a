"""Handlers run after a unit of work commits (docs/ARCHITECTURE.md, "After commit").

The composition root (`realtime/asgi.py`, `services.assembly.create_services`) registers, per
signal type (`domain.signals`), the work that follows a commit: rendering a new version's first
page, carrying annotations to it, telling the workers that a poll's progress or a user's access
changed. The unit
of work runs them once its transaction is committed and its events are published. A handler
may report something for the command's answer (a dict merged into what `commit` returns); a
handler that fails is logged and skipped, since the change it follows is committed already.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

log = logging.getLogger(__name__)

S = TypeVar("S")
Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]


class AfterCommit:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = {}

    def on(self, kind: type[S], handler: Callable[[S], Awaitable[dict[str, Any] | None]]) -> None:
        """Run `handler` for every committed signal of type `kind`, in registration order."""
        self._handlers.setdefault(kind, []).append(handler)

    async def run(self, signals: Sequence[object]) -> dict[str, Any]:
        """Every handler of every signal; what they report for the answer, merged."""
        report: dict[str, Any] = {}
        for signal in signals:
            for handler in self._handlers.get(type(signal), ()):
                try:
                    found = await handler(signal)
                except Exception:
                    log.exception("after-commit handler %s for %r failed", handler, signal)
                    continue
                report.update(found or {})
        return report
