"""The chair signs resolutions and minutes (docs/features/archive.md, "Signing").

Two ways: with the key the server holds (`sign_with_server_key`: PAdES in the signing pool, off
the event loop, then the council's seal as a second incremental signature), or with the chair's
own token (`start_session` prepares the document and the digest, `quorum sign-remote` signs it
on the token and `complete_session` embeds the signature). Both end in `_finish`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import anyio
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.documents.signing.api import (
    SignatureLevel,
    SigningFailed,
    StampText,
    TsaUnavailable,
)
from meetings.documents.signing.remote import RemoteSigningState, complete_remote, prepare_remote
from meetings.documents.signing.sign import create_timestamper, create_validation_context
from meetings.domain.errors import Conflict, InvalidInput, NotFound
from meetings.domain.events import iso
from meetings.services.accounts.auth import confirm_password, load_actor
from meetings.services.archive.events import SIGNED
from meetings.services.archive.signing_keys import (
    SigningKeys,
    SigningRuntime,
    require_chair_key,
    runtime,
)
from meetings.services.archive.targets import Kind, Target, load_target, target_public
from meetings.services.context import Actor, Services
from meetings.storage.tables import Council, Membership, User, utcnow
from meetings.storage.tables_archive import SigningSession

SESSION_MINUTES = 30
TICKET_PREFIX = "qst_"
"""Signing tickets start with this, so that a leaked one is recognised (docs/SECURITY.md)."""
DEFAULT_TITLE = "Chủ tọa phiên họp"
T = TypeVar("T")

Pem = Annotated[str, StringConstraints(min_length=1, max_length=30000)]


class StartSession(BaseModel):
    """POST …/signing-sessions: the certificate of the key on the chair's token."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    certificate_pem: Pem


class SignWithKey(BaseModel):
    """POST …/sign: the signer's own password, typed again (`auth.confirm_password`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RemoteSignature(BaseModel):
    """POST /api/signing-sessions/{id}/signature, as `quorum sign-remote` sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    signature_b64: Annotated[str, StringConstraints(min_length=1, max_length=200000)]
    certificate_pem: Pem | None = None


def _ready(kind: Kind, target: Target) -> str:
    if target.status != "generated" or not target.generated_sha256:
        raise Conflict(f"the {kind} must be generated (and not yet signed)", code="not_signable")
    return target.generated_sha256


async def _signer_title(session: AsyncSession, actor: Actor | None, council_id: int) -> str:
    if actor is None:
        return DEFAULT_TITLE
    title = await session.scalar(
        select(col(Membership.title)).where(
            col(Membership.council_id) == council_id, col(Membership.user_id) == actor.user_id
        )
    )
    return title or DEFAULT_TITLE


async def _prepare(
    services: Services, actor: Actor | None, kind: Kind, target_id: int, name: str | None
) -> tuple[bytes, StampText, str]:
    """Authorise, and read the generated PDF, the chair's stamp and the council's name."""
    async with services.db.reading() as session:
        target, meeting = await load_target(session, actor, kind, target_id)
        if actor is not None:
            actor.require_chair(meeting.council_id)
        sha = _ready(kind, target)
        council = await session.get(Council, meeting.council_id)
        assert council is not None
        title = await _signer_title(session, actor, meeting.council_id)
    pdf = await anyio.to_thread.run_sync(services.blobs.read, sha)
    stamp = StampText(name or (actor.name if actor else "Chủ tọa"), title)
    return pdf, stamp, council.name


async def signatures_summary(rt: SigningRuntime, pdf: bytes) -> list[dict[str, Any]]:
    """Who signed, when, and whether each signature checks out (stored with the record)."""
    report = await rt.verify(pdf)
    return [
        {
            "field": s.field_name,
            "kind": s.kind,
            "signer": s.signer_name,
            "signing_time": iso(s.signing_time),
            "timestamp_time": iso(s.timestamp_time),
            "ok": s.ok,
        }
        for s in report.signatures
    ]


