"""The document reader on a tablet (docs/WEBAPP.md, "Reader"), in Chromium with touch over a
real server: opened from the agenda, page images, go to page, search in the document without
diacritics and across the sitting, zoom to a sharper image, following the chair, the ballot
over the reader, reading progress on the server, axe and screenshots in both languages and
orientations."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from tests.e2e.conftest import WebApp, format_violations
from tests.e2e.test_delegate import (
    DELEGATE,
    LAND,
    PORT,
    ballot,
    checked_in_page,
    item_id,
    poll,
    set_language,
)

pytestmark = pytest.mark.browser

REPORT = "Báo cáo giám sát giao thông"
PLAN = "Tờ trình khu bảo tồn"


async def upload(app: WebApp, title: str, item: int, paragraphs: list[str], pages: int) -> int:
    pdf = generate_agenda_document(title, paragraphs, pages=pages)
    status, doc, _ = await app.http(
        "POST",
        f"/api/meetings/{app.meeting_id}/documents?title={title}&agenda_item_id={item}",
        token=await app.token(app.secretary),
        data=pdf,
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, doc
    return int(doc["id"])


def reader(page: Page):
    return page.get_by_test_id("reader")


def shown_page(page: Page, number: int):
    return page.locator(f'[data-testid=reader] [data-page="{number}"][data-loaded="true"]')


async def image_width(page: Page, number: int) -> int:
    src = await shown_page(page, number).get_attribute("data-src") or ""
    found = re.search(r"width=(\d+)", src)
    assert found, src
    return int(found.group(1))


async def shots(page: Page, shot, axe, name: str) -> None:
    """axe in both languages; screenshots at 1280×800 and 800×1280 in each."""
    for locale, back in (("vi", "Về phiên họp"), ("en", "Back to the sitting")):
        await set_language(page, locale)
        await expect(page.get_by_test_id("reader-close")).to_contain_text(back)
        violations = await axe(page)
        assert not violations, f"{name} ({locale}):\n{format_violations(violations)}"
        for size, orientation in ((LAND, "landscape"), (PORT, "portrait")):
            await page.set_viewport_size({"width": size[0], "height": size[1]})
            await expect(
                page.locator("[data-testid=reader] [data-loaded=true]").first
            ).to_be_visible()
            await page.wait_for_timeout(200)
            await shot(page, f"reader-{locale}-{orientation}-{name}")
    await page.set_viewport_size({"width": LAND[0], "height": LAND[1]})
    await set_language(page, "vi")


async def test_read_search_zoom_follow_and_vote_over_the_reader(
    fresh_webapp: WebApp, new_page, axe, shot
) -> None:
    app = fresh_webapp
    chair, view, page = await checked_in_page(app, new_page)
    report = await upload(
        app,
        REPORT,
        item_id(view, 2),
        [
            *vietnamese_paragraphs(6, seed=4),
            "Kết quả giám sát tuyến đường thủy nội địa qua địa bàn tỉnh.",
        ],
        30,
    )
    plan = await upload(
        app,
        PLAN,
        item_id(view, 3),
        [
            "Khu bảo tồn thiên nhiên ven biển được mở rộng thêm 200 héc-ta.",
            *vietnamese_paragraphs(3, seed=5),
        ],
        5,
    )

    # opened from the agenda with a finger: the first page image appears
    link = page.get_by_role("link", name=re.compile(REPORT))
    await expect(link).to_be_visible()
    await link.tap()
    await expect(reader(page)).to_be_visible()
    await expect(shown_page(page, 1)).to_be_visible()
    await expect(page.get_by_test_id("reader-page")).to_contain_text("Trang 1/30")
    mounted = await page.locator("[data-testid=reader] [data-page]").count()
    assert mounted <= 4, f"{mounted} pages mounted for the first screen of 30"

    # the server recorded the opening (and only that)
    token = await app.token(DELEGATE)
    status, body, _ = await app.http("GET", f"/api/meetings/{app.meeting_id}/reading", token=token)
    assert status == 200 and [d["document_id"] for d in body["documents"]] == [report], body

    # go to page (under "Thêm", which a page number closes)
    await page.get_by_test_id("reader-more").tap()
    await page.get_by_label("Đến trang (1 đến 30)").fill("12")
    await page.get_by_role("button", name="Đến trang", exact=True).tap()
    await expect(page.get_by_test_id("reader-page")).to_contain_text("Trang 12/30")
    await expect(shown_page(page, 12)).to_be_in_viewport()
    await page.get_by_test_id("reader-more").tap()
    await page.get_by_label("Đến trang (1 đến 30)").fill("31")
    await page.get_by_role("button", name="Đến trang", exact=True).tap()
    await expect(page.locator("#reader-goto-error")).to_contain_text("từ 1 đến 30")
    await shots(page, shot, axe, "page")
    await page.keyboard.press("Escape")

    # search in the document, typed without diacritics
    await page.get_by_test_id("reader-search-toggle").tap()
    await page.get_by_test_id("reader-search-input").fill("duong thuy")
    hits = page.get_by_test_id("reader-hits")
    await expect(hits.locator("mark").first).to_have_text(re.compile("đường thủy", re.I))
    await expect(hits).not_to_contain_text(PLAN)
    first_hit = hits.get_by_role("button").first
    hit_page = int(re.search(r"Trang (\d+)", await first_hit.inner_text()).group(1))  # type: ignore[union-attr]
    await first_hit.tap()
    await expect(page.get_by_test_id("reader-page")).to_contain_text(f"Trang {hit_page}/30")
    await shots(page, shot, axe, "search")

    # the chair moves to item 3: following the chair, the reader opens its document
    await chair.command(
        "agenda.set_current", {"meeting_id": app.meeting_id, "item_id": item_id(view, 3)}
    )
    await expect(reader(page)).to_have_attribute("data-document", str(plan))
    await expect(shown_page(page, 1)).to_be_visible()

    # across the sitting's documents: found in the other one, and opened there
    await page.get_by_test_id("reader-search-toggle").tap()
    await page.get_by_test_id("reader-search-all").check()
    await page.get_by_test_id("reader-search-input").fill("giam sat duong thuy")
    await expect(hits).to_contain_text(REPORT)
    await hits.get_by_role("button").first.tap()
    await expect(reader(page)).to_have_attribute("data-document", str(report))
    await page.get_by_test_id("reader-search-toggle").tap()

    # zoom: a double tap switches to a sharper image of the page
    await expect(page.locator("[data-testid=reader] [data-loaded=true]").first).to_be_visible()
    on = int(
        re.search(r"Trang (\d+)/", await page.get_by_test_id("reader-page").inner_text()).group(1)
    )  # type: ignore[union-attr]
    before = await image_width(page, on)
    box = await page.get_by_test_id("reader-scroller").bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + 200
    await page.touchscreen.tap(x, y)
    await page.touchscreen.tap(x, y)
    await expect(page.get_by_test_id("reader-zoom")).to_have_text("200%")
    on = int(
        re.search(r"Trang (\d+)/", await page.get_by_test_id("reader-page").inner_text()).group(1)
    )  # type: ignore[union-attr]
    await expect(shown_page(page, on)).not_to_have_attribute(
        "data-src", re.compile(f"width={before}$")
    )
    assert await image_width(page, on) > before
    await shot(page, "reader-vi-landscape-zoom")

    # past the largest image, pdf.js draws the page in view, on a canvas within the cap
    await page.get_by_role("button", name="Phóng to", exact=True).tap()
    await page.get_by_role("button", name="Phóng to", exact=True).tap()
    await expect(page.get_by_test_id("reader-zoom")).to_have_text("400%")
    canvas = page.locator("[data-testid=reader] canvas.vector.ready")
    await expect(canvas).to_have_count(1, timeout=20_000)
    pixels = await canvas.evaluate("(c) => c.width * c.height")
    assert 4_000_000 < pixels <= 8_000_000, pixels
    # selectable text: pdf.js's text layer over the page in view
    await page.get_by_test_id("reader-more").tap()
    await page.get_by_role("button", name="Chọn chữ").tap()
    text_layer = page.locator("[data-testid=reader] .textLayer span")
    await expect(text_layer.first).to_be_attached(timeout=20_000)
    words = await page.locator("[data-testid=reader] .textLayer").inner_text()
    assert len(words) > 200 and "Hội đồng nhân dân" in words, words[:300]
    await page.get_by_test_id("reader-more").tap()
    await page.get_by_role("button", name="Chọn chữ").tap()
    for _ in range(4):  # 400 → 300 → 200 → 150 → 100 %
        await page.get_by_role("button", name="Thu nhỏ").tap()
    await expect(page.get_by_test_id("reader-zoom")).to_have_text("100%")

    # a ballot opened by the chair comes over the reader and can be cast there
    poll_id = await poll(chair, app, title="Thông qua báo cáo giám sát")
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    await expect(reader(page)).to_be_attached()
    await page.get_by_role("button", name="Tán thành", exact=True).tap()
    await page.get_by_role("button", name="Xác nhận").tap()
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()
    status, body, _ = await app.http(
        "GET", f"/api/polls/{poll_id}", token=await app.token(app.chair)
    )
    assert status == 200 and body["voted"] == 1, body
    await page.get_by_role("button", name="Đóng").tap()
    await expect(reader(page)).to_be_visible()

    # back to the sitting: the checklist says what was opened; the chair sees counts only
    await page.get_by_test_id("reader-close").tap()
    await expect(reader(page)).to_have_count(0)
    await expect(page.get_by_test_id("reading-checklist")).to_contain_text("Đã mở 2/2")
    status, totals, _ = await app.http(
        "GET", f"/api/meetings/{app.meeting_id}/reading/totals", token=await app.token(app.chair)
    )
    assert status == 200
    assert {d["document_id"]: d["opened_by"] for d in totals["documents"]} == {report: 1, plan: 1}
    assert not new_page.errors(page)


async def test_the_chair_sees_totals_live(fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    _, view, _ = await checked_in_page(app, new_page)
    report = await upload(app, REPORT, item_id(view, 2), vietnamese_paragraphs(4, seed=8), 3)
    console = await new_page(app.chair, app=app, path=f"/m/{app.meeting_id}/chair")
    await console.get_by_role("tab", name=re.compile("Tài liệu đã đọc")).click()
    totals = console.get_by_test_id("reading-totals")
    await expect(totals).to_contain_text(re.compile(r"0/\d+ người đã mở"))
    status, _, _ = await app.http(
        "POST", f"/api/documents/{report}/opened", token=await app.token("delegate002")
    )
    assert status == 200
    await expect(totals).to_contain_text(re.compile(r"1/\d+ người đã mở"))
    assert "delegate002" not in await totals.inner_text()
    violations = await axe(console)
    assert not violations, format_violations(violations)
    await shot(console, "reader-chair-totals")
