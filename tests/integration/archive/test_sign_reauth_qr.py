"""The QR code printed before signing, the password typed again to sign with the server's key,
the chair's inbox, and a failed signing that leaves nothing half-signed (docs/features/archive.md,
"Signing"; docs/features/signing.md, "Documents to sign")."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import Iterator

import pypdfium2 as pdfium
import zxingcpp

from meetings.documents.signing.validate import verify_pdf_bytes
from meetings.services.archive.signing_keys import SigningKeys, SigningRuntime, runtime
from meetings.services.context import Services
from tests.integration.archive.conftest import CHAIR_PASSWORD, Flow


def qr_codes(pdf: bytes, page: int = -1) -> list[str]:
    """The QR codes a reader finds on a page rendered at 150 dpi."""
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[page if page >= 0 else len(doc) + page].render(scale=150 / 72).to_pil()
    finally:
        doc.close()
    return [code.text for code in zxingcpp.read_barcodes(image)]


def closed_port_url() -> str:
    """A loopback address nothing listens on: a TSA that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


@contextlib.contextmanager
def signing_with(services: Services, keys: SigningKeys) -> Iterator[None]:
    """The server signs with `keys` (a broken TSA, say) inside the block, as before after it."""
    good = runtime(services)
    services.subsystems["signing"] = trial = SigningRuntime(keys)
    try:
        yield
    finally:
        trial.close()
        services.subsystems["signing"] = good


async def generated(flow: Flow, title: str) -> int:
    poll_id = await flow.adopted_poll(f"Thông qua {title}")
    draft = await flow.draft(poll_id, title)
    await flow.call("POST", f"/api/resolutions/{draft['id']}/generate")
    return int(draft["id"])


async def file(flow: Flow, rid: int, which: str) -> bytes:
    status, pdf, _ = await flow.server.http(
        "GET", f"/api/resolutions/{rid}/file?which={which}", token=flow.secretary
    )
    assert status == 200
    data: bytes = pdf
    return data


async def test_qr_code_links_to_public_page_and_is_signed(flow: Flow) -> None:
    rid = await generated(flow, "Nghị quyết về kế hoạch đầu tư công năm 2027")
    url = f"{flow.server.settings.public_url}/public/resolutions/{rid}"
    pdf = await file(flow, rid, "generated")
    assert qr_codes(pdf) == [url]
    assert qr_codes(pdf, 0) == []  # the draft's own page: no code

    await flow.call("POST", f"/api/resolutions/{rid}/sign", flow.chair_token, json=CHAIR_PASSWORD)
    signed = await file(flow, rid, "signed")
    assert signed.startswith(pdf)  # the code is in the signed bytes
    assert qr_codes(signed) == [url]
    pki = flow.pki
    report = await verify_pdf_bytes(
        signed, [str(pki.root_cert_path)], extra_certs=[str(pki.intermediate.cert_path)]
    )
    assert report.ok, report.summary()
    assert [s.field_name for s in report.signatures] == ["Chair", "Seal"]


async def test_minutes_carry_their_qr_code(flow: Flow) -> None:
    await flow.adopted_poll()
    made = await flow.call("POST", f"/api/meetings/{flow.meeting_id}/minutes")
    status, pdf, _ = await flow.server.http(
        "GET", f"/api/minutes/{made['id']}/file?which=generated", token=flow.secretary
    )
    assert status == 200
    url = f"{flow.server.settings.public_url}/public/minutes/{made['id']}"
    doc = pdfium.PdfDocument(pdf)
    pages = len(doc)
    doc.close()
    assert url in [code for page in range(pages) for code in qr_codes(pdf, page)]
    listed = await flow.call("GET", f"/api/meetings/{flow.meeting_id}/minutes")
    assert [m["id"] for m in listed] == [made["id"]]


async def test_password_typed_again_and_inbox(flow: Flow) -> None:
    server = flow.server
    rid = await generated(flow, "Nghị quyết về giáo dục năm 2027")
    inbox = await flow.call("GET", "/api/signing/inbox", flow.chair_token)
    assert [(i["kind"], i["id"]) for i in inbox["items"]] == [("resolution", rid)]
    assert inbox["items"][0]["label"] == "Nghị quyết số 1/NQ-HĐND"
    for user in ("secretary", "delegate001"):
        other = await server.http("GET", "/api/signing/inbox", token=await server.token(user))
        assert other[0] == 200 and other[1] == {"items": []}, user

    path = f"/api/resolutions/{rid}/sign"
    status, body, _ = await server.http("POST", path, token=flow.chair_token, json={})
    assert status == 422 and body["error"]["code"] == "validation"  # no password at all
    status, body, _ = await server.http(
        "POST", path, token=flow.chair_token, json={"password": "not-the-password"}
    )
    assert status == 403 and body["error"]["code"] == "reauth_failed", body
    shown = await flow.call("GET", f"/api/resolutions/{rid}")
    assert shown["status"] == "generated" and shown["signed_sha256"] is None
    # the secretariat's right password does not make them a signer
    status, body, _ = await server.http("POST", path, token=flow.secretary, json=CHAIR_PASSWORD)
    assert status == 403 and body["error"]["code"] == "forbidden"

    signed = await flow.call("POST", path, flow.chair_token, json=CHAIR_PASSWORD)
    assert signed["status"] == "signed"
    inbox = await flow.call("GET", "/api/signing/inbox", flow.chair_token)
    assert inbox["items"] == []


async def test_wrong_passwords_are_throttled_like_logins(flow: Flow) -> None:
    server = flow.server
    rid = await generated(flow, "Nghị quyết thử giới hạn")
    free = server.settings.login_attempts
    codes = []
    for _ in range(free + 1):
        status, body, _ = await server.http(
            "POST", f"/api/resolutions/{rid}/sign", token=flow.chair_token,
            json={"password": "guess"},
        )  # fmt: skip
        codes.append((status, body["error"]["code"]))
    assert codes[:free] == [(403, "reauth_failed")] * free
    assert codes[free] == (429, "rate_limited")


async def test_tsa_down_leaves_the_resolution_unsigned_and_retryable(flow: Flow) -> None:
    services = flow.server.services
    rid = await generated(flow, "Nghị quyết thử máy chủ dấu thời gian")
    keys = runtime(services).keys
    assert keys.chair is not None and keys.seal is not None
    down = closed_port_url()
    # the chair's signature is made, the seal's time-stamp fails: nothing may be kept
    broken_seal = dataclasses.replace(keys, seal=dataclasses.replace(keys.seal, tsa_url=down))
    for broken in (
        dataclasses.replace(keys, chair=dataclasses.replace(keys.chair, tsa_url=down)),
        broken_seal,
    ):
        with signing_with(services, broken):
            status, body, _ = await flow.server.http(
                "POST", f"/api/resolutions/{rid}/sign", token=flow.chair_token,
                json=CHAIR_PASSWORD,
            )  # fmt: skip
        assert status == 502 and body["error"]["code"] == "tsa_unavailable", body
        shown = await flow.call("GET", f"/api/resolutions/{rid}")
        assert shown["status"] == "generated" and shown["signed_sha256"] is None
        assert shown["signatures"] == []
    inbox = await flow.call("GET", "/api/signing/inbox", flow.chair_token)
    assert [i["id"] for i in inbox["items"]] == [rid]  # still waiting
    signed = await flow.call(
        "POST", f"/api/resolutions/{rid}/sign", flow.chair_token, json=CHAIR_PASSWORD
    )
    assert signed["status"] == "signed"
