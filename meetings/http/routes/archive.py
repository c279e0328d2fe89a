"""HTTP routes of resolutions, minutes, signing and the archive (docs/features/archive.md,
"Resolutions", "Minutes", "Signing", "Archive").

Thin: each handler parses the request and calls one service function. The public routes
(`/api/public/...`, the sitemap) are in `public_verify.py` and `public_site.py` and need no
login.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from meetings.domain.errors import InvalidInput, Unauthenticated
from meetings.http.api import Api, Call
from meetings.http.auth import bearer_token, vouch
from meetings.http.pdf_files import pdf_response
from meetings.http.routes import public_site, public_verify
from meetings.http.routes.accounts import client_ip
from meetings.http.uploads import pdf_body
from meetings.services.archive import check as archive_check
from meetings.services.archive import inbox, minutes, resolutions, signing_sessions
from meetings.services.archive import records as archive
from meetings.services.archive.records import ArchiveOptions
from meetings.services.archive.resolutions import DraftUpdate
from meetings.services.archive.signing_keys import start_signing, stop_signing
from meetings.services.archive.signing_sessions import RemoteSignature, SignWithKey, StartSession
from meetings.services.archive.targets import Kind
from meetings.services.context import Actor


def _flag(call: Call, name: str) -> bool | None:
    raw = call.request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise InvalidInput(f"query parameter {name!r} is true or false", code="bad_query")


# -- resolutions --------------------------------------------------------------------------------


async def create_draft(call: Call) -> dict[str, Any]:
    meeting_id = call.int_param("meeting_id")
    public = _flag(call, "public")
    agenda_item_id, poll_id = call.query_int("agenda_item_id"), call.query_int("poll_id")
    await resolutions.check_draft(call.services, call.me, meeting_id)  # before the body
    async with pdf_body(call) as upload:
        return await resolutions.create_draft(
            call.services,
            call.me,
            meeting_id,
            upload.source,
            title=call.request.query_params.get("title", ""),
            filename=upload.filename,
            agenda_item_id=agenda_item_id,
            poll_id=poll_id,
            public=True if public is None else public,
        )


async def list_resolutions(call: Call) -> list[dict[str, Any]]:
    return await resolutions.list_resolutions(call.services, call.me, call.int_param("meeting_id"))


async def show_resolution(call: Call) -> dict[str, Any]:
    return await resolutions.show_resolution(call.services, call.me, call.int_param("target_id"))


async def update_resolution(call: Call) -> dict[str, Any]:
    return await resolutions.update_draft(
        call.services, call.me, call.int_param("target_id"), call.body
    )


async def generate_resolution(call: Call) -> dict[str, Any]:
    return await resolutions.generate(call.services, call.me, call.int_param("target_id"))


# -- minutes ------------------------------------------------------------------------------------


async def generate_minutes(call: Call) -> dict[str, Any]:
    return await minutes.generate_minutes(call.services, call.me, call.int_param("meeting_id"))


async def list_minutes(call: Call) -> list[dict[str, Any]]:
    return await inbox.list_minutes(call.services, call.me, call.int_param("meeting_id"))


async def signing_inbox(call: Call) -> dict[str, Any]:
    return await inbox.signing_inbox(call.services, call.me)


async def show_minutes(call: Call) -> dict[str, Any]:
    return await minutes.show_minutes(call.services, call.me, call.int_param("target_id"))


# -- signing and archiving, the same for both kinds ----------------------------------------------


def _for(kind: Kind) -> list[Api]:
    base = f"/api/{'resolutions' if kind == 'resolution' else 'minutes'}/{{target_id:int}}"
    tag = "archive"

    async def sign(call: Call) -> dict[str, Any]:
        return await signing_sessions.sign_with_server_key(
            call.services, call.me, kind, call.int_param("target_id"),
            reauth=(call.body, client_ip(call)),
        )  # fmt: skip

    async def start(call: Call) -> dict[str, Any]:
        return await signing_sessions.start_session(
            call.services, call.me, kind, call.int_param("target_id"), call.body
        )

    async def do_archive(call: Call) -> dict[str, Any]:
        options = ArchiveOptions(publish=_flag(call, "publish"))
        return await archive.archive(
            call.services, call.me, kind, call.int_param("target_id"), options
        )

    async def file(call: Call) -> Response:
        target = await archive.source_of(call.services, call.me, kind, call.int_param("target_id"))
        which = call.request.query_params.get("which", "signed")
        sha = archive.file_sha(target, which)
        return await pdf_response(call.services, sha, f"{kind}-{target.id}-{which}.pdf")

    return [
        Api("POST", base + "/sign", sign,
            f"The chair signs the {kind} with the server's key; body: the chair's password "
            "typed again (403 reauth_failed when wrong, throttled like login)", body=SignWithKey,
            tag=tag),
        Api("POST", base + "/signing-sessions", start,
            f"Prepare the {kind} for the chair's own token (remote signing)", body=StartSession,
            status=201, tag=tag),
        Api("POST", base + "/archive", do_archive,
            f"Archive the signed {kind} (write-once; B-LTA); ?publish=true|false", status=201,
            tag=tag, query=("publish",)),
        Api("GET", base + "/file", file, "?which=draft|generated|signed", tag=tag,
            query=("which",)),
    ]  # fmt: skip


async def _signer(call: Call, sid: str) -> Actor:
    """The caller (login) or, failing that, the signer whose ticket for THIS session is given."""
    if call.actor is not None:
        return call.actor
    ticket = bearer_token(call.request) or ""
    actor = await signing_sessions.actor_for_ticket(call.services, sid, ticket)
    if actor is None:
        raise Unauthenticated("log in first, or give this signing session's ticket")
    vouch(call.request, ticket)
    return actor


async def session_info(call: Call) -> dict[str, Any]:
    sid = str(call.request.path_params["session_id"])
    return await signing_sessions.session_info(call.services, await _signer(call, sid), sid)


async def session_signature(call: Call) -> dict[str, Any]:
    sid = str(call.request.path_params["session_id"])
    actor = await _signer(call, sid)
    return await signing_sessions.complete_session(call.services, actor, sid, call.body)


async def cancel_session(call: Call) -> None:
    sid = str(call.request.path_params["session_id"])
    await signing_sessions.cancel_session(call.services, call.me, sid)


# -- the archive (staff) ------------------------------------------------------------------------


async def list_records(call: Call) -> list[dict[str, Any]]:
    return await archive.list_records(call.services, call.me, call.query_int("council_id"))


async def record_file(call: Call) -> Response:
    record = await archive.staff_record(call.services, call.me, call.int_param("record_id"))
    return await pdf_response(call.services, record.sha256, f"archive-{record.id}.pdf")


async def publish(call: Call) -> dict[str, Any]:
    return await archive.publish(call.services, call.me, call.int_param("record_id"))


async def export(call: Call) -> Response:
    data = await archive_check.export_for(call.services, call.me, call.query_int("council_id"))
    return Response(
        data,
        media_type="application/zip",
        headers={
            "content-disposition": 'attachment; filename="quorum-archive.zip"',
            "cache-control": "private, no-store",
        },
    )


R = "/api/resolutions/{target_id:int}"
M = "/api/minutes/{target_id:int}"
S = "/api/signing-sessions/{session_id:str}"
A = "/api/archive/{record_id:int}"
ROUTES: list[Api] = [
    Api("POST", "/api/meetings/{meeting_id:int}/resolutions", create_draft,
        "Upload a draft resolution (PDF body; secretariat); query: title, agenda_item_id, "
        "poll_id, public, filename", status=201, tag="archive", raw_body="application/pdf",
        query=("title", "agenda_item_id", "poll_id", "public", "filename")),
    Api("GET", "/api/meetings/{meeting_id:int}/resolutions", list_resolutions,
        "Resolutions of a meeting", tag="archive"),
    Api("GET", R, show_resolution, "One resolution", tag="archive"),
    Api("PATCH", R, update_resolution, "Change a draft: title, poll, agenda item, public",
        body=DraftUpdate, tag="archive"),
    Api("POST", R + "/generate", generate_resolution,
        "Number the adopted resolution and add its certification page (secretariat)",
        tag="archive"),
    *_for("resolution"),
    Api("POST", "/api/meetings/{meeting_id:int}/minutes", generate_minutes,
        "Generate the minutes of a sitting (secretariat)", status=201, tag="archive"),
    Api("GET", "/api/meetings/{meeting_id:int}/minutes", list_minutes,
        "Minutes generated for a sitting", tag="archive"),
    Api("GET", M, show_minutes, "One set of minutes", tag="archive"),
    *_for("minutes"),
    Api("GET", "/api/signing/inbox", signing_inbox,
        "What awaits the caller's signature: generated resolutions and minutes of the councils "
        "they chair (all, for an administrator)", tag="archive"),
    Api("GET", S, session_info, "A remote signing session: the digest to sign (login, or the "
        "session's signing ticket as bearer)", tag="archive", ticket=True),
    Api("POST", S + "/signature", session_signature,
        "Return the token's signature; the server completes the PDF (login, or the session's "
        "signing ticket as bearer)", body=RemoteSignature, tag="archive", ticket=True),
    Api("DELETE", S, cancel_session,
        "Cancel a pending remote signing session; its ticket stops working", status=204,
        tag="archive"),
    Api("GET", "/api/archive", list_records, "Archive records (staff); ?council_id=",
        tag="archive", query=("council_id",)),
    Api("GET", "/api/archive/export", export,
        "Zip of archived PDFs + manifest.json + SHA256SUMS; ?council_id=", tag="archive",
        query=("council_id",)),
    Api("GET", A + "/file", record_file, "An archived file (staff)", tag="archive"),
    Api("POST", A + "/publish", publish, "Publish an archived record (secretariat)",
        tag="archive"),
    *public_site.ROUTES,
    *public_verify.ROUTES,
]  # fmt: skip

ON_START = [start_signing]
"""App start hooks: the signing pool (realtime/asgi.py runs them in the lifespan)."""
ON_STOP = [stop_signing]
