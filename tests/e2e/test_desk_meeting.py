"""The secretariat's meeting pages in a browser (docs/WEBAPP.md, "The secretariat's meeting pages").

The secretary of a fresh rehearsal council builds a nested agenda (add, nest to 1.1.1, reorder
by keyboard, by mouse and by touch, a refusal in words), uploads two PDFs at once of which one
is encrypted (refused in words, the other uploaded with its progress) and a non-PDF by dropping
it, attaches the good one to an item, makes it confidential with a named reader, uploads a new
version with a note; then records a member's attendance and sees a self check-in and the
quorum change. After each step the REST API or the database is checked to agree with the
screen. axe-core runs over each page in Vietnamese and English; screenshots at 1280×800 and
800×1280 land in tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select
from sqlmodel import col

from meetings.storage.tables import Participant
from tests.e2e.conftest import WebApp, format_violations
from tests.support.upload_pdfs import encrypted_pdf, text_pdf

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)  # the 2-core machine is shared: a first load can take seconds

LANDSCAPE = (1280, 800)
PORTRAIT = (800, 1280)


async def check_axe(page: Page, axe: Any, what: str) -> None:
    violations = await axe(page)
    assert not violations, f"{what}:\n{format_violations(violations)}"


async def agenda(app: WebApp) -> dict[str, dict[str, Any]]:
    status, rows, _ = await app.http(
        "GET", f"/api/meetings/{app.meeting_id}/agenda", token=await app.token("secretary")
    )
    assert status == 200, rows
    return {r["title"]: r for r in rows}


async def numbers(app: WebApp) -> dict[str, str]:
    return {title: row["number"] for title, row in (await agenda(app)).items()}


async def documents(app: WebApp) -> dict[str, dict[str, Any]]:
    status, rows, _ = await app.http(
        "GET", f"/api/meetings/{app.meeting_id}/documents", token=await app.token("secretary")
    )
    assert status == 200, rows
    return {d["title"]: d for d in rows}


def row_of(page: Page, title: str) -> Locator:
    return page.get_by_test_id("desk-agenda-row").filter(has_text=title)


async def handle_of(page: Page, title: str) -> Locator:
    return row_of(page, title).locator("[data-agenda-handle]")


async def add_item(page: Page, title: str, parent: str | None = None) -> None:
    await page.get_by_test_id("desk-agenda-add-title").fill(title)
    if parent is not None:
        await page.get_by_test_id("desk-agenda-add-parent").select_option(label=parent)
    await page.get_by_role("button", name="Thêm vào chương trình").click()
    await expect(row_of(page, title)).to_be_visible()


async def center(locator: Locator) -> tuple[float, float]:
    box = await locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger drag through the DevTools protocol (Playwright has taps, not touch moves)."""
    cdp = await page.context.new_cdp_session(page)
    x0, y0 = start
    x1, y1 = end
    await cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    for i in range(1, 11):
        x, y = x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()