async def _finish(
    services: Services,
    actor: Actor | None,
    kind: Kind,
    target_id: int,
    generated: bytes,
    signed: bytes,
    how: str,
) -> dict[str, Any]:
    sha = await anyio.to_thread.run_sync(services.blobs.put, signed)
    summary = await signatures_summary(runtime(services), signed)
    async with services.uow() as uow:
        target, _meeting = await load_target(uow.session, actor, kind, target_id, lock=True)
        current = _ready(kind, target)
        if not signed.startswith(generated) or current != hashlib.sha256(generated).hexdigest():
            raise Conflict(f"the {kind} changed while it was being signed", code="changed")
        target.signed_sha256, target.status = sha, "signed"
        target.signed_at, target.signatures = utcnow(), summary
        out = target_public(kind, target)
        await uow.emit(target.meeting_id, SIGNED[kind].model_validate(out))
        await uow.audit(
            actor.user_id if actor else None,
            f"{kind}.sign",
            f"{kind}:{target_id}",
            {"sha256": sha, "how": how, "signers": [s["signer"] for s in summary]},
        )
        await uow.commit()
        return out


async def _authorise(services: Services, actor: Actor, kind: Kind, target_id: int) -> None:
    async with services.db.reading() as session:
        target, meeting = await load_target(session, actor, kind, target_id)
        actor.require_chair(meeting.council_id)
        _ready(kind, target)


async def sign_with_server_key(
    services: Services,
    actor: Actor | None,
    kind: Kind,
    target_id: int,
    *,
    name: str | None = None,
    reauth: tuple[SignWithKey, str] | None = None,
) -> dict[str, Any]:
    """The chair signs with the key the server holds; the council's seal follows.

    A person (`actor`) must give `reauth`: their password typed again and their address, checked
    after the cheap refusals (not the chair, nothing to sign, no key) and before any signing.
    Nothing is stored unless both signatures are made: a failure (TSA down, key missing or
    revoked) leaves the document `generated`, ready to be signed again."""
    rt = runtime(services)
    chair = require_chair_key(rt.keys)
    if actor is not None:
        if reauth is None:
            raise InvalidInput("type your password to sign", code="validation")
        await _authorise(services, actor, kind, target_id)
        await confirm_password(services, actor, reauth[0].password, reauth[1])
    async with rt.turns:
        pdf, stamp, council_name = await _prepare(services, actor, kind, target_id, name)
        signed = await rt.sign(pdf, chair, "Chair", stamp)
        signed = await rt.sign_with_seal(signed, council_name)
        return await _finish(services, actor, kind, target_id, pdf, signed, "server_key")


def _in_thread(work: Callable[[], Awaitable[T]]) -> Awaitable[T]:
    """Run pyHanko's async CPU-heavy parts on their own loop in a thread."""
    return anyio.to_thread.run_sync(lambda: asyncio.run(work()))  # type: ignore[arg-type]


def _remote_level(keys: SigningKeys) -> SignatureLevel:
    # B-T at most: revocation data for every signature (B-LT) and the document time-stamp
    # (B-LTA) are added once, when the file is archived. Adding them here too made pyHanko's
    # diff analysis flag the second update of the chair's DSS/VRI entry as suspicious.
    return SignatureLevel.B_T if keys.tsa_url else SignatureLevel.B_B


async def start_session(
    services: Services, actor: Actor, kind: Kind, target_id: int, cmd: StartSession
) -> dict[str, Any]:
    """Prepare the document for the chair's token; answer the session id and the digest."""
    keys = runtime(services).keys
    pdf, stamp, _council = await _prepare(services, actor, kind, target_id, None)
    level = _remote_level(keys)
    try:
        state, digest = await _in_thread(
            lambda: prepare_remote(
                pdf, cmd.certificate_pem.encode(), field_name="Chair", stamp=stamp, level=level
            )
        )
    except SigningFailed as exc:
        raise InvalidInput(exc.message, code="bad_certificate") from None
    now = utcnow()
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    row = SigningSession(
        id=secrets.token_hex(16),
        kind=kind,
        target_id=target_id,
        user_id=actor.user_id,
        state=state.to_bytes(),
        digest_algorithm=state.digest_algorithm,
        expires_at=now + dt.timedelta(minutes=SESSION_MINUTES),
        ticket_hash=ticket_digest(ticket),
    )
    async with services.uow() as uow:
        uow.session.add(row)
        await uow.audit(actor.user_id, "signing_session.start", f"{kind}:{target_id}")
        await uow.commit()
    return {
        "session_id": row.id,
        "kind": kind,
        "target_id": target_id,
        "digest_b64": base64.b64encode(digest).decode(),
        "digest_algorithm": state.digest_algorithm,
        "expires_at": iso(row.expires_at),
        "ticket": ticket,
    }


def ticket_digest(ticket: str) -> str:
    return hashlib.sha256(b"quorum-signing-ticket:" + ticket.encode()).hexdigest()


def _expired(row: SigningSession) -> bool:
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    return expires < utcnow()


