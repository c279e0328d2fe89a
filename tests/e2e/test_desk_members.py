"""The secretariat desk in a browser: members, import, meetings, calendar (docs/WEBAPP.md,
"Secretariat desk").

The secretary imports a member list with one bad row (refused, the row named, nothing saved —
checked through the API), fixes it and imports again (the members appear, with passwords to
hand out); creates a meeting, publishes it and sends the invitations (checked through the API);
makes a calendar feed address, which is fetched and parsed with `icalendar` and holds the
meeting. axe-core runs over every desk view in both languages; screenshots at 1280×800 and
800×1280 land in tests/e2e/artifacts/.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import WebApp, format_violations

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)
LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)

BAD = (
    "\ufeffHọ và tên,Tên đăng nhập,Vai trò,Chức vụ,Email\r\n"
    "Nguyễn Thị Hằng,hang.nt,đại biểu,Ủy viên,hang@example.vn\r\n"
    "Trần Văn Đức,duc.tv,thị trưởng,,\r\n"
)
GOOD = BAD.replace("thị trưởng", "delegate")


async def check_axe(page: Page, axe: Any, what: str) -> None:
    violations = await axe(page)
    assert not violations, f"{what}:\n{format_violations(violations)}"


async def members(app: WebApp) -> dict[str, dict[str, Any]]:
    status, rows, _ = await app.http(
        "GET", f"/api/councils/{app.council_id}/members", token=await app.token("secretary")
    )
    assert status == 200, rows
    return {r["username"]: r for r in rows}


async def test_secretary_imports_members_and_prepares_a_meeting(
    fresh_webapp: WebApp, new_page: Any, axe: Any, shot: Any, tmp_path: Path
) -> None:
    app = fresh_webapp
    # a delegate has no desk link; the secretary has
    delegate_page = await new_page(app.delegates[0], LANDSCAPE, app=app)
    await expect(delegate_page.get_by_role("heading", level=1)).to_be_visible()
    await expect(delegate_page.get_by_role("link", name="Bàn thư ký")).to_have_count(0)
    page = await new_page(app.secretary, LANDSCAPE, app=app)
    await page.get_by_role("link", name="Bàn thư ký").click()
    await expect(page).to_have_url(re.compile(r"/desk$"))
    await page.locator(f'a[href="/desk/councils/{app.council_id}"]').click()
    await expect(page.get_by_test_id("members-table")).to_contain_text("delegate001")

    # --- a list with one bad row: refused, the row named, nothing saved
    bad = tmp_path / "danh-sach.csv"
    bad.write_text(BAD, encoding="utf-8")
    await page.locator("#import-file").set_input_files(str(bad))
    await page.get_by_role("button", name="Kiểm tra tệp").click()
    problems = page.get_by_test_id("import-problems")
    await expect(problems).to_contain_text("Tệp bị từ chối: 1 lỗi")
    row = problems.locator('tr[data-row="3"]')
    await expect(row).to_contain_text("Vai trò")
    await expect(row).to_contain_text("Vai trò không hợp lệ")
    await expect(page.get_by_role("button", name=re.compile("^Nhập .* thành viên"))).to_have_count(
        0
    )
    await shot(page, "desk-vi-landscape-import-refused", full_page=True)
    await check_axe(page, axe, "import refused (vi)")
    found = await members(app)
    assert "hang.nt" not in found and "duc.tv" not in found

    # --- fixed: previewed, then imported; the passwords are shown and downloadable
    good = tmp_path / "danh-sach-sua.csv"
    good.write_text(GOOD, encoding="utf-8")
    await page.locator("#import-file").set_input_files(str(good))
    await page.get_by_role("button", name="Kiểm tra tệp").click()
    await expect(page.get_by_test_id("import-preview")).to_contain_text("Tệp hợp lệ: 2 thành viên")
    await page.get_by_role("button", name="Nhập 2 thành viên").click()
    saved = page.get_by_test_id("import-saved")
    await expect(saved).to_contain_text("2 tài khoản mới")
    await expect(saved).to_contain_text("hang.nt")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Tải danh sách mật khẩu (CSV)").click()
    download = await download_info.value
    saved_file = Path(await download.path())
    downloaded = await asyncio.to_thread(saved_file.read_text, encoding="utf-8-sig")
    assert "Nguyễn Thị Hằng,hang.nt," in downloaded
    password = downloaded.splitlines()[1].split(",")[2]
    await expect(page.get_by_test_id("members-table")).to_contain_text("Nguyễn Thị Hằng")
    found = await members(app)
    assert found["hang.nt"]["title"] == "Ủy viên" and found["duc.tv"]["role"] == "delegate"
    assert await app.token("hang.nt", password)  # the handed-out password works
    await shot(page, "desk-vi-landscape-import-saved", full_page=True)

    # --- search
    await page.get_by_label("Tìm thành viên").fill("hang.nt")
    await expect(page.get_by_test_id("members-table").locator("tbody tr")).to_have_count(1)
    await page.get_by_label("Tìm thành viên").fill("")

    # --- a refused member form: the refusal follows a language switch, and back
    await page.get_by_role("button", name="Thêm thành viên").click()
    await page.get_by_label("Họ và tên").fill("Người trùng tên đăng nhập")
    await page.get_by_label("Tên đăng nhập").fill("hang.nt")
    await page.get_by_role("button", name="Tạo tài khoản").click()
    refusal = page.locator("p.error[role=alert]")
    await expect(refusal).to_have_text("Tên đăng nhập này đã có người dùng.")
    await page.get_by_role("button", name="English", exact=True).click()
    await expect(refusal).to_have_text("That username is taken.")
    await page.get_by_role("button", name="Tiếng Việt", exact=True).click()
    await expect(refusal).to_have_text("Tên đăng nhập này đã có người dùng.")
    await page.get_by_role("button", name="Hủy").click()

    # --- a new meeting, published, invitations sent
    await page.goto(f"/desk/meetings/new?council={app.council_id}")
    today = datetime.now()
    await page.get_by_label("Tên phiên họp").fill("Phiên họp chuyên đề tháng này")
    await page.get_by_label("Ngày họp").fill(today.strftime("%Y-%m-%d"))
    await page.get_by_label("Giờ bắt đầu").fill("14:00")
    await page.get_by_label("Địa điểm").fill("Hội trường tầng 2")
    await page.get_by_role("button", name="Tạo phiên họp").click()
    await expect(page).to_have_url(re.compile(r"/desk/meetings/\d+$"))
    meeting_id = int(page.url.rsplit("/", 1)[1])
    tabs = page.get_by_role("navigation", name="Các phần của phiên họp")
    for name in ("Tổng quan", "Chương trình", "Tài liệu", "Điểm danh", "Biên bản, nghị quyết"):
        await expect(tabs.get_by_role("link", name=name)).to_be_visible()
    await expect(tabs.get_by_role("link", name="Tổng quan")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.get_by_test_id("participants")).to_contain_text("Nguyễn Thị Hằng")
    await page.get_by_role("button", name="Công bố phiên họp").click()
    await expect(page.get_by_role("button", name="Hủy công bố")).to_be_visible()
    await page.get_by_role("button", name="Gửi giấy mời").click()
    await expect(page.get_by_text(re.compile(r"Đã gửi giấy mời: (\d+)/\1"))).to_be_visible()
    token = await app.token("secretary")
    status, body, _ = await app.http("GET", f"/api/meetings/{meeting_id}", token=token)
    assert status == 200 and body["status"] == "published"
    assert body["location"] == "Hội trường tầng 2"
    status, people, _ = await app.http(
        "GET", f"/api/meetings/{meeting_id}/participants", token=token
    )
    assert people and all(p["invited_at"] for p in people)
    await shot(page, "desk-vi-landscape-meeting", full_page=True)
    await check_axe(page, axe, "meeting overview (vi)")

    # --- the calendar shows it; the feed address is made, fetched and parsed
    await page.goto("/desk/calendar")
    await expect(page.get_by_test_id("calendar-month")).to_contain_text(
        "Phiên họp chuyên đề tháng này"
    )
    await page.get_by_role("button", name="Tạo địa chỉ lịch").click()
    url = await page.get_by_test_id("feed-url").input_value()
    assert url.startswith(app.settings.public_url + "/api/calendar/qcal_")
    status, raw, headers = await app.http("GET", url.removeprefix(app.settings.public_url))
    assert status == 200 and headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(raw)
    titles = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    event = titles["Phiên họp chuyên đề tháng này"]
    assert str(event["LOCATION"]) == "Hội trường tầng 2"
    assert str(event["URL"]).endswith(f"/m/{meeting_id}/chair")
    await shot(page, "desk-vi-landscape-calendar", full_page=True)
    assert not new_page.errors(page)


VIEWS = ("desk", "council", "new", "meeting", "calendar-month", "calendar-list")
WORDS = {
    "vi": ("Thành viên", "Month", "Import a member list", "Publish the meeting"),
    "en": ("Thành viên", "Tháng này", "Nhập danh sách thành viên", "Công bố phiên họp"),
}


@pytest.mark.parametrize("locale", ["vi", "en"])
async def test_every_desk_view_in_both_orientations(
    fresh_webapp: WebApp, new_page: Any, axe: Any, shot: Any, locale: str
) -> None:
    app = fresh_webapp
    token = await app.token("secretary")
    status, made, _ = await app.http(
        "POST",
        "/api/meetings",
        token=token,
        json={
            "council_id": app.council_id,
            "title": "Kỳ họp thường lệ",
            "location": "Hội trường",
            "starts_at": datetime.now().replace(hour=8, minute=0).astimezone().isoformat(),
        },
    )
    assert status == 201
    paths = {
        "desk": "/desk",
        "council": f"/desk/councils/{app.council_id}",
        "new": "/desk/meetings/new",
        "meeting": f"/desk/meetings/{made['id']}",
        "calendar-month": "/desk/calendar",
        "calendar-list": "/desk/calendar",
    }
    for orientation, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page = await new_page(app.secretary, viewport, locale, path="/desk", app=app)
        for view in VIEWS:
            await page.goto(paths[view])
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await expect(page.locator('[aria-busy="true"]')).to_have_count(0)
            if view == "calendar-list":
                await page.get_by_role(
                    "button", name="Danh sách" if locale == "vi" else "List"
                ).click()
                await expect(page.get_by_test_id("calendar-list")).to_be_visible()
            if view == "meeting":
                rows = page.get_by_test_id("participants").locator("tbody tr[data-user]")
                await expect(rows.first).to_be_visible()
            assert await page.evaluate("document.documentElement.lang") == locale
            await check_axe(page, axe, f"{view} ({locale}, {orientation})")
            await shot(page, f"desk-{locale}-{orientation}-{view}", full_page=True)
            text = await page.inner_text("main")
            if locale == "en":
                for word in WORDS["en"][1:]:
                    assert word not in text, (view, word)
            else:
                for word in WORDS["vi"][1:]:
                    assert word not in text, (view, word)
        assert not new_page.errors(page)