async def test_secretary_builds_the_agenda(
    fresh_webapp: WebApp, new_page: Any, axe: Any, shot: Any
) -> None:
    app = fresh_webapp
    path = f"/desk/meetings/{app.meeting_id}/agenda"
    before = await numbers(app)
    first = next(t for t, n in before.items() if n == "1")
    second = next(t for t, n in before.items() if n == "2")
    last = str(len(before))
    page = await new_page(app.secretary, LANDSCAPE, path=path, app=app)
    await expect(page.get_by_role("heading", name="Chương trình phiên họp")).to_be_visible()
    await expect(page.get_by_test_id("desk-agenda-row")).to_have_count(len(before))
    # the tab's one h1 carries the meeting's name (shown in view by the frame above the tabs)
    await expect(page.locator(".meeting-head .name")).not_to_have_text("Đang tải…")
    title = (await page.locator(".meeting-head .name").inner_text()).strip()
    await expect(page.locator("h1")).to_have_count(1)
    await expect(page.get_by_test_id("desk-tab-heading")).to_have_text(
        f"Chương trình phiên họp — {title}"
    )

    # --- add, and nest three levels deep
    await add_item(page, "Báo cáo kinh tế - xã hội")
    top = str(len(before) + 1)
    await add_item(page, "Báo cáo thẩm tra", parent=f"{top}. Báo cáo kinh tế - xã hội")
    await add_item(page, "Ý kiến của Ban pháp chế", parent=f"{top}.1. Báo cáo thẩm tra")
    assert (await numbers(app))["Ý kiến của Ban pháp chế"] == f"{top}.1.1"
    await expect(row_of(page, "Ý kiến của Ban pháp chế")).to_have_attribute(
        "data-number", f"{top}.1.1"
    )
    # the third level cannot take a child: it is not offered as a parent
    parents = (
        await page.get_by_test_id("desk-agenda-add-parent").locator("option").all_inner_texts()
    )
    assert f"{top}.1. Báo cáo thẩm tra" in parents
    assert not any("Ý kiến của Ban pháp chế" in p for p in parents)
    # the preview numbers it as delegates will see it
    preview = page.locator("section[aria-labelledby=desk-agenda-preview-h]")
    await expect(preview).to_contain_text(f"{top}.1.1")
    await shot(page, "desk-agenda-vi-landscape")
    await check_axe(page, axe, "agenda (vi, landscape)")

    # --- keyboard: pick up the new top item, one place up, drop; its sub-items follow
    handle = await handle_of(page, "Báo cáo kinh tế - xã hội")
    await handle.focus()
    await page.keyboard.press("Space")
    await expect(handle).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("[aria-live]").filter(has_text="Đã nhấc mục")).to_have_count(1)
    await page.keyboard.press("ArrowUp")
    await expect(page.get_by_test_id("desk-agenda-where")).to_contain_text(f"sẽ thành mục {last}")
    await shot(page, "desk-agenda-vi-landscape-picked")
    await page.keyboard.press("Space")
    await expect(row_of(page, "Ý kiến của Ban pháp chế")).to_have_attribute(
        "data-number", f"{last}.1.1"
    )
    now = await numbers(app)
    assert now["Báo cáo kinh tế - xã hội"] == last and now["Báo cáo thẩm tra"] == f"{last}.1"
    await expect(await handle_of(page, "Báo cáo kinh tế - xã hội")).to_be_focused()
    # Escape puts it back: nothing changes on the server
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Escape")
    await expect(page.locator("[aria-live]").filter(has_text="Đã hủy")).to_have_count(1)
    assert await numbers(app) == now
    # the arrow right asks for a deeper level: an item with two levels under it cannot go
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_test_id("desk-agenda-where")).to_contain_text(
        "Không đưa sâu hơn được: chương trình chỉ có tối đa ba cấp."
    )
    await page.keyboard.press("Escape")
    assert await numbers(app) == now
    # a leaf can: the last item goes under the one above it (after its sub-items), then back
    leaf = next(t for t, n in now.items() if n == str(int(last) + 1))  # the last top-level item
    await (await handle_of(page, leaf)).focus()
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_test_id("desk-agenda-where")).to_contain_text(f"sẽ thành mục {last}.2")
    await page.keyboard.press("Enter")
    await expect(row_of(page, leaf)).to_have_attribute("data-number", f"{last}.2")
    assert (await numbers(app))[leaf] == f"{last}.2"
    await page.get_by_role(
        "button", name=re.compile(f"^Đưa ra ngoài một cấp: mục {last}\\.2\\.")
    ).click()
    await expect(row_of(page, leaf)).to_have_attribute("data-number", str(int(last) + 1))
    assert (await numbers(app))[leaf] == str(int(last) + 1)

    # --- mouse: drag the first item below the second
    await page.evaluate("() => window.scrollTo(0, 0)")
    start = await center(await handle_of(page, first))
    target_box = await row_of(page, second).bounding_box()
    assert target_box is not None
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(start[0], target_box["y"] + target_box["height"] * 0.8, steps=8)
    await page.mouse.up()
    await expect(row_of(page, first)).to_have_attribute("data-number", "2")
    assert (await numbers(app))[first] == "2" and (await numbers(app))[second] == "1"

    # --- touch: a finger drags "Báo cáo thẩm tra" out to the top level, just below its parent
    thamtra = await handle_of(page, "Báo cáo thẩm tra")
    await thamtra.scroll_into_view_if_needed()
    sx, sy = await center(thamtra)
    await touch_drag(page, (sx, sy), (sx - 80, sy + 200))
    await expect(row_of(page, "Báo cáo thẩm tra")).to_have_attribute(
        "data-number", re.compile(r"^\d+$")
    )
    after_touch = await numbers(app)
    assert "." not in after_touch["Báo cáo thẩm tra"], after_touch
    assert after_touch["Ý kiến của Ban pháp chế"] == after_touch["Báo cáo thẩm tra"] + ".1"

    # --- edit in place
    await page.get_by_role("button", name=re.compile("^Sửa mục .*Báo cáo thẩm tra")).click()
    await page.get_by_label("Người trình bày").first.fill("Trưởng ban Pháp chế")
    await page.get_by_role("button", name="Lưu").click()
    await expect(row_of(page, "Báo cáo thẩm tra")).to_contain_text("Trình bày: Trưởng ban Pháp chế")
    assert (await agenda(app))["Báo cáo thẩm tra"]["presenter"] == "Trưởng ban Pháp chế"

    # --- a refusal in words: an item a document refers to cannot be removed
    item_id = (await agenda(app))["Ý kiến của Ban pháp chế"]["id"]
    status, body, _ = await app.http(
        "POST",
        f"/api/meetings/{app.meeting_id}/documents?title=Phụ+lục&agenda_item_id={item_id}",
        token=await app.token("secretary"),
        data=text_pdf("annex"),
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, body
    await page.get_by_role("button", name=re.compile("^Xóa mục .*Ý kiến của Ban pháp chế")).click()
    await page.get_by_role("dialog").get_by_role("button", name="Xóa").click()
    error = page.get_by_test_id("desk-error")
    await expect(error).to_contain_text("Chưa xóa được mục này vì còn 1 tài liệu gắn với nó")
    assert "Ý kiến của Ban pháp chế" in await agenda(app)
    await shot(page, "desk-agenda-vi-landscape-refused")
    await check_axe(page, axe, "agenda refusal (vi)")
    # the refusal follows a language switch (kept as the error, said in the language of the moment)
    await page.get_by_role("button", name="English", exact=True).click()
    await expect(error).to_contain_text(
        "This item cannot be removed yet: documents: 1 still refer to it"
    )
    await expect(error).not_to_contain_text("Chưa xóa được")
    await shot(page, "desk-agenda-en-landscape-refused-after-switch")
    await page.get_by_role("button", name="Tiếng Việt", exact=True).click()
    await expect(error).to_contain_text("Chưa xóa được mục này vì còn 1 tài liệu gắn với nó")
    # a removable item goes
    await page.get_by_role("button", name=re.compile(f"^Xóa mục \\d+\\. {second}$")).click()
    await page.get_by_role("dialog").get_by_role("button", name="Xóa").click()
    await expect(row_of(page, second)).to_have_count(0)
    assert second not in await agenda(app)
    assert not new_page.errors(page)

    # --- the other language and orientation
    for locale, size, name in (
        ("en", LANDSCAPE, "landscape"),
        ("en", PORTRAIT, "portrait"),
        ("vi", PORTRAIT, "portrait"),
    ):
        other = await new_page(app.secretary, size, locale=locale, path=path, app=app)
        heading = "Meeting agenda" if locale == "en" else "Chương trình phiên họp"
        await expect(other.get_by_role("heading", name=heading)).to_be_visible()
        await expect(other.get_by_test_id("desk-agenda-row").first).to_be_visible()
        await shot(other, f"desk-agenda-{locale}-{name}")
        await check_axe(other, axe, f"agenda ({locale}, {name})")


async def test_secretary_uploads_and_manages_documents(
    fresh_webapp: WebApp, new_page: Any, axe: Any, shot: Any, tmp_path: Any
) -> None:
    app = fresh_webapp
    path = f"/desk/meetings/{app.meeting_id}/documents"
    items = await agenda(app)
    item = next(r for r in items.values() if r["number"] == "2")
    good = tmp_path / "To_trinh_ngan_sach.pdf"
    good.write_bytes(text_pdf("Budget report", pages=40))
    locked = tmp_path / "bi-mat.pdf"
    locked.write_bytes(encrypted_pdf())
    page = await new_page(app.secretary, LANDSCAPE, path=path, app=app)
    await expect(page.get_by_role("heading", name="Tài liệu phiên họp")).to_be_visible()
    await expect(page.locator(".meeting-head .name")).not_to_have_text("Đang tải…")
    title = (await page.locator(".meeting-head .name").inner_text()).strip()
    await expect(page.locator("h1")).to_have_text(f"Tài liệu phiên họp — {title}")

    # watch every row's progress and state as they change, to see the bytes go
    await page.evaluate(
        """() => {
            window.__seen = [];
            new MutationObserver(() => {
                for (const row of document.querySelectorAll('[data-testid=desk-upload-row]')) {
                    const bar = row.querySelector('progress');
                    window.__seen.push([row.dataset.name, row.dataset.state, bar ? bar.value : -1]);
                }
            }).observe(document.body,
                       { subtree: true, childList: true, attributes: true, characterData: true });
        }"""
    )
    # --- two files at once: one is encrypted
    await page.get_by_test_id("desk-upload-input").set_input_files([str(good), str(locked)])
    good_row = page.locator("[data-testid=desk-upload-row][data-name='To_trinh_ngan_sach.pdf']")
    bad_row = page.locator("[data-testid=desk-upload-row][data-name='bi-mat.pdf']")
    await expect(bad_row).to_have_attribute("data-state", "refused")
    await expect(bad_row.get_by_test_id("desk-upload-message")).to_have_text(
        "Tệp PDF có đặt mật khẩu. Hãy gỡ mật khẩu rồi tải lên lại."
    )
    await expect(good_row).to_have_attribute("data-state", "done")
    await expect(good_row.get_by_test_id("desk-upload-progress")).to_have_attribute("value", "100")
    await expect(good_row.get_by_test_id("desk-upload-verdict")).to_contain_text("Đã tải lên")
    seen = await page.evaluate("() => window.__seen")
    states = {s for n, s, _ in seen if n == "To_trinh_ngan_sach.pdf"}
    assert {"uploading", "done"} <= states, states
    assert any(v == 100 for n, _s, v in seen if n == "To_trinh_ngan_sach.pdf")
    docs = await documents(app)
    assert list(docs) == ["To trinh ngan sach"], docs  # the encrypted one left nothing behind
    await shot(page, "desk-docs-vi-landscape-uploaded")
    await check_axe(page, axe, "documents after upload (vi)")

    # --- a file dropped on the zone: not a PDF, refused in words
    await page.evaluate(
        """() => {
            const dt = new DataTransfer();
            dt.items.add(new File(['hello, not a pdf'], 'ghi-chu.txt', { type: 'text/plain' }));
            const zone = document.querySelector('[data-testid=desk-drop-zone]');
            const how = { dataTransfer: dt, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent('dragover', how));
            zone.dispatchEvent(new DragEvent('drop', how));
        }"""
    )
    dropped = page.locator("[data-testid=desk-upload-row][data-name='ghi-chu.txt']")
    await expect(dropped).to_have_attribute("data-state", "refused")
    await expect(dropped).to_contain_text("Đây không phải tệp PDF.")

    # --- attach the good one to item 2
    card = page.get_by_test_id("desk-doc").filter(has_text="To trinh ngan sach")
    await card.get_by_test_id("desk-doc-item-select").select_option(label=f"2. {item['title']}")
    await expect(page.locator("h3").filter(has_text=f"2. {item['title']}")).to_be_visible()
    doc = (await documents(app))["To trinh ngan sach"]
    assert doc["agenda_item_id"] == item["id"]

    # --- confidential, readable by delegate001
    _, people, _ = await app.http(
        "GET", f"/api/meetings/{app.meeting_id}/participants", token=await app.token("secretary")
    )
    reader = next(p for p in people if p["username"] == "delegate001")
    card = page.get_by_test_id("desk-doc").filter(has_text="To trinh ngan sach")
    await card.get_by_test_id("desk-doc-visibility-select").select_option("confidential")
    await expect(card.get_by_test_id("desk-doc-visibility")).to_contain_text("Mật")
    await card.get_by_label(reader["name"]).check()
    await expect(card.locator("legend")).to_contain_text("(1)")
    doc = (await documents(app))["To trinh ngan sach"]
    assert doc["visibility"] == "confidential" and doc["allowed_user_ids"] == [reader["user_id"]]
    await shot(page, "desk-docs-vi-landscape-confidential")
    await check_axe(page, axe, "documents confidential (vi)")

    # --- a new version with a note
    revised = tmp_path / "To_trinh_ngan_sach_v2.pdf"
    revised.write_bytes(text_pdf("Budget report revised", pages=41))
    await card.get_by_test_id("desk-version-file").set_input_files(str(revised))
    await card.get_by_test_id("desk-version-note-input").fill("Sửa số liệu trang 2")
    await card.get_by_role("button", name="Tải lên bản mới").click()
    await expect(card.get_by_test_id("desk-version-verdict")).to_contain_text("Đã tải lên")
    await card.locator("summary").click()
    await expect(card.get_by_test_id("desk-version-note")).to_have_text(
        "Ghi chú: Sửa số liệu trang 2"
    )
    doc = (await documents(app))["To trinh ngan sach"]
    assert doc["current_version"]["number"] == 2
    assert doc["current_version"]["note"] == "Sửa số liệu trang 2"
    assert doc["current_version"]["page_count"] == 41
    await shot(page, "desk-docs-vi-landscape-versions")
    assert not new_page.errors(page)

    for locale, size, name in (
        ("en", LANDSCAPE, "landscape"),
        ("en", PORTRAIT, "portrait"),
        ("vi", PORTRAIT, "portrait"),
    ):
        other = await new_page(app.secretary, size, locale=locale, path=path, app=app)
        heading = "Meeting documents" if locale == "en" else "Tài liệu phiên họp"
        await expect(other.get_by_role("heading", name=heading)).to_be_visible()
        await expect(other.get_by_test_id("desk-doc").first).to_be_visible()
        if locale == "en":
            await other.get_by_test_id("desk-upload-input").set_input_files(str(locked))
            await expect(other.get_by_test_id("desk-upload-message")).to_have_text(
                "The PDF is protected by a password. Remove the password and upload it again."
            )
        await shot(other, f"desk-docs-{locale}-{name}")
        await check_axe(other, axe, f"documents ({locale}, {name})")


async def attendance_in_db(app: WebApp, user_id: int) -> tuple[str, str]:
    async def read(services: Any) -> tuple[str, str]:
        async with services.db.reading() as session:
            row = (
                await session.execute(
                    select(Participant.attendance, Participant.recorded_how).where(
                        col(Participant.meeting_id) == app.meeting_id,
                        col(Participant.user_id) == user_id,
                    )
                )
            ).one()
            return str(row[0]), str(row[1])

    return await app.in_server(read)


async def test_secretary_records_attendance(
    fresh_webapp: WebApp, new_page: Any, axe: Any, shot: Any
) -> None:
    app = fresh_webapp
    path = f"/desk/meetings/{app.meeting_id}/attendance"
    status, people, _ = await app.http(
        "GET", f"/api/meetings/{app.meeting_id}/participants", token=await app.token("secretary")
    )
    assert status == 200
    by_name = {p["username"]: p for p in people}
    total = sum(1 for p in people if p["voting"])
    page = await new_page(app.secretary, LANDSCAPE, path=path, app=app)
    quorum = page.get_by_test_id("chair-quorum-numbers")
    await expect(quorum).to_contain_text(f"Có mặt 0/{total}")
    await expect(page.get_by_test_id("desk-att-self")).to_have_count(0)

    # a delegate checks in from their own tablet: seen live, by name, and in the quorum
    delegate = await app.client("delegate002")
    await delegate.join(app.meeting_id)
    ack = await delegate.command("attendance.check_in", {"meeting_id": app.meeting_id})
    assert ack.get("ok"), ack
    await expect(page.get_by_test_id("desk-att-self")).to_contain_text(
        by_name["delegate002"]["name"]
    )
    await expect(quorum).to_contain_text(f"Có mặt 1/{total}")

    # the secretary records a member without a tablet
    d1 = by_name["delegate001"]
    await page.get_by_test_id("chair-roster-search").fill(d1["name"].split()[-1].lower())
    await page.get_by_role("button", name=f"Ghi {d1['name']} có mặt").click()
    await expect(quorum).to_contain_text(f"Có mặt 2/{total}")
    assert await attendance_in_db(app, d1["user_id"]) == ("present", "secretariat")
    row = page.locator("[data-testid=chair-roster-row][data-user=delegate001]")
    await expect(row.get_by_test_id("chair-attendance")).to_have_text(re.compile("Có mặt"))
    d3 = by_name["delegate003"]
    await page.get_by_test_id("chair-roster-search").fill(d3["name"].split()[-1].lower())
    await page.get_by_role("button", name=f"Ghi {d3['name']} vắng có lý do").click()
    await expect(page.get_by_test_id("desk-att-counts")).to_contain_text("Vắng có lý do 1")
    assert (await attendance_in_db(app, d3["user_id"]))[0] == "excused"
    await page.get_by_test_id("chair-roster-search").fill("")
    await shot(page, "desk-attendance-vi-landscape")
    await check_axe(page, axe, "attendance (vi, landscape)")
    assert not new_page.errors(page)

    for locale, size, name in (
        ("en", LANDSCAPE, "landscape"),
        ("en", PORTRAIT, "portrait"),
        ("vi", PORTRAIT, "portrait"),
    ):
        other = await new_page(app.secretary, size, locale=locale, path=path, app=app)
        word = "Present 2 of" if locale == "en" else "Có mặt 2/"
        await expect(other.get_by_test_id("chair-quorum-numbers")).to_contain_text(word)
        await shot(other, f"desk-attendance-{locale}-{name}")
        await check_axe(other, axe, f"attendance ({locale}, {name})")


async def test_a_delegate_sees_the_desk_pages_read_only(webapp: WebApp, new_page: Any) -> None:
    app = webapp
    delegate = app.delegates[0]
    page = await new_page(delegate, LANDSCAPE, path=f"/desk/meetings/{app.meeting_id}/agenda")
    await expect(page.get_by_text("trang này chỉ để xem")).to_be_visible()
    await expect(page.get_by_test_id("desk-agenda-row").first).to_be_visible()
    await expect(page.locator("[data-agenda-handle]")).to_have_count(0)
    await expect(page.get_by_role("button", name="Thêm vào chương trình")).to_have_count(0)
    await page.goto(f"/desk/meetings/{app.meeting_id}/documents")
    await expect(page.get_by_text("trang này chỉ để xem")).to_be_visible()
    await expect(page.get_by_test_id("desk-upload-input")).to_be_disabled()
    await page.goto(f"/desk/meetings/{app.meeting_id}/attendance")
    await expect(page.get_by_text("trang này chỉ để xem")).to_be_visible()
    await expect(page.get_by_test_id("chair-roster-row")).to_have_count(0)
    assert not new_page.errors(page)
