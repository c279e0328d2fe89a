"""The reader's bars on a tablet (docs/WEBAPP.md, "Reader" and "Annotating"): compact enough
that the page keeps the height of a portrait tablet, every annotation tool with a visible
label, the language switch inside the reader (which covers the app header), by touch and by
keyboard, in both languages and orientations; and the eraser, which rubs out the part of a pen
stroke it passes over and takes marks whole."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from tests.e2e.conftest import WebApp, format_violations

pytestmark = pytest.mark.browser

DELEGATE = "delegate001"
TITLE = "Tờ trình kế hoạch đầu tư công trung hạn giai đoạn 2026 - 2030"
PORTRAIT, LANDSCAPE = (800, 1280), (1280, 800)
LABELS = {
    "vi": ["Đọc", "Bút", "Tô sáng", "Gạch chân", "Gạch bỏ", "Ghi chú", "Chữ", "Tẩy"],
    "en": ["Read", "Pen", "Highlight", "Underline", "Strike out", "Note", "Text", "Eraser"],
}
WORDS = {
    "vi": {"more": "Thêm", "back": "Về phiên họp", "go": "Đến trang", "other": "English",
           "other_code": "en", "eraser": "vuốt qua nét bút"},
    "en": {"more": "More", "back": "Back to the sitting", "go": "Go", "other": "Tiếng Việt",
           "other_code": "vi", "eraser": "rub over a pen stroke"},
}


async def upload(app: WebApp) -> dict[str, Any]:
    pdf = generate_agenda_document(TITLE, vietnamese_paragraphs(8, seed=3), pages=3)
    status, doc, _ = await app.http(
        "POST", f"/api/meetings/{app.meeting_id}/documents?title={TITLE}",
        token=await app.token(app.secretary), data=pdf,
        headers={"content-type": "application/pdf"})
    assert status == 201, doc
    return dict(doc)


async def bars_height(page: Page) -> float:
    """From the top of the reader to the top of its pages."""
    reader = await page.get_by_test_id("reader").bounding_box()
    pages = await page.get_by_test_id("reader-scroller").bounding_box()
    assert reader is not None and pages is not None
    return pages["y"] - reader["y"]


@pytest.mark.parametrize("locale", ["vi", "en"])
async def test_bars_are_compact_labelled_and_switch_language(
        fresh_webapp: WebApp, new_page, axe, shot, locale: str) -> None:
    app = fresh_webapp
    doc = await upload(app)
    words = WORDS[locale]
    page = await new_page(DELEGATE, viewport=PORTRAIT, locale=locale, app=app,
                          path=f"/m/{app.meeting_id}?doc={doc['id']}")
    toolbar = page.get_by_test_id("annotation-toolbar")
    await expect(toolbar).to_be_visible()
    await expect(page.locator("[data-testid=reader] [data-loaded=true]").first).to_be_visible()

    for size, orientation in ((PORTRAIT, "portrait"), (LANDSCAPE, "landscape")):
        await page.set_viewport_size({"width": size[0], "height": size[1]})
        await expect(page.get_by_test_id("reader-close")).to_contain_text(words["back"])
        await shot(page, f"reader-bars-{locale}-{orientation}")
        # the page keeps the height: both bars together at most 150 px
        height = await bars_height(page)
        assert height <= 150, f"{orientation}: the bars take {height} px"
        # every tool says what it is, in words on the screen (touch has no hover)
        for tool, label in zip(
                ["read", "pen", "highlight", "underline", "strike", "note", "freetext",
                 "eraser"], LABELS[locale], strict=True):
            button = toolbar.locator(f'[data-tool="{tool}"]')
            await expect(button).to_have_text(re.compile(re.escape(label)))
            await expect(button.locator(".label")).to_be_visible()
            box = await button.bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, (tool, box)
        violations = await axe(page)
        assert not violations, f"{orientation} {locale}:\n{format_violations(violations)}"

        # the eraser says what it removes, on the screen and to a screen reader
        await toolbar.locator('[data-tool="eraser"]').click()
        hint = page.get_by_test_id("annotation-hint")
        await expect(hint).to_contain_text(words["eraser"])
        await expect(toolbar.locator('[data-tool="eraser"]')).to_have_attribute(
            "aria-describedby", "annotation-hint")
        await shot(page, f"reader-eraser-hint-{locale}-{orientation}")
        await toolbar.locator('[data-tool="read"]').click()

    # by touch, portrait: "More" holds go to page and the language switch
    await page.set_viewport_size({"width": PORTRAIT[0], "height": PORTRAIT[1]})
    more = page.get_by_test_id("reader-more")
    await more.tap()
    await expect(more).to_have_attribute("aria-expanded", "true")
    menu = page.locator("#reader-more")
    await expect(menu.get_by_role("button", name=words["go"], exact=True)).to_be_visible()
    violations = await axe(page)
    assert not violations, f"menu {locale}:\n{format_violations(violations)}"
    await shot(page, f"reader-more-{locale}-portrait")
    await menu.get_by_role("button", name=words["other"]).tap()
    other = WORDS[words["other_code"]]
    await expect(page.locator("html")).to_have_attribute("lang", words["other_code"])
    await expect(page.get_by_test_id("reader-close")).to_contain_text(other["back"])
    await expect(toolbar.locator('[data-tool="eraser"]')).to_contain_text(
        LABELS[words["other_code"]][-1])
    # the reader stayed open on its document
    await expect(page.get_by_test_id("reader")).to_have_attribute("data-document", str(doc["id"]))

    # by keyboard, landscape: More opens with Enter, the switch back, Escape closes it
    await page.set_viewport_size({"width": LANDSCAPE[0], "height": LANDSCAPE[1]})
    if await more.get_attribute("aria-expanded") == "true":
        await page.keyboard.press("Escape")
    await expect(more).to_have_attribute("aria-expanded", "false")
    await more.focus()
    await page.keyboard.press("Enter")
    await expect(menu).to_be_visible()
    back = menu.locator(f'button[lang="{locale}"]')  # the language we started in
    await back.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    await expect(more).to_be_focused()
    await expect(page.get_by_test_id("reader-close")).to_contain_text(words["back"])
    assert new_page.errors(page) == []


async def pen_line(page: Page, x0: float, y: float, x1: float) -> None:
    """A straight pen stroke from (x0, y) to (x1, y), through the DevTools protocol."""
    cdp = await page.context.new_cdp_session(page)
    common = {"pointerType": "pen", "button": "left"}
    steps = 30
    points = [(x0 + (x1 - x0) * i / steps, y) for i in range(steps + 1)]
    for n, (x, yy) in enumerate(points):
        await cdp.send("Input.dispatchMouseEvent", {
            "type": "mousePressed" if n == 0 else "mouseMoved", "x": x, "y": yy,
            "force": 0.5, "buttons": 1, "clickCount": 1, **common})
    await cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y,
                                                "force": 0, "buttons": 0, "clickCount": 1,
                                                **common})
    await cdp.detach()


async def mine(app: WebApp, version_id: int) -> list[dict[str, Any]]:
    status, body, _ = await app.http(
        "GET", f"/api/document-versions/{version_id}/annotations",
        token=await app.token(DELEGATE))
    assert status == 200, body
    return [a for a in body["annotations"] if a["mine"]]


async def until(probe, test, tries: int = 100) -> Any:
    for _ in range(tries):
        value = await probe()
        if test(value):
            return value
        await asyncio.sleep(0.1)
    return await probe()


async def test_the_eraser_rubs_out_part_of_a_stroke(fresh_webapp: WebApp, new_page,
                                                    shot) -> None:
    app = fresh_webapp
    doc = await upload(app)
    version_id = doc["current_version"]["id"]
    page = await new_page(DELEGATE, viewport=LANDSCAPE, app=app,
                          path=f"/m/{app.meeting_id}?doc={doc['id']}")
    layer = page.locator('[data-testid="ink-layer"][data-page="1"]')
    await expect(layer).to_be_attached()
    box = await layer.bounding_box()
    assert box is not None
    toolbar = page.get_by_test_id("annotation-toolbar")
    await toolbar.locator('[data-tool="pen"]').click()
    y = box["y"] + 300
    await pen_line(page, box["x"] + 100, y, box["x"] + 400)
    [stroke] = await until(lambda: mine(app, version_id), lambda rows: len(rows) == 1)
    assert len(stroke["strokes"]) == 1 and stroke["version"] == 1

    # the eraser across the middle of the stroke: two pieces, one annotation, one change
    await toolbar.locator('[data-tool="eraser"]').click()
    middle = box["x"] + 250
    await page.mouse.move(middle, y - 40)
    await page.mouse.down()
    await page.mouse.move(middle, y + 40, steps=8)
    await page.mouse.up()
    [cut] = await until(lambda: mine(app, version_id), lambda r: r and r[0]["version"] == 2)
    assert cut["id"] == stroke["id"] and cut["version"] == 2
    assert len(cut["strokes"]) == 2, cut["strokes"]
    scale = doc["current_version"]["page_sizes"][0][0] / box["width"]
    left, right = sorted(cut["strokes"], key=lambda s: s[0][0])
    gap = right[0][0] - left[-1][0]
    assert 0 < gap < 80 * scale, gap  # only what the eraser passed over went
    await expect(page.locator('[data-kind="ink"] path')).to_have_count(2)
    await shot(page, "reader-eraser-cut-vi")

    # undo brings the whole stroke back (one step), as a change of the same annotation
    await page.get_by_test_id("annotation-undo").click()
    [whole] = await until(lambda: mine(app, version_id), lambda r: r and r[0]["version"] == 3)
    assert len(whole["strokes"]) == 1 and len(whole["strokes"][0]) == len(stroke["strokes"][0])

    # the eraser over the whole stroke deletes it
    await page.mouse.move(box["x"] + 80, y)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 420, y, steps=30)
    await page.mouse.up()
    await until(lambda: mine(app, version_id), lambda rows: rows == [])
    assert await mine(app, version_id) == []
    await expect(page.locator('[data-kind="ink"]')).to_have_count(0)
    assert new_page.errors(page) == []
