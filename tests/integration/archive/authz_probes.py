"""Probes of the archive routes for the authorisation walk (docs/AUTHORIZATION.md, "Archive").

Each probe that changes something gets a fresh resolution, minutes, signing session or
archive record in the state the route needs, in the polls probes' open sitting. They are made
through the services as the local CLI does (`actor` None); since rendering minutes and signing
take a while, a generated or signed document is made once per world and each probe gets a copy
of its row (the same files). The server signs with a demo PKI written into its data folder on
first use (B-B: no time-stamp authority; the chair's key only, no seal).
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12

from meetings.services.accounts.auth import actor_for_token
from meetings.services.archive import minutes, resolutions, signing_sessions
from meetings.services.archive import records as archive
from meetings.services.archive.records import ArchiveOptions
from meetings.services.archive.signing_keys import (
    SigningRuntime,
    create_demo_pki,
    demo_pki,
    load_keys,
    runtime,
)
from meetings.services.archive.signing_sessions import StartSession
from meetings.services.archive.targets import Kind
from meetings.storage.tables_archive import MinutesDoc, Resolution
from tests.conftest import PASSWORD
from tests.integration.voting.authz_probes import new_poll, sitting
from tests.support.authz import Key, Probe, ProbeFactory
from tests.support.upload_pdfs import text_pdf
from tests.support.world import World

PDF = {"content-type": "application/pdf"}
R = "/api/resolutions/{target_id}"
MN = "/api/minutes/{target_id}"
S = "/api/signing-sessions/{session_id}"
A = "/api/archive/{record_id}"
SIGN = {"password": PASSWORD}
"""Every account of the world has this password; the sign routes ask for it again."""


def cache(w: World) -> dict[str, Any]:
    """What these probes made once in this world (kept on the world: ids of a world that is
    gone may be reused by the next one)."""
    found: dict[str, Any] = vars(w).setdefault("_archive_probes", {})
    return found


async def adopted_poll(w: World) -> int:
    """A closed motion that adopted (the chair's one yes), and the server's signing keys."""
    if "poll" not in cache(w):
        settings = w.server.settings
        create_demo_pki(Path(settings.data_dir), "Chủ tọa", "Hội đồng nhân dân")
        old = runtime(w.services)
        keys = dataclasses.replace(load_keys(settings), seal=None)
        w.services.subsystems["signing"] = SigningRuntime(keys)
        old.close()
        cache(w)["poll"] = await new_poll(w, "closed")
    return int(cache(w)["poll"])


async def new_draft(w: World) -> int:
    poll_id = await adopted_poll(w)
    draft = await resolutions.create_draft(
        w.services, None, await sitting(w), text_pdf("Du thao"), title="Nghị quyết thử",
        poll_id=poll_id, public=False,
    )  # fmt: skip
    return int(draft["id"])


async def target(w: World, kind: Kind, state: str = "generated") -> int:
    """A fresh resolution or minutes, `generated` or `signed`: a copy of a template's row."""
    key = f"template {kind} {state}"
    if key not in cache(w):
        if kind == "resolution":
            template = await new_draft(w)
            await resolutions.generate(w.services, None, template)
        else:
            await adopted_poll(w)
            template = int(
                (await minutes.generate_minutes(w.services, None, await sitting(w)))["id"]
            )
        if state == "signed":
            await signing_sessions.sign_with_server_key(w.services, None, kind, template)
        cache(w)[key] = template
    table: type[Resolution | MinutesDoc] = Resolution if kind == "resolution" else MinutesDoc
    async with w.services.uow() as uow:
        row = await uow.session.get(table, cache(w)[key])
        assert row is not None
        copy = table(**row.model_dump(exclude={"id", "year", "seq"}))  # seq: unique per year
        uow.session.add(copy)
        await uow.session.flush()
        assert copy.id is not None
        made = copy.id
        await uow.commit()
    return made


async def archived(w: World) -> int:
    """A fresh archive record (not published) of a signed resolution."""
    record = await archive.archive(
        w.services, None, "resolution", await target(w, "resolution", "signed")
    )
    return int(record["id"])


async def shared(w: World, what: str) -> Any:
    """Objects that probes only read: made once per world."""
    key = f"shared {what}"
    store = cache(w)
    if key not in store:
        if what == "published":
            record_id = await archived(w)
            await archive.publish(w.services, w.admin, record_id)
            store[key] = record_id
        elif what == "published_minutes":
            minutes_id = await shared(w, "minutes")
            await archive.archive(
                w.services, None, "minutes", minutes_id, ArchiveOptions(publish=True)
            )
            store[key] = minutes_id
        elif what == "published_source":  # the resolution's own id (the QR code's)
            record = await archive.public_record(w.services, await shared(w, "published"))
            store[key] = record.source_id
        elif what == "published_pdf":
            record = await archive.public_record(w.services, await shared(w, "published"))
            store[key] = w.services.blobs.read(record.sha256)
        elif what == "draft":
            store[key] = await new_draft(w)
        elif what == "session":
            store[key] = (await chair_session(w))["session_id"]
        else:  # "resolution" or "minutes", signed
            store[key] = await target(
                w, "resolution" if what == "resolution" else "minutes", "signed"
            )
    return store[key]


def _chair_key(w: World) -> tuple[rsa.RSAPrivateKey, str]:
    found = demo_pki(Path(w.server.settings.data_dir))
    assert found is not None and found.chair.passphrase is not None
    key, cert, _ = pkcs12.load_key_and_certificates(
        Path(found.chair.path).read_bytes(), found.chair.passphrase
    )
    assert isinstance(key, rsa.RSAPrivateKey) and cert is not None
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


async def chair_session(w: World) -> dict[str, Any]:
    """A remote signing session the chair started on fresh generated minutes."""
    chair = await actor_for_token(w.services, w.tokens["chair"])
    assert chair is not None
    _key, cert = _chair_key(w)
    return await signing_sessions.start_session(
        w.services, chair, "minutes", await target(w, "minutes"), StartSession(certificate_pem=cert)
    )


# -- probes -------------------------------------------------------------------------------------


async def upload_draft(w: World, role: str) -> Probe:
    await adopted_poll(w)
    path = f"/api/meetings/{await sitting(w)}/resolutions?title=Dự+thảo"
    return Probe(path, data=text_pdf("Du thao"), headers=PDF)


def on_sitting(suffix: str) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        await adopted_poll(w)
        return Probe(f"/api/meetings/{await sitting(w)}{suffix}")

    return probe


def on_target(kind: Kind, state: str, suffix: str = "", json: object = None) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        base = "resolutions" if kind == "resolution" else "minutes"
        return Probe(f"/api/{base}/{await target(w, kind, state)}{suffix}", json=json)

    return probe


def on_shared(what: str, path: str, json: object = None) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(path.format(await shared(w, what)), json=json, expect_json=False)

    return probe


def on_draft(suffix: str = "", json: object = None) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(f"/api/resolutions/{await new_draft(w)}{suffix}", json=json)

    return probe


def start_session(kind: Kind) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        base = "resolutions" if kind == "resolution" else "minutes"
        _key, cert = _chair_key(w)
        path = f"/api/{base}/{await target(w, kind)}/signing-sessions"
        return Probe(path, json={"certificate_pem": cert})

    return probe


async def session_signature(w: World, role: str) -> Probe:
    """The chair's token signature of the session's digest (as `quorum sign-remote` makes it)."""
    started = await chair_session(w)
    body = await session_signature_for(w, started)
    return Probe(f"/api/signing-sessions/{started['session_id']}/signature", json=body)


async def session_signature_for(w: World, started: dict[str, Any]) -> dict[str, str]:
    key, cert = _chair_key(w)
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[
        started["digest_algorithm"].lower().replace("-", "")
    ]
    digest = base64.b64decode(started["digest_b64"])
    signature = key.sign(digest, padding.PKCS1v15(), utils.Prehashed(algorithm))
    return {"signature_b64": base64.b64encode(signature).decode(), "certificate_pem": cert}


def with_ticket(suffix: str = "", whose: str = "own", sign: bool = False) -> ProbeFactory:
    """A fresh session's signing ticket in place of the role's token (docs/SECURITY.md,
    "Signing tickets"): `own` on its own session, `other` on another session of the chair."""

    async def probe(w: World, role: str) -> Probe:
        started = await chair_session(w)
        target = started if whose == "own" else await chair_session(w)
        path = f"/api/signing-sessions/{target['session_id']}{suffix}"
        body = (await session_signature_for(w, target)) if sign else None
        return Probe(path, json=body, token=started["ticket"])

    return probe


def ticket_elsewhere(path: str, json: object = None) -> ProbeFactory:
    """A live ticket on a route that is not its session's: no credential at all."""

    async def probe(w: World, role: str) -> Probe:
        started = await chair_session(w)
        rid = await target(w, "resolution")
        return Probe(path.format(rid), json=json, token=started["ticket"])

    return probe


async def cancel(w: World, role: str) -> Probe:
    return Probe(f"/api/signing-sessions/{(await chair_session(w))['session_id']}")


async def inbox(w: World, role: str) -> Probe:
    await target(w, "resolution")
    return Probe("/api/signing/inbox")


async def list_archive(w: World, role: str) -> Probe:
    await shared(w, "published")
    return Probe("/api/archive")


async def export(w: World, role: str) -> Probe:
    await shared(w, "published")
    return Probe("/api/archive/export", expect_json=False)


async def publish(w: World, role: str) -> Probe:
    return Probe(f"/api/archive/{await archived(w)}/publish")


async def public_list(w: World, role: str) -> Probe:
    await shared(w, "published")
    return Probe("/api/public/resolutions?q=nghi+quyet")


async def verify(w: World, role: str) -> Probe:
    return Probe("/api/public/verify", data=await shared(w, "published_pdf"), headers=PDF)


def fixed(path: str) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(path, expect_json=False)

    return probe


def on_council(suffix: str) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        await shared(w, "published")
        return Probe(f"/api/public/councils/{w.council_id}{suffix}")

    return probe


PR = "/api/public/resolutions/{resolution_id}"
PM = "/api/public/minutes/{minutes_id}"
PC = "/api/public/councils/{council_id}"

PROBES: dict[Key, ProbeFactory] = {
    ("POST", "/api/meetings/{meeting_id}/resolutions", ""): upload_draft,
    ("GET", "/api/meetings/{meeting_id}/resolutions", ""): on_sitting("/resolutions"),
    ("GET", R, ""): on_shared("draft", "/api/resolutions/{}"),
    ("PATCH", R, ""): on_draft(json={"title": "Nghị quyết đã sửa"}),
    ("POST", R + "/generate", ""): on_draft("/generate"),
    ("POST", R + "/sign", ""): on_target("resolution", "generated", "/sign", SIGN),
    ("POST", R + "/signing-sessions", ""): start_session("resolution"),
    ("POST", R + "/archive", ""): on_target("resolution", "signed", "/archive"),
    ("GET", R + "/file", ""): on_shared("resolution", "/api/resolutions/{}/file?which=signed"),
    ("POST", "/api/meetings/{meeting_id}/minutes", ""): on_sitting("/minutes"),
    ("GET", "/api/meetings/{meeting_id}/minutes", ""): on_sitting("/minutes"),
    ("GET", "/api/signing/inbox", ""): inbox,
    ("GET", MN, ""): on_shared("minutes", "/api/minutes/{}"),
    ("POST", MN + "/sign", ""): on_target("minutes", "generated", "/sign", SIGN),
    ("POST", MN + "/signing-sessions", ""): start_session("minutes"),
    ("POST", MN + "/archive", ""): on_target("minutes", "signed", "/archive"),
    ("GET", MN + "/file", ""): on_shared("minutes", "/api/minutes/{}/file?which=signed"),
    ("GET", S, ""): on_shared("session", "/api/signing-sessions/{}"),
    ("POST", S + "/signature", ""): session_signature,
    ("GET", S, "the session's ticket"): with_ticket(),
    ("GET", S, "another session's ticket"): with_ticket(whose="other"),
    ("POST", S + "/signature", "the session's ticket"): with_ticket("/signature", sign=True),
    ("POST", S + "/signature", "another session's ticket"): with_ticket(
        "/signature", whose="other", sign=True
    ),
    ("DELETE", S, ""): cancel,
    ("DELETE", S, "the session's ticket"): with_ticket(),
    ("GET", R, "a signing ticket"): ticket_elsewhere("/api/resolutions/{}"),
    ("POST", R + "/sign", "a signing ticket"): ticket_elsewhere("/api/resolutions/{}/sign", SIGN),
    ("GET", "/api/signing/inbox", "a signing ticket"): ticket_elsewhere("/api/signing/inbox"),
    ("GET", "/api/archive", ""): list_archive,
    ("GET", "/api/archive/export", ""): export,
    ("GET", A + "/file", ""): on_shared("published", "/api/archive/{}/file"),
    ("POST", A + "/publish", ""): publish,
    ("GET", "/api/public/resolutions", ""): public_list,
    ("GET", "/api/public/resolutions/{record_id}/file", ""): on_shared(
        "published", "/api/public/resolutions/{}/file"
    ),
    ("POST", "/api/public/verify", ""): verify,
    ("GET", "/api/public/councils", ""): on_shared("published", "/api/public/councils"),
    ("GET", PR + "/record", ""): on_shared("published_source", "/api/public/resolutions/{}/record"),
    ("GET", PM + "/record", ""): on_shared("published_minutes", "/api/public/minutes/{}/record"),
    ("GET", PM + "/file", ""): on_shared("published_minutes", "/api/public/minutes/{}/file"),
    ("GET", PC + "/resolutions.json", ""): on_council("/resolutions.json"),
    ("GET", PC + "/vote-events.json", ""): on_council("/vote-events.json"),
    ("GET", "/sitemap.xml", ""): on_shared("published", "/sitemap.xml"),
    ("GET", "/sitemap-{page}.xml", ""): fixed("/sitemap-1.xml"),
    ("GET", "/robots.txt", ""): fixed("/robots.txt"),
}