async def actor_for_ticket(services: Services, session_id: str, ticket: str) -> Actor | None:
    """The signer of `session_id` when `ticket` is that session's live signing ticket.

    A ticket opens only its own session's two routes (GET the digest, POST the signature): the
    HTTP layer asks here for those routes only, and nowhere else is a ticket a credential. None
    when the ticket is not this session's, the session is completed, cancelled or expired, or
    the signer's account is disabled."""
    if not ticket.startswith(TICKET_PREFIX) or len(ticket) > 200:
        return None
    async with services.db.reading() as session:
        row = await session.get(SigningSession, session_id[:40])
        if row is None or row.ticket_hash is None or row.status != "pending" or _expired(row):
            return None
        if not hmac.compare_digest(row.ticket_hash, ticket_digest(ticket)):
            return None
        user = await session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        return await load_actor(session, user)


async def _session(session: AsyncSession, actor: Actor, session_id: str) -> SigningSession:
    row = await session.get(SigningSession, session_id[:40])
    if row is None or row.user_id != actor.user_id:
        raise NotFound("no such signing session")
    if row.status == "cancelled":
        raise Conflict("this signing session was cancelled", code="session_cancelled")
    if row.status != "pending":
        raise Conflict("this signing session is already completed", code="session_done")
    if _expired(row):
        raise Conflict("this signing session has expired; start a new one", code="session_expired")
    return row


async def session_info(services: Services, actor: Actor, session_id: str) -> dict[str, Any]:
    """GET /api/signing-sessions/{id}: what `quorum sign-remote` signs."""
    async with services.db.reading() as session:
        row = await _session(session, actor, session_id)
    state = RemoteSigningState.from_bytes(row.state)
    return {
        "session_id": row.id,
        "kind": row.kind,
        "target_id": row.target_id,
        "digest_b64": base64.b64encode(state.digest_to_sign).decode(),
        "digest_algorithm": row.digest_algorithm,
        "signer_cert_pem_required": True,
        "expires_at": iso(row.expires_at),
    }


async def complete_session(
    services: Services, actor: Actor, session_id: str, cmd: RemoteSignature
) -> dict[str, Any]:
    """Embed the token's signature, add revocation data and the seal, and record it."""
    async with services.db.reading() as session:
        row = await _session(session, actor, session_id)
    kind: Kind = "resolution" if row.kind == "resolution" else "minutes"
    pdf, _stamp, council_name = await _prepare(services, actor, kind, row.target_id, None)
    state = RemoteSigningState.from_bytes(row.state)
    try:
        signature = base64.b64decode(cmd.signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("signature_b64 is not base64", code="validation") from None
    rt = runtime(services)
    keys = rt.keys
    cert = cmd.certificate_pem.encode() if cmd.certificate_pem else None

    async def complete() -> bytes:
        ts = create_timestamper(keys.tsa_url) if keys.tsa_url else None
        vc = create_validation_context(keys.trust) if state.level.needs_validation_context else None
        try:
            return await complete_remote(
                state, signature, certificate_pem=cert, timestamper=ts, validation_context=vc
            )
        finally:
            if vc is not None:
                await vc.aclose()  # type: ignore[no-untyped-call]

    try:
        signed = await _in_thread(complete)
    except TsaUnavailable:
        raise  # 502: not the signer's mistake; the session stays open for the same signature
    except SigningFailed as exc:
        raise InvalidInput(exc.message, code="bad_signature") from None
    signed = await rt.sign_with_seal(signed, council_name)
    out = await _finish(services, actor, kind, row.target_id, pdf, signed, "remote")
    async with services.uow() as uow:
        done = await uow.session.get(SigningSession, row.id, with_for_update=True)
        if done is not None:
            done.status, done.completed_at = "completed", utcnow()
            done.state, done.ticket_hash = b"{}", None
        await uow.commit()
    return out


async def cancel_session(services: Services, actor: Actor, session_id: str) -> None:
    """DELETE /api/signing-sessions/{id}: the signer gives up; the ticket stops working."""
    async with services.uow() as uow:
        row = await uow.session.get(SigningSession, session_id[:40], with_for_update=True)
        if row is None or row.user_id != actor.user_id:
            raise NotFound("no such signing session")
        if row.status != "pending":
            raise Conflict("this signing session is already completed", code="session_done")
        row.status, row.completed_at = "cancelled", utcnow()
        row.state, row.ticket_hash = b"{}", None
        await uow.audit(actor.user_id, "signing_session.cancel", f"{row.kind}:{row.target_id}")
        await uow.commit()
