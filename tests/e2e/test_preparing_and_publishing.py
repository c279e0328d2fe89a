"""Issue 13's acceptance test, as one story through the browser (docs/WEBAPP.md, "Secretariat
desk", "Signing and records", "The public site").

The secretary imports members from a CSV with one bad row (refused, the row named, nothing
saved), fixes it, creates a meeting, builds a nested agenda, uploads two PDFs (the encrypted one
refused in words) and publishes the meeting. The sitting: the chair opens it from the console
and puts a motion to adopt the resolution; the delegates vote through protocol clients; it
passes. The secretary uploads the draft resolution, links the poll and generates it; the chair
signs it in the browser with the password typed again; the secretary archives and publishes it.
A visitor with no account finds it by a word without its diacritics, opens its page and sees
the vote record and "valid"; the QR code of the signed PDF's certification page (rendered with
pypdfium2, decoded with zxing-cpp) opens that same page. The calendar feed parses with
`icalendar` and holds the meeting. axe-core runs over every view visited, in Vietnamese and
English; screenshots land in tests/e2e/artifacts/ (prefix `story-`).

The server signs with the test PKI (tests/support/pki_services.py) and its QUORUM_PUBLIC_URL is
its own address (`OWN_ADDRESS`), so the browser can follow the QR code and the feed link.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.async_api import Page, expect

from meetings.documents.signing.validate import verify_pdf_bytes
from tests.e2e.conftest import OWN_ADDRESS, PageFactory, WebApp, format_violations
from tests.integration.archive.conftest import make_draft
from tests.support.pki import TEST_PASSPHRASE
from tests.support.pki_services import TestServices, start_test_services
from tests.support.upload_pdfs import encrypted_pdf, text_pdf

pytestmark = pytest.mark.browser
expect.set_options(timeout=20_000)  # the 2-core machine is shared

LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)
MEETING = "Kỳ họp chuyên đề về trường học"
TITLE = "Nghị quyết về xây dựng trường học năm 2027"
MOTION = "Thông qua nghị quyết về xây dựng trường học"
BAD = (
    "\ufeffHọ và tên,Tên đăng nhập,Vai trò,Chức vụ,Email\r\n"
    "Nguyễn Thị Hằng,hang.nt,đại biểu,Ủy viên,hang@example.vn\r\n"
    "Trần Văn Đức,duc.tv,thị trưởng,,\r\n"
)
GOOD = BAD.replace("thị trưởng", "delegate")
ENGLISH = {"Tiếng Việt": "English", "English": "Tiếng Việt"}


@pytest.fixture(scope="module")
def pki_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServices]:
    with start_test_services(tmp_path_factory.mktemp("story-pki")) as running:
        yield running


@pytest.fixture
async def story_app(
    webapp_factory: Callable[..., Awaitable[WebApp]], pki_services: TestServices
) -> WebApp:
    """A server of the test's own: the chair's and the seal's keys, the loopback TSA, and public
    links (QR codes, the calendar feed) that point at this server."""
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
        public_url=OWN_ADDRESS,
    )


WIDER_THAN_SCREEN = """() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    return [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > width + 1)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`);
}"""


BANNERS = """() => [...document.querySelectorAll('header, [role=banner]')].filter((e) =>
    e.getAttribute('role') === 'banner' ||
    (!e.hasAttribute('role') && !e.closest('main, article, aside, nav, section'))).length"""


async def check_view(page: Page, axe: Any, shot: Any, name: str) -> None:
    """axe-core and a screenshot in the page's language, then in the other one (switched in the
    page, no reload), then back. Landmarks must not nest and the page has one h1."""
    assert await page.locator("main").count() == 1, f"{name}: one <main>"
    assert await page.locator("main main, main [role=main]").count() == 0, name
    assert await page.locator("h1").count() == 1, f"{name}: one h1"
    banners = await page.evaluate(BANNERS)
    assert banners <= 1, f"{name}: {banners} banner landmarks"
    for _ in range(2):
        lang = await page.evaluate("document.documentElement.lang")
        await expect(page.locator('[aria-busy="true"]')).to_have_count(0)
        wide = await page.evaluate(WIDER_THAN_SCREEN)
        assert not wide, f"{name} ({lang}) is wider than the screen: {wide}"
        violations = await axe(page)
        assert not violations, f"{name} ({lang}):\n{format_violations(violations)}"
        await shot(page, f"story-{name}-{lang}", full_page=True)
        current = "Tiếng Việt" if lang == "vi" else "English"
        await page.get_by_role("button", name=ENGLISH[current], exact=True).first.click()
        await expect(page.locator("html")).not_to_have_attribute("lang", lang)
    await expect(page.locator("html")).to_have_attribute("lang", "vi")


async def to_desk(page: Page) -> None:
    """The header's link to the secretariat desk."""
    staff = page.get_by_role("navigation", name="Công việc của văn phòng")
    await staff.get_by_role("link", name="Bàn thư ký").click()
    await expect(page).to_have_url(re.compile(r"/desk$"))


def qr_codes(pdf: bytes) -> list[str]:
    """The QR codes of the last page (the certification page), rendered at 150 dpi."""
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[len(doc) - 1].render(scale=150 / 72).to_pil()
    finally:
        doc.close()
    return [code.text for code in zxingcpp.read_barcodes(image)]


async def test_preparing_and_publishing(
    story_app: WebApp,
    pki_services: TestServices,
    new_page: PageFactory,
    axe: Any,
    shot: Any,
    tmp_path: Path,
) -> None:
    app = story_app
    assert app.settings.public_url == app.base_url
    token = await app.token(app.secretary)

    # ------------------------------------------------------------------ members, imported
    sec = await new_page(app.secretary, LANDSCAPE, app=app)
    await to_desk(sec)
    await expect(sec).to_have_url(re.compile(r"/desk$"))
    await expect(sec.get_by_role("heading", level=1)).to_have_text("Bàn thư ký")
    await check_view(sec, axe, shot, "desk")
    await sec.locator(f'a[href="/desk/councils/{app.council_id}"]').click()
    await expect(sec.get_by_test_id("members-table")).to_contain_text("delegate001")
    bad = tmp_path / "danh-sach.csv"
    bad.write_text(BAD, encoding="utf-8")
    await sec.locator("#import-file").set_input_files(str(bad))
    await sec.get_by_role("button", name="Kiểm tra tệp").click()
    problems = sec.get_by_test_id("import-problems")
    await expect(problems).to_contain_text("Tệp bị từ chối: 1 lỗi")
    await expect(problems.locator('tr[data-row="3"]')).to_contain_text("Vai trò không hợp lệ")
    await check_view(sec, axe, shot, "import-refused")
    status, rows, _ = await app.http("GET", f"/api/councils/{app.council_id}/members", token=token)
    assert status == 200 and not {"hang.nt", "duc.tv"} & {r["username"] for r in rows}
    good = tmp_path / "danh-sach-sua.csv"
    good.write_text(GOOD, encoding="utf-8")
    await sec.locator("#import-file").set_input_files(str(good))
    await sec.get_by_role("button", name="Kiểm tra tệp").click()
    await sec.get_by_role("button", name="Nhập 2 thành viên").click()
    await expect(sec.get_by_test_id("import-saved")).to_contain_text("2 tài khoản mới")
    await expect(sec.get_by_test_id("members-table")).to_contain_text("Trần Văn Đức")
    status, rows, _ = await app.http("GET", f"/api/councils/{app.council_id}/members", token=token)
    assert {"hang.nt", "duc.tv"} <= {r["username"] for r in rows}

    # ------------------------------------------------------------------ a meeting
    await to_desk(sec)
    await sec.get_by_role("link", name="Phiên họp mới").click()
    await expect(sec).to_have_url(re.compile(r"/desk/meetings/new"))
    today = datetime.now()
    await sec.get_by_label("Tên phiên họp").fill(MEETING)
    await sec.get_by_label("Ngày họp").fill(today.strftime("%Y-%m-%d"))
    await sec.get_by_label("Giờ bắt đầu").fill("14:00")
    await sec.get_by_label("Địa điểm").fill("Hội trường tầng 3")
    await check_view(sec, axe, shot, "meeting-new")
    await sec.get_by_role("button", name="Tạo phiên họp").click()
    await expect(sec).to_have_url(re.compile(r"/desk/meetings/\d+$"))
    mid = int(sec.url.rsplit("/", 1)[1])
    tabs = sec.get_by_role("navigation", name="Các phần của phiên họp")
    await expect(sec.get_by_test_id("participants")).to_contain_text("Nguyễn Thị Hằng")

    # a nested agenda, on the agenda tab
    await tabs.get_by_role("link", name="Chương trình").click()
    await expect(sec).to_have_url(re.compile(rf"/desk/meetings/{mid}/agenda$"))
    await expect(tabs.get_by_role("link", name="Chương trình")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(sec.get_by_role("heading", name="Chương trình phiên họp")).to_be_visible()
    for title, parent in (
        ("Khai mạc", None),
        ("Xây dựng trường học", None),
        ("Tờ trình của Ủy ban", "2. Xây dựng trường học"),
        ("Báo cáo thẩm tra", "2.1. Tờ trình của Ủy ban"),
    ):
        await sec.get_by_test_id("desk-agenda-add-title").fill(title)
        if parent:
            await sec.get_by_test_id("desk-agenda-add-parent").select_option(label=parent)
        await sec.get_by_role("button", name="Thêm vào chương trình").click()
        await expect(sec.get_by_test_id("desk-agenda-row").filter(has_text=title)).to_be_visible()
    await expect(
        sec.get_by_test_id("desk-agenda-row").filter(has_text="Báo cáo thẩm tra")
    ).to_have_attribute("data-number", "2.1.1")
    await check_view(sec, axe, shot, "agenda")

    # two PDFs, one encrypted: refused in words, the other uploaded
    await tabs.get_by_role("link", name="Tài liệu").click()
    await expect(sec.get_by_role("heading", name="Tài liệu phiên họp")).to_be_visible()
    report = tmp_path / "To_trinh_truong_hoc.pdf"
    report.write_bytes(text_pdf("School building report", pages=3))
    locked = tmp_path / "bi-mat.pdf"
    locked.write_bytes(encrypted_pdf())
    await sec.get_by_test_id("desk-upload-input").set_input_files([str(report), str(locked)])
    bad_row = sec.locator("[data-testid=desk-upload-row][data-name='bi-mat.pdf']")
    await expect(bad_row.get_by_test_id("desk-upload-message")).to_have_text(
        "Tệp PDF có đặt mật khẩu. Hãy gỡ mật khẩu rồi tải lên lại."
    )
    good_row = sec.locator("[data-testid=desk-upload-row][data-name='To_trinh_truong_hoc.pdf']")
    await expect(good_row).to_have_attribute("data-state", "done")
    # the refusal follows a language switch
    await sec.get_by_role("button", name="English", exact=True).click()
    await expect(bad_row.get_by_test_id("desk-upload-message")).to_have_text(
        "The PDF is protected by a password. Remove the password and upload it again."
    )
    await sec.get_by_role("button", name="Tiếng Việt", exact=True).click()
    await check_view(sec, axe, shot, "documents")
    status, docs, _ = await app.http("GET", f"/api/meetings/{mid}/documents", token=token)
    assert [d["title"] for d in docs] == ["To trinh truong hoc"], docs

    # published, invitations sent
    await tabs.get_by_role("link", name="Tổng quan").click()
    await expect(sec).to_have_url(re.compile(rf"/desk/meetings/{mid}$"))
    await sec.get_by_role("button", name="Công bố phiên họp").click()
    await expect(sec.get_by_role("button", name="Hủy công bố")).to_be_visible()
    await sec.get_by_role("button", name="Gửi giấy mời").click()
    await expect(sec.get_by_text(re.compile(r"Đã gửi giấy mời: (\d+)/\1"))).to_be_visible()
    await check_view(sec, axe, shot, "meeting-overview")

    # ------------------------------------------------------------------ the sitting
    chair = await new_page(app.chair, LANDSCAPE, app=app)
    await chair.get_by_role("link", name=MEETING).click()
    await expect(chair).to_have_url(re.compile(rf"/m/{mid}/chair$"))
    await chair.get_by_role("button", name="Khai mạc phiên họp").click()
    await expect(chair.get_by_test_id("chair-sitting-status")).to_contain_text("Đang họp")
    next_item = chair.get_by_role("button", name=re.compile("^Nội dung tiếp theo"))
    await next_item.click()
    await expect(chair.get_by_test_id("chair-current-item")).to_contain_text("1. Khai mạc")
    await next_item.click()
    await expect(chair.get_by_test_id("chair-current-item")).to_contain_text("2. Xây dựng")
    delegates = [await app.client(name) for name in app.delegates]
    for client in delegates:
        await client.join(mid)
        await client.command("attendance.check_in", {"meeting_id": mid})
    await chair.get_by_role("tab", name=re.compile("^Biểu quyết")).click()
    await chair.get_by_role("button", name=re.compile("Tạo biểu quyết")).first.click()
    form = chair.get_by_test_id("chair-poll-form")
    await form.get_by_test_id("chair-poll-title").fill(MOTION)
    await form.get_by_role("button", name="Tạo biểu quyết").click()
    card = chair.get_by_test_id("chair-poll-card").filter(has_text=MOTION)
    await card.get_by_role("button", name="Mở biểu quyết").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đang bỏ phiếu"))
    status, polls, _ = await app.http("GET", f"/api/meetings/{mid}/polls", token=token)
    poll_id = next(p["id"] for p in polls if p["title"] == MOTION)
    for client in delegates:
        await client.call(
            "ballot.cast",
            {"poll_id": poll_id, "choice": "yes", "idempotency_key": uuid.uuid4().hex},
        )
    await expect(card.get_by_test_id("chair-poll-progress")).to_contain_text(
        f"Đã bỏ phiếu {len(delegates)}/"
    )
    await card.get_by_role("button", name="Kết thúc biểu quyết").click()
    await chair.get_by_role("dialog").get_by_role("button", name="Kết thúc biểu quyết").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đã kết thúc"))
    await expect(card.get_by_test_id("chair-poll-outcome")).to_contain_text("Thông qua")
    await card.get_by_role("button", name="Công bố kết quả").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đã công bố"))
    await check_view(chair, axe, shot, "chair-console")

    # ------------------------------------------------------------------ the resolution
    await sec.reload()
    await tabs.get_by_role("link", name="Biên bản, nghị quyết").click()
    await expect(sec).to_have_url(re.compile(rf"/desk/meetings/{mid}/records$"))
    await expect(sec.get_by_role("heading", name="Biên bản và nghị quyết")).to_be_visible()
    draft = tmp_path / "du-thao.pdf"
    draft.write_bytes(make_draft(TITLE))
    await sec.get_by_label("Tên nghị quyết").fill(TITLE)
    await sec.get_by_label("Tệp dự thảo (PDF)").set_input_files(str(draft))
    option = sec.locator("#draft-poll option").filter(has_text=MOTION)
    await sec.locator("#draft-poll").select_option(await option.get_attribute("value"))
    await sec.get_by_label("Công bố công khai sau khi lưu trữ").uncheck()  # published below
    await sec.get_by_role("button", name="Tải lên", exact=True).click()
    entry = sec.locator("li[data-resolution-id]").filter(has_text=TITLE)
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text("Dự thảo")
    await entry.get_by_role("button", name="Lập nghị quyết và gửi chủ tọa ký").click()
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text("Chờ chủ tọa ký")
    rid = int(await entry.get_attribute("data-resolution-id") or 0)
    await expect(sec.get_by_test_id("pdf-view").locator("canvas").first).to_be_visible()
    # what was done is said in the language chosen afterwards too
    said = sec.locator("main p.message[role=status]")
    await expect(said).to_contain_text("đang chờ chủ tọa ký")
    await sec.get_by_role("button", name="English", exact=True).click()
    await expect(said).to_contain_text("waiting for the chair")
    await sec.get_by_role("button", name="Tiếng Việt", exact=True).click()
    await check_view(sec, axe, shot, "records")

    # the chair signs, typing the password again
    await chair.get_by_role("link", name="Ký văn bản").click()
    item = chair.locator("li[data-kind=resolution]").filter(has_text=TITLE)
    await check_view(chair, axe, shot, "sign-inbox")
    await item.get_by_role("link").click()
    await expect(chair).to_have_url(re.compile(rf"/sign/resolution/{rid}$"))
    await expect(chair.get_by_test_id("sign-status")).to_contain_text("Chờ chủ tọa ký")
    await expect(chair.get_by_role("img", name=re.compile(r"^Trang 1 \/ "))).to_be_visible()
    await check_view(chair, axe, shot, "sign-page")
    await chair.get_by_label("Mật khẩu của bạn").fill(app.password)
    await chair.get_by_role("button", name="Ký số văn bản").click()
    await expect(chair.get_by_test_id("sign-status")).to_contain_text("Đã ký số", timeout=60_000)
    await check_view(chair, axe, shot, "signed")

    # the secretary archives it, then publishes it from the archive
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text(
        "Đã ký số", timeout=20_000
    )
    await entry.get_by_role("button", name="Lưu trữ").click()
    await expect(entry.get_by_test_id("resolution-status")).to_contain_text("Đã lưu trữ")
    await to_desk(sec)
    await sec.get_by_role("link", name="Kho lưu trữ").click()
    await expect(sec).to_have_url(re.compile(r"/desk/archive$"))
    record = sec.locator("li[data-record-id]").filter(has_text=TITLE)
    await record.get_by_role("button", name="Công bố").click()
    await sec.get_by_label("Trạng thái công bố").select_option("yes")
    await expect(record).to_contain_text("Công bố lúc")
    await check_view(sec, axe, shot, "archive")

    # ------------------------------------------------------------------ a visitor
    visitor = await new_page(None, PORTRAIT, path="/public", app=app)
    await visitor.locator("#q").fill("truong hoc")  # no diacritics
    await visitor.locator("#q").press("Enter")
    link = visitor.get_by_role("link", name=TITLE)
    await expect(link).to_be_visible()
    await check_view(visitor, axe, shot, "public-search")
    await link.click()
    page_url = f"{app.base_url}/public/resolutions/{rid}"
    await expect(visitor).to_have_url(page_url)
    await expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    await expect(visitor.get_by_test_id("verdict")).to_contain_text("Hợp lệ")
    await expect(visitor.get_by_test_id("vote-outcome")).to_contain_text("Thông qua")
    await expect(visitor.get_by_role("row", name=f"Tán thành {len(delegates)}")).to_be_visible()
    await check_view(visitor, axe, shot, "public-resolution")

    # the QR code of the signed PDF opens that same page
    status, signed, _ = await app.http(
        "GET", f"/api/resolutions/{rid}/file?which=signed", token=token
    )
    assert status == 200
    pki = pki_services.pki
    verified = await verify_pdf_bytes(
        signed, [str(pki.root_cert_path)], extra_certs=[str(pki.intermediate.cert_path)]
    )
    assert verified.ok, verified.summary()
    codes = await asyncio.to_thread(qr_codes, signed)
    assert codes == [page_url], codes
    scanned = await new_page(None, PORTRAIT, path=None, app=app)
    await scanned.goto(codes[0])
    await expect(scanned.get_by_role("heading", level=1)).to_have_text(TITLE)
    await expect(scanned.get_by_test_id("verdict")).to_contain_text("Hợp lệ")

    # ------------------------------------------------------------------ the calendar feed
    await to_desk(sec)
    await sec.get_by_role("link", name="Lịch họp").first.click()
    await expect(sec.get_by_test_id("calendar-month")).to_contain_text(MEETING)
    await sec.get_by_role("button", name="Tạo địa chỉ lịch").click()
    feed = await sec.get_by_test_id("feed-url").input_value()
    assert feed.startswith(f"{app.base_url}/api/calendar/")
    await check_view(sec, axe, shot, "calendar")
    got = await sec.request.get(feed)
    assert got.ok and got.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(await got.body())
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert str(events[MEETING]["LOCATION"]) == "Hội trường tầng 3"

    for page in (sec, chair, visitor, scanned):
        assert new_page.errors(page) == [], new_page.errors(page)
