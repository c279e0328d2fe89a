"""Signing in the browser (docs/WEBAPP.md, "Signing and records"): the secretariat generates an
adopted resolution on the sitting's records page, the chair finds it in /sign, reads it, types a
wrong password (refused, in words), the right one, and it is signed; the signed PDF validates
and its certification page's QR code reads the public address. The remote-signing page shows
the exact `quorum sign-remote` command and follows the session until the document is signed.

The server signs with the test PKI (tests/support/pki_services.py: chair and seal PKCS#12, a
TSA and OCSP on loopback), set through the settings of a server of the test's own.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from playwright.async_api import Page, expect

from meetings.documents.signing.validate import verify_pdf_bytes
from realtime.client import QuorumClient
from tests.e2e.conftest import PageFactory, WebApp, format_violations
from tests.integration.archive.conftest import make_draft
from tests.support.pki import TEST_PASSPHRASE
from tests.support.pki_services import TestServices, start_test_services

LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)
TITLE = "Nghị quyết về kế hoạch đầu tư công năm 2027"


@pytest.fixture(scope="module")
def pki_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServices]:
    with start_test_services(tmp_path_factory.mktemp("e2e-pki")) as running:
        yield running


@pytest.fixture
async def signing_app(
    webapp_factory: Callable[..., Awaitable[WebApp]], pki_services: TestServices
) -> WebApp:
    """A server of the test's own that signs with the chair's and the seal's PKCS#12 keys,
    time-stamps with the loopback TSA and checks against the test root (B-LT)."""
    pki = pki_services.pki
    passphrase = TEST_PASSPHRASE.decode()
    return await webapp_factory(
        signing_pkcs12=str(pki.chair.pkcs12_path),
        signing_passphrase=passphrase,
        seal_pkcs12=str(pki.seal.pkcs12_path),
        seal_passphrase=passphrase,
        signing_extra_certs=str(pki.intermediate.cert_path),
        tsa_url=pki.tsa_url,
        trust_roots=str(pki.root_cert_path),
    )


async def check_axe(page: Page, axe: Any, what: str) -> None:
    violations = await axe(page)
    assert not violations, f"{what}:\n{format_violations(violations)}"


async def call(app: WebApp, method: str, path: str, user: str, **kw: Any) -> Any:
    status, body, _ = await app.http(method, path, token=await app.token(user), **kw)
    assert status < 300, (method, path, status, body)
    return body


async def adopted_poll(app: WebApp, title: str) -> int:
    """The sitting opened by the chair, every delegate present, a motion adopted (all yes)."""
    chair: QuorumClient = await app.client(app.chair)
    await chair.join(app.meeting_id)
    meeting = await call(app, "GET", f"/api/meetings/{app.meeting_id}", app.chair)
    if meeting["status"] != "open":
        await chair.command("meeting.open", {"meeting_id": app.meeting_id})
    delegates = [await app.client(name) for name in app.delegates]
    for client in delegates:
        await client.join(app.meeting_id)
        await client.command("attendance.check_in", {"meeting_id": app.meeting_id})
    ack = await chair.command(
        "poll.create",
        {"meeting_id": app.meeting_id, "kind": "motion", "title": title, "secret": False},
    )
    poll_id = int(ack["poll_id"])
    await chair.command("poll.open", {"poll_id": poll_id})
    await asyncio.gather(
        *(
            d.call("ballot.cast",
                   {"poll_id": poll_id, "choice": "yes", "idempotency_key": uuid.uuid4().hex})
            for d in delegates
        )
    )  # fmt: skip
    closed = await chair.command("poll.close", {"poll_id": poll_id})
    assert closed["poll"]["result"]["outcome"] == "adopted"
    return poll_id


def qr_codes(pdf: bytes, page: int = -1) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[page if page >= 0 else len(doc) + page].render(scale=150 / 72).to_pil()
    finally:
        doc.close()
    return [code.text for code in zxingcpp.read_barcodes(image)]


async def shots(page: Page, shot: Any, name: str) -> None:
    """Portrait then landscape (the page is left in landscape), once every PDF is drawn."""
    await page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=pdf-view]')]"
        ".every(e => e.getAttribute('aria-busy') === 'false')"
    )
    await page.set_viewport_size({"width": PORTRAIT[0], "height": PORTRAIT[1]})
    await shot(page, f"{name}-portrait", full_page=True)
    await page.set_viewport_size({"width": LANDSCAPE[0], "height": LANDSCAPE[1]})
    await shot(page, f"{name}-landscape", full_page=True)


async def test_secretary_generates_chair_signs_with_password(
    signing_app: WebApp,
    pki_services: TestServices,
    new_page: PageFactory,
    axe: Any,
    shot: Any,
    tmp_path: Path,
) -> None:
    app = signing_app
    poll_id = await adopted_poll(app, "Thông qua kế hoạch đầu tư công")

    # --- the secretariat: upload the draft, link the adopted vote, generate (send to the chair)
    records = f"/desk/meetings/{app.meeting_id}/records"
    sec = await new_page(app.secretary, LANDSCAPE, path=records, app=app)
    await expect(sec.get_by_role("heading", name="Biên bản và nghị quyết")).to_be_visible()
    draft = tmp_path / "du-thao.pdf"
    draft.write_bytes(make_draft(TITLE))
    await sec.get_by_label("Tên nghị quyết").fill(TITLE)
    await sec.get_by_label("Tệp dự thảo (PDF)").set_input_files(str(draft))
    await sec.locator("#draft-poll").select_option(str(poll_id))
    await sec.get_by_label("Công bố công khai sau khi lưu trữ").uncheck()  # published below
    await sec.get_by_role("button", name="Tải lên", exact=True).click()
    entry = sec.locator("li[data-resolution-id]").filter(has_text=TITLE)
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text("Dự thảo")
    await check_axe(sec, axe, "records (vi)")
    await shots(sec, shot, "signing-records-vi-draft")
    await entry.get_by_role("button", name="Lập nghị quyết và gửi chủ tọa ký").click()
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text("Chờ chủ tọa ký")
    rid = int(await entry.get_attribute("data-resolution-id") or 0)
    # the generated PDF is shown for review
    await expect(sec.get_by_test_id("pdf-view").locator("canvas[data-page='2']")).to_be_visible()
    await shots(sec, shot, "signing-records-vi-generated")

    # --- the chair: the inbox, in Vietnamese and English
    chair = await new_page(app.chair, PORTRAIT, path="/sign", app=app)
    await expect(chair.get_by_role("link", name="Ký văn bản")).to_be_visible()  # in the header
    item = chair.locator("li[data-kind=resolution]").filter(has_text=TITLE)
    await expect(item).to_contain_text("Nghị quyết số")
    await check_axe(chair, axe, "inbox (vi)")
    await shots(chair, shot, "signing-inbox-vi")
    chair_en = await new_page(app.chair, LANDSCAPE, "en", path="/sign", app=app)
    heading = chair_en.get_by_role("heading", name="Documents awaiting your signature")
    await expect(heading).to_be_visible()
    await expect(chair_en.get_by_role("link", name="To sign")).to_be_visible()
    await check_axe(chair_en, axe, "inbox (en)")
    await shots(chair_en, shot, "signing-inbox-en")

    # --- read, then a wrong password: refused, in words, nothing signed
    await item.get_by_role("link").click()
    await chair.wait_for_url(f"**/sign/resolution/{rid}")
    await expect(chair.get_by_role("img", name="Trang 2 / 2")).to_be_visible()
    await expect(chair.get_by_test_id("sign-status")).to_contain_text("Chờ chủ tọa ký")
    await check_axe(chair, axe, "sign page (vi)")
    await shots(chair, shot, "signing-doc-vi")
    password = chair.get_by_label("Mật khẩu của bạn")
    await password.fill("not-my-password")
    await chair.get_by_role("button", name="Ký số văn bản").click()
    alert = chair.locator("#sign-problem")
    await expect(alert).to_have_text("Mật khẩu không đúng. Văn bản chưa được ký.")
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(password).to_be_focused()
    await expect(password).to_have_value("")
    await shots(chair, shot, "signing-doc-vi-wrong-password")
    shown = await call(app, "GET", f"/api/resolutions/{rid}", app.secretary)
    assert shown["status"] == "generated" and shown["signed_sha256"] is None

    doc_en = await new_page(app.chair, LANDSCAPE, "en", path=f"/sign/resolution/{rid}", app=app)
    await expect(doc_en.get_by_role("img", name="Page 2 of 2")).to_be_visible()
    await doc_en.get_by_label("Your password").fill("still-wrong")
    await doc_en.get_by_role("button", name="Sign the document").click()
    await expect(doc_en.locator("#sign-problem")).to_have_text(
        "Wrong password. The document was not signed."
    )
    await check_axe(doc_en, axe, "sign page (en)")
    await shots(doc_en, shot, "signing-doc-en-wrong-password")

    # --- the right password: signed, shown, and the secretariat's page follows
    await password.fill(app.password)
    await chair.get_by_role("button", name="Ký số văn bản").click()
    await expect(chair.get_by_test_id("sign-status")).to_contain_text("Đã ký số", timeout=60_000)
    await expect(chair.get_by_role("heading", name="Đã ký số thành công.")).to_be_visible()
    await check_axe(chair, axe, "signed (vi)")
    await shots(chair, shot, "signing-doc-vi-signed")
    followed = entry.get_by_test_id("resolution-status")
    await expect(followed).to_contain_text("Đã ký số", timeout=15_000)

    # --- the signed file: valid (pyHanko), and its QR code reads the public address
    status, signed, _ = await app.http(
        "GET", f"/api/resolutions/{rid}/file?which=signed", token=await app.token(app.secretary)
    )
    assert status == 200
    pki = pki_services.pki
    report = await verify_pdf_bytes(
        signed, [str(pki.root_cert_path)], extra_certs=[str(pki.intermediate.cert_path)]
    )
    assert report.ok, report.summary()
    assert [s.field_name for s in report.signatures] == ["Chair", "Seal"]
    assert qr_codes(signed) == [f"{app.settings.public_url}/public/resolutions/{rid}"]
    inbox = await call(app, "GET", "/api/signing/inbox", app.chair)
    assert inbox["items"] == []

    # --- the secretariat archives it, finds it in the archive, publishes it, exports the zip
    await entry.get_by_role("button", name="Lưu trữ").click()
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text("Đã lưu trữ")
    await sec.goto("/desk/archive")
    record = sec.locator("li[data-record-id]").filter(has_text=TITLE)
    await expect(record).to_contain_text("Nghị quyết số 1/NQ-HĐND")
    await sec.get_by_label("Tìm theo số hoặc tên").fill("ke hoach dau tu")  # no diacritics
    await expect(record).to_be_visible()
    await sec.get_by_label("Tìm theo số hoặc tên").fill("giáo dục")
    await expect(record).to_have_count(0)
    await sec.get_by_label("Tìm theo số hoặc tên").fill("")
    await sec.get_by_label("Trạng thái công bố").select_option("no")
    await expect(record).to_be_visible()
    await check_axe(sec, axe, "archive (vi)")
    await shots(sec, shot, "signing-archive-vi")
    await record.get_by_role("button", name="Công bố").click()
    await expect(record).to_have_count(0)  # no longer "not published"
    await sec.get_by_label("Trạng thái công bố").select_option("yes")
    await expect(record).to_contain_text("Công bố lúc")
    public = await app.http("GET", "/api/public/resolutions")
    assert [r["title"] for r in public[1]["resolutions"]] == [TITLE]
    async with sec.expect_download() as download_info:
        await sec.get_by_role("button", name="Xuất toàn bộ (tệp ZIP)").click()
    download = await download_info.value
    saved = await download.path()
    names = await asyncio.to_thread(lambda: zipfile.ZipFile(saved).namelist())
    assert "manifest.json" in names and "SHA256SUMS" in names
    await expect(sec.get_by_text(re.compile("Đã xuất xong"))).to_be_visible()
    archive_en = await new_page(app.secretary, PORTRAIT, "en", path="/desk/archive", app=app)
    await expect(archive_en.locator("li[data-record-id]")).to_contain_text("Published at")
    await check_axe(archive_en, axe, "archive (en)")
    await shots(archive_en, shot, "signing-archive-en")
    for page in (sec, chair, chair_en, doc_en, archive_en):
        assert new_page.errors(page) == [], new_page.errors(page)


async def test_remote_signing_page_shows_the_command_and_follows_the_session(
    signing_app: WebApp, pki_services: TestServices, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    app = signing_app
    pki = pki_services.pki
    poll_id = await adopted_poll(app, "Thông qua nghị quyết ký bằng token")
    body = make_draft("Nghị quyết ký bằng token")
    status, draft, _ = await app.http(
        "POST", f"/api/meetings/{app.meeting_id}/resolutions",
        token=await app.token(app.secretary), data=body,
        params={"title": "Nghị quyết ký bằng token", "poll_id": str(poll_id)},
        headers={"content-type": "application/pdf"},
    )  # fmt: skip
    assert status == 201, draft
    rid = draft["id"]
    await call(app, "POST", f"/api/resolutions/{rid}/generate", app.secretary)

    page = await new_page(app.chair, LANDSCAPE, path=f"/sign/resolution/{rid}", app=app)
    await expect(page.get_by_role("img", name="Trang 2 / 2")).to_be_visible()
    await page.get_by_label("Chứng thư số của khóa trên token").set_input_files(
        str(pki.chair.cert_path)
    )
    await page.get_by_label("Đường dẫn mô-đun PKCS#11 của token").fill(
        "/usr/lib/softhsm/libsofthsm2.so"
    )
    await page.get_by_label("Nhãn token").fill("Chu tich")
    await page.get_by_label("Nhãn khóa").fill("chair")
    await page.get_by_role("button", name="Tạo phiên ký").click()
    command = page.get_by_test_id("remote-command")
    await expect(command).to_contain_text("quorum sign-remote")
    text = await command.inner_text()
    found = re.search(r"--session (\S+)", text)
    assert found, text
    session_id = found.group(1)
    assert text == (
        f"quorum sign-remote --url {app.base_url} --session {session_id} "
        "--pkcs11-module /usr/lib/softhsm/libsofthsm2.so --token-label 'Chu tich' "
        "--key-label chair"
    )
    await expect(page.get_by_text(re.compile("Đang chờ chữ ký từ token"))).to_be_visible()
    await check_axe(page, axe, "remote signing (vi)")
    await shots(page, shot, "signing-remote-vi-waiting")

    # what `quorum sign-remote` does: read the digest, sign it with the chair's key, post it
    token = await app.token(app.chair)
    status, info, _ = await app.http("GET", f"/api/signing-sessions/{session_id}", token=token)
    assert status == 200, info
    key = serialization.load_pem_private_key(pki.chair.key_path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[
        info["digest_algorithm"].lower().replace("-", "")
    ]
    signature = key.sign(
        base64.b64decode(info["digest_b64"]), padding.PKCS1v15(), utils.Prehashed(algorithm)
    )
    status, done, _ = await app.http(
        "POST", f"/api/signing-sessions/{session_id}/signature", token=token,
        json={"signature_b64": base64.b64encode(signature).decode(),
              "certificate_pem": pki.chair.cert_path.read_text()},
    )  # fmt: skip
    assert status == 200, done
    await expect(page.get_by_test_id("sign-status")).to_contain_text("Đã ký số", timeout=15_000)
    await expect(page.get_by_role("heading", name="Đã ký số thành công.")).to_be_visible()
    await shots(page, shot, "signing-remote-vi-signed")
    page_en = await new_page(app.chair, PORTRAIT, "en", path=f"/sign/resolution/{rid}", app=app)
    await expect(page_en.get_by_test_id("sign-status")).to_contain_text("Signed")
    await check_axe(page_en, axe, "signed (en)")
    await shots(page_en, shot, "signing-remote-en-signed")
    assert new_page.errors(page) == [] and new_page.errors(page_en) == []
