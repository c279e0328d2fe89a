"""The one-time signing ticket of a remote signing session (docs/SECURITY.md, "Signing
tickets"; docs/AUTHORIZATION.md, "Archive"): it opens its own session's two routes and
nothing else, is stored hashed, stops working when the session completes, is cancelled or
expires, and the login-token path keeps working."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import text

from meetings.documents.signing.remote_cli import Refused, check_answer
from meetings.services.archive.signing_keys import runtime
from meetings.storage.tables_archive import SigningSession
from tests.conftest import http_session
from tests.integration.archive.conftest import Flow
from tests.integration.archive.test_sign_reauth_qr import (
    closed_port_url,
    generated,
    signing_with,
)
from tests.support.authz import app_routes
from tests.support.pki import TEST_PASSPHRASE

ALGORITHMS = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
TICKET_ROUTES = {
    ("GET", "/api/signing-sessions/{session_id}"),
    ("POST", "/api/signing-sessions/{session_id}/signature"),
}


def chair_key(flow: Flow) -> tuple[rsa.RSAPrivateKey, str]:
    key, cert, _ = pkcs12.load_key_and_certificates(
        Path(flow.pki.chair.pkcs12_path).read_bytes(), TEST_PASSPHRASE
    )
    assert isinstance(key, rsa.RSAPrivateKey) and cert is not None
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


async def start(flow: Flow, rid: int) -> dict[str, Any]:
    _key, cert = chair_key(flow)
    return dict(
        await flow.call(
            "POST", f"/api/resolutions/{rid}/signing-sessions", flow.chair_token,
            json={"certificate_pem": cert},
        )
    )  # fmt: skip


def signature(flow: Flow, info: dict[str, Any]) -> dict[str, str]:
    """What `quorum sign-remote` posts: the digest signed with the chair's key."""
    key, cert = chair_key(flow)
    algorithm = ALGORITHMS[info["digest_algorithm"].lower().replace("-", "")]
    raw = key.sign(
        base64.b64decode(info["digest_b64"]), padding.PKCS1v15(), utils.Prehashed(algorithm)
    )
    return {"signature_b64": base64.b64encode(raw).decode(), "certificate_pem": cert}


async def test_ticket_signs_its_own_session_once(flow: Flow) -> None:
    rid = await generated(flow, "Nghị quyết ký bằng vé ký một lần")
    other = await generated(flow, "Nghị quyết khác")
    started, elsewhere = await start(flow, rid), await start(flow, other)
    ticket, sid = started["ticket"], started["session_id"]
    assert ticket.startswith("qst_") and len(ticket) > 40 and ticket != elsewhere["ticket"]

    # stored hashed only: the ticket is in no column of the row
    async with flow.server.services.db.reading() as session:
        row = await session.get(SigningSession, sid)
        assert row is not None and row.ticket_hash and ticket not in repr(row.model_dump())

    http = flow.server.http
    status, info, _ = await http("GET", f"/api/signing-sessions/{sid}", token=ticket)
    assert status == 200 and info["digest_b64"] == started["digest_b64"], info
    # another session's ticket, a mangled ticket, no ticket: refused
    for bad in (elsewhere["ticket"], ticket[:-2] + "xx", None):
        status, body, _ = await http("GET", f"/api/signing-sessions/{sid}", token=bad)
        assert status == 401 and body["error"]["code"] == "unauthenticated", (bad, body)
    status, _, _ = await http(
        "GET", f"/api/signing-sessions/{elsewhere['session_id']}", token=ticket
    )
    assert status == 401
    status, _, _ = await http(
        "POST", f"/api/signing-sessions/{elsewhere['session_id']}/signature", token=ticket,
        json=signature(flow, elsewhere),
    )  # fmt: skip
    assert status == 401

    status, done, _ = await http(
        "POST", f"/api/signing-sessions/{sid}/signature", token=ticket, json=signature(flow, info)
    )
    assert status == 200 and done["status"] == "signed", done
    assert [s["field"] for s in done["signatures"]] == ["Chair", "Seal"]
    # single use: after completion the ticket opens nothing, the session's login path says done
    for method, path in (("GET", ""), ("POST", "/signature")):
        status, body, _ = await http(
            method, f"/api/signing-sessions/{sid}{path}", token=ticket, json={"signature_b64": "AA"}
        )
        assert status == 401, body
    status, body, _ = await http("GET", f"/api/signing-sessions/{sid}", token=flow.chair_token)
    assert status == 409 and body["error"]["code"] == "session_done"
    # the other session still works with the chair's login token (the API users' path)
    status, body, _ = await http(
        "GET", f"/api/signing-sessions/{elsewhere['session_id']}", token=flow.chair_token
    )
    assert status == 200, body


