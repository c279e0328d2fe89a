"""Signing in the browser (docs/WEBAPP.md, "Signing and records"): the secretariat generates an
adopted resolution on the sitting's records page, the chair finds it in /sign, reads it, types a
wrong password (refused, in words), the right one, and it is signed; the signed PDF validates
and its certification page's QR code reads the public address. The remote-signing page shows
the exact `quorum sign-remote` command (with the session's one-time ticket), which the test runs
as pasted, on a SoftHSM2 token, and follows the session until the document is signed. In
portrait the sign action is a bar that opens a bottom sheet; a TSA that is down is said in words
and leaves the document signable.

The server signs with the test PKI (tests/support/pki_services.py: chair and seal PKCS#12, a
TSA and OCSP on loopback), set through the settings of a server of the test's own.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.async_api import Page, expect

from meetings.documents.signing.validate import verify_pdf_bytes
from realtime.client import QuorumClient
from tests.conftest import need
from tests.e2e.conftest import PageFactory, WebApp, format_violations
from tests.integration.archive.conftest import make_draft
from tests.integration.archive.test_sign_reauth_qr import closed_port_url
from tests.support.pki import TEST_PASSPHRASE, create_softhsm_token, softhsm_module
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
    # the refusal follows a language switch, and back
    await chair.get_by_role("button", name="English", exact=True).click()
    await expect(alert).to_have_text("Wrong password. The document was not signed.")
    await chair.get_by_role("button", name="Tiếng Việt", exact=True).click()
    await expect(alert).to_have_text("Mật khẩu không đúng. Văn bản chưa được ký.")
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


async def generated_resolution(app: WebApp, title: str) -> int:
    """An adopted resolution, uploaded and generated by the secretariat: awaiting the chair."""
    poll_id = await adopted_poll(app, f"Thông qua {title}")
    status, draft, _ = await app.http(
        "POST", f"/api/meetings/{app.meeting_id}/resolutions",
        token=await app.token(app.secretary), data=make_draft(title),
        params={"title": title, "poll_id": str(poll_id)},
        headers={"content-type": "application/pdf"},
    )  # fmt: skip
    assert status == 201, draft
    await call(app, "POST", f"/api/resolutions/{draft['id']}/generate", app.secretary)
    return int(draft["id"])


def run_copied_command(command: str, pin: str) -> subprocess.CompletedProcess[str]:
    """The command as the chair pastes it into a shell; the token PIN typed at its prompt.

    The venv's `quorum` comes first on PATH (the chair's installed client); a new session has no
    terminal, so the PIN prompt reads standard input."""
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}"}
    env.pop("QUORUM_TOKEN", None)
    return subprocess.run(
        ["bash", "-c", command], input=pin + "\n", capture_output=True, text=True,
        timeout=180, env=env, start_new_session=True,
    )  # fmt: skip


async def test_remote_signing_with_the_real_command_copied_from_the_page(
    signing_app: WebApp,
    pki_services: TestServices,
    new_page: PageFactory,
    axe: Any,
    shot: Any,
    tmp_path: Path,
) -> None:
    """Portrait: the bar at the bottom opens the signing sheet; the chair starts a session,
    copies the command (it carries the session's one-time ticket), runs the real
    `quorum sign-remote` on a SoftHSM2 token, and the page shows the document signed."""
    need("SoftHSM2", softhsm_module() is not None, "apt-get install softhsm2")
    app = signing_app
    pki = pki_services.pki
    token = await asyncio.to_thread(create_softhsm_token, tmp_path / "softhsm", pki.chair)
    rid = await generated_resolution(app, "Nghị quyết ký bằng token")

    page = await new_page(app.chair, PORTRAIT, path=f"/sign/resolution/{rid}", app=app)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await expect(page.get_by_role("img", name="Trang 1 / 2")).to_be_visible()
    # the sign action is in view at once, without scrolling past the pages
    open_sheet = page.get_by_role("button", name="Ký văn bản…")
    await expect(open_sheet).to_be_in_viewport()
    await expect(open_sheet).to_have_attribute("aria-expanded", "false")
    await expect(page.get_by_label("Mật khẩu của bạn")).to_be_hidden()
    await open_sheet.click()
    await expect(open_sheet).to_have_attribute("aria-expanded", "true")
    await expect(page.get_by_role("heading", name="Ký số văn bản", exact=True)).to_be_focused()
    await expect(page.get_by_label("Mật khẩu của bạn")).to_be_in_viewport()
    await page.get_by_label("Chứng thư số của khóa trên token").set_input_files(
        str(pki.chair.cert_path)
    )
    await page.get_by_label("Đường dẫn mô-đun PKCS#11 của token").fill(token.module_path)
    await page.get_by_label("Nhãn token").fill(token.token_label)
    await page.get_by_label("Nhãn khóa").fill(token.key_label)
    await page.get_by_role("button", name="Tạo phiên ký").click()
    command = page.get_by_test_id("remote-command")
    await expect(command).to_contain_text("quorum sign-remote")
    await page.get_by_role("button", name="Sao chép lệnh").click()
    await expect(page.get_by_text("Đã sao chép lệnh")).to_be_visible()
    copied = str(await page.evaluate("() => navigator.clipboard.readText()"))
    assert copied == await command.inner_text()
    found = re.fullmatch(
        r" QUORUM_SIGNING_TICKET=(qst_[\w-]+) quorum sign-remote --url (\S+) --session (\w+) "
        r"--pkcs11-module (\S+) --token-label (\S+) --key-label (\S+)",
        copied,
    )
    assert found, copied
    ticket, url = found.group(1), found.group(2)
    assert url == app.base_url and found.group(4) == token.module_path
    # the ticket is not a login: it opens nothing but its session
    status, _, _ = await app.http("GET", f"/api/resolutions/{rid}", token=ticket)
    assert status == 401
    await expect(page.get_by_text(re.compile("Đang chờ chữ ký từ token"))).to_be_visible()
    await check_axe(page, axe, "remote signing (vi)")
    await shot(page, "signing-remote-vi-waiting-portrait")
    await page.keyboard.press("Escape")  # the sheet closes, the focus back on its button
    await expect(open_sheet).to_be_focused()
    await shot(page, "signing-remote-vi-sheet-closed-portrait")

    signer = await asyncio.to_thread(run_copied_command, copied, token.pin or "")
    assert signer.returncode == 0, signer.stdout + signer.stderr
    assert "signed: the server has the signature" in signer.stdout
    await expect(page.get_by_test_id("sign-status")).to_contain_text("Đã ký số", timeout=15_000)
    await expect(page.get_by_role("button", name="Xem chữ ký")).to_be_visible()
    await page.get_by_role("button", name="Xem chữ ký").click()
    await expect(page.get_by_role("heading", name="Đã ký số thành công.")).to_be_visible()
    await shots(page, shot, "signing-remote-vi-signed")
    # used once: the same command again is refused
    again = await asyncio.to_thread(run_copied_command, copied, token.pin or "")
    assert again.returncode == 1 and "401" in again.stderr, again.stdout + again.stderr
    status, signed, _ = await app.http(
        "GET", f"/api/resolutions/{rid}/file?which=signed", token=await app.token(app.secretary)
    )
    report = await verify_pdf_bytes(
        signed, [str(pki.root_cert_path)], extra_certs=[str(pki.intermediate.cert_path)]
    )
    assert report.ok and [s.field_name for s in report.signatures] == ["Chair", "Seal"]

    page_en = await new_page(app.chair, PORTRAIT, "en", path=f"/sign/resolution/{rid}", app=app)
    await expect(page_en.get_by_test_id("sign-status")).to_contain_text("Signed")
    await page_en.get_by_role("button", name="See the signatures").click()
    await check_axe(page_en, axe, "signed (en)")
    await shots(page_en, shot, "signing-remote-en-signed")
    assert new_page.errors(page) == [] and new_page.errors(page_en) == []


async def test_sheet_in_portrait_and_side_panel_in_landscape(
    signing_app: WebApp, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    """Both languages, both orientations: the sign action is reachable without scrolling."""
    app = signing_app
    rid = await generated_resolution(app, "Nghị quyết xem bố cục ký")
    for locale, open_name, password in (
        ("vi", "Ký văn bản…", "Mật khẩu của bạn"),
        ("en", "Sign…", "Your password"),
    ):
        page = await new_page(app.chair, PORTRAIT, locale, path=f"/sign/resolution/{rid}", app=app)
        await expect(page.locator("[data-testid=pdf-view] canvas[data-page='1']")).to_be_visible()
        await page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=pdf-view]')]"
            ".every(e => e.getAttribute('aria-busy') === 'false')"
        )
        button = page.get_by_role("button", name=open_name)
        await expect(button).to_be_in_viewport()
        await shot(page, f"signing-layout-{locale}-portrait")
        await button.focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_label(password)).to_be_in_viewport()
        await check_axe(page, axe, f"sheet open ({locale})")
        await shot(page, f"signing-layout-{locale}-portrait-sheet")
        await page.set_viewport_size({"width": LANDSCAPE[0], "height": LANDSCAPE[1]})
        await expect(button).to_be_hidden()  # beside the document: no bar, no sheet
        wide = await page.evaluate(
            "() => [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' +"
            " Math.round(e.getBoundingClientRect().right))"
        )
        assert wide == [], wide  # nothing runs off the right edge
        await expect(page.get_by_label(password)).to_be_in_viewport()
        await check_axe(page, axe, f"side panel ({locale})")
        await shot(page, f"signing-layout-{locale}-landscape")
        assert new_page.errors(page) == []


@pytest.fixture
async def tsa_down_app(
    webapp_factory: Callable[..., Awaitable[WebApp]], pki_services: TestServices
) -> WebApp:
    """Like `signing_app`, but QUORUM_TSA_URL is a closed loopback port: a TSA that is down."""
    pki = pki_services.pki
    passphrase = TEST_PASSPHRASE.decode()
    return await webapp_factory(
        signing_pkcs12=str(pki.chair.pkcs12_path),
        signing_passphrase=passphrase,
        seal_pkcs12=str(pki.seal.pkcs12_path),
        seal_passphrase=passphrase,
        signing_extra_certs=str(pki.intermediate.cert_path),
        tsa_url=closed_port_url(),
        trust_roots=str(pki.root_cert_path),
    )


async def test_tsa_down_is_said_in_words_and_nothing_is_signed(
    tsa_down_app: WebApp, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    app = tsa_down_app
    rid = await generated_resolution(app, "Nghị quyết ký khi máy chủ dấu thời gian ngừng")
    for locale, password_label, submit, words in (
        ("vi", "Mật khẩu của bạn", "Ký số văn bản",
         ("Máy chủ dấu thời gian (TSA) không phản hồi", "Văn bản chưa được ký")),
        ("en", "Your password", "Sign the document",
         ("The time-stamp server (TSA) did not answer", "The document was not signed")),
    ):  # fmt: skip
        page = await new_page(app.chair, LANDSCAPE, locale, path=f"/sign/resolution/{rid}", app=app)
        await page.get_by_label(password_label).fill(app.password)
        await page.get_by_role("button", name=submit).click()
        alert = page.locator("#sign-problem")
        for phrase in words:
            await expect(alert).to_contain_text(phrase, timeout=60_000)
        await expect(page.get_by_test_id("sign-status")).not_to_contain_text(
            "Đã ký số" if locale == "vi" else "Signed"
        )
        # still signable: the form is there, enabled, and the password may be typed again
        await expect(page.get_by_role("button", name=submit)).to_be_enabled()
        await check_axe(page, axe, f"TSA down ({locale})")
        await shots(page, shot, f"signing-tsa-down-{locale}")
        # the refusal follows a switch to the other language
        other, other_words = (
            ("English", "The time-stamp server (TSA) did not answer")
            if locale == "vi"
            else ("Tiếng Việt", "Máy chủ dấu thời gian (TSA) không phản hồi")
        )
        await page.get_by_role("button", name=other, exact=True).click()
        await expect(alert).to_contain_text(other_words)
        assert new_page.errors(page) == []
    shown = await call(app, "GET", f"/api/resolutions/{rid}", app.secretary)
    assert shown["status"] == "generated" and shown["signed_sha256"] is None
    assert shown["signatures"] == []
    inbox = await call(app, "GET", "/api/signing/inbox", app.chair)
    assert [i["id"] for i in inbox["items"]] == [rid]