async def test_ticket_expires_and_cancel_revokes_it(flow: Flow) -> None:
    rid = await generated(flow, "Nghị quyết có phiên ký hết hạn")
    http = flow.server.http
    expiring, cancelled = await start(flow, rid), await start(flow, rid)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    async with flow.server.services.db.writer() as session:
        await session.execute(
            text("UPDATE signing_sessions SET expires_at = :t WHERE id = :id"),
            {"t": past.replace(tzinfo=None), "id": expiring["session_id"]},
        )
        await session.commit()
    status, _, _ = await http(
        "GET", f"/api/signing-sessions/{expiring['session_id']}", token=expiring["ticket"]
    )
    assert status == 401
    status, body, _ = await http(
        "GET", f"/api/signing-sessions/{expiring['session_id']}", token=flow.chair_token
    )
    assert status == 409 and body["error"]["code"] == "session_expired"

    sid, ticket = cancelled["session_id"], cancelled["ticket"]
    status, _, _ = await http("DELETE", f"/api/signing-sessions/{sid}", token=ticket)
    assert status == 401  # the ticket cannot even cancel its own session
    status, _, _ = await http("DELETE", f"/api/signing-sessions/{sid}", token=flow.secretary)
    assert status == 404  # nor can anyone but its signer
    status, _, _ = await http("DELETE", f"/api/signing-sessions/{sid}", token=flow.chair_token)
    assert status == 204
    status, _, _ = await http("GET", f"/api/signing-sessions/{sid}", token=ticket)
    assert status == 401
    status, body, _ = await http("GET", f"/api/signing-sessions/{sid}", token=flow.chair_token)
    assert status == 409 and body["error"]["code"] == "session_cancelled"
    status, body, _ = await http("DELETE", f"/api/signing-sessions/{sid}", token=flow.chair_token)
    assert status == 409
    signable = await flow.call("GET", f"/api/resolutions/{rid}")
    assert signable["status"] == "generated"


async def test_ticket_is_refused_on_every_other_route(flow: Flow) -> None:
    """Each route of the app, called with a live ticket, answers exactly what it answers with
    no credential at all (401 where a login is needed): the ticket is no login anywhere."""
    rid = await generated(flow, "Nghị quyết thử vé trên mọi đường dẫn")
    started = await start(flow, rid)
    ticket, sid = started["ticket"], started["session_id"]
    routes = sorted(await app_routes(flow.server.settings))
    assert len(routes) > 50 and TICKET_ROUTES <= set(routes)
    checked = 0
    for method, path in routes:
        if (method, path) in TICKET_ROUTES:
            continue
        concrete = re.sub(r"{session_id}", sid, path)
        concrete = re.sub(r"{\w+}", str(rid), concrete)
        kw: dict[str, Any] = {} if method in ("GET", "DELETE") else {"json": {}}
        with_ticket, _, _ = await flow.server.http(method, concrete, token=ticket, **kw)
        without, _, _ = await flow.server.http(method, concrete, **kw)
        assert with_ticket == without, (method, path, with_ticket, without)
        if without != 401:
            assert with_ticket < 500, (method, path, with_ticket)
        checked += 1
    assert checked >= 50
    # and the ticket still works on its own session afterwards (nothing above used it up)
    status, _, _ = await flow.server.http("GET", f"/api/signing-sessions/{sid}", token=ticket)
    assert status == 200


async def test_tsa_down_at_completion_is_the_servers_failure_and_retryable(flow: Flow) -> None:
    """A remote signature that is right but cannot be time-stamped (the TSA is down) is not the
    signer's mistake: `502 tsa_unavailable`, nothing stored, the session still pending, and the
    same signature completes it once the TSA answers again. A wrong signature stays `422
    bad_signature`."""
    services = flow.server.services
    rid = await generated(flow, "Nghị quyết ký từ xa khi máy chủ dấu thời gian ngừng")
    started = await start(flow, rid)
    sid = started["session_id"]
    http = flow.server.http
    _, info, _ = await http("GET", f"/api/signing-sessions/{sid}", token=flow.chair_token)
    signed_digest = signature(flow, info)

    wrong = dict(signed_digest, signature_b64=base64.b64encode(b"\x01" * 256).decode())
    status, body, _ = await http(
        "POST", f"/api/signing-sessions/{sid}/signature", token=flow.chair_token, json=wrong
    )
    assert status == 422 and body["error"]["code"] == "bad_signature", body

    keys = runtime(services).keys
    assert keys.tsa_url
    with signing_with(services, dataclasses.replace(keys, tsa_url=closed_port_url())):
        status, body, _ = await http(
            "POST", f"/api/signing-sessions/{sid}/signature", token=flow.chair_token,
            json=signed_digest,
        )  # fmt: skip
        # what `quorum sign-remote` makes of that answer: the server's words and a way on
        async with (
            http_session() as client,
            client.post(
                f"{flow.server.base_url}/api/signing-sessions/{sid}/signature",
                json=signed_digest, headers={"Authorization": f"Bearer {flow.chair_token}"},
            ) as resp,
        ):  # fmt: skip
            with pytest.raises(Refused) as refused:
                await check_answer(resp)
    assert status == 502 and body["error"]["code"] == "tsa_unavailable", body
    assert str(refused.value).startswith("the time-stamp authority did not answer"), refused
    assert str(refused.value).endswith(
        "[502 tsa_unavailable] (the server's side failed: run the same command again later)"
    ), refused
    shown = await flow.call("GET", f"/api/resolutions/{rid}")
    assert shown["status"] == "generated" and shown["signatures"] == []
    status, again, _ = await http("GET", f"/api/signing-sessions/{sid}", token=flow.chair_token)
    assert status == 200 and again["digest_b64"] == info["digest_b64"], again

    status, done, _ = await http(
        "POST", f"/api/signing-sessions/{sid}/signature", token=flow.chair_token,
        json=signed_digest,
    )  # fmt: skip
    assert status == 200 and done["status"] == "signed", done
    assert [s["field"] for s in done["signatures"]] == ["Chair", "Seal"]
