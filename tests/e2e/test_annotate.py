"""Annotating in the reader, in a real browser (docs/WEBAPP.md, "Annotating").

A delegate draws a pen stroke (CDP mouse events with `pointerType: "pen"` and `force`: the
touch events of the protocol cannot be pens), highlights a sentence and writes a note on
another; the same user's second tablet shows all three, live. The secretariat uploads a new
version in which the sentence moved and the note's paragraph is gone: the highlight follows
the sentence and the note is listed as orphaned, with its quote. axe-core over the panel.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from tests.e2e.conftest import WebApp, format_violations

pytestmark = pytest.mark.browser

DELEGATE = "delegate001"
TITLE = "Tờ trình kế hoạch đầu tư công"
SENTENCE = (
    "Ủy ban nhân dân tỉnh đề nghị thông qua kế hoạch đầu tư công trung hạn 7.654 tỷ đồng."
)
DOOMED = (
    "Đề nghị bổ sung kinh phí 4.321 triệu đồng cho dự án cải tạo trường mầm non Hoa Sen "
    "tại xã Tân Phú trong năm 2027 theo đề xuất của huyện."
)


def versions() -> tuple[bytes, bytes]:
    """Version 1: the sentence opens paragraph 2, the doomed paragraph is the fourth. Version
    2: six new paragraphs before everything (the sentence moves to a later page) and the
    doomed paragraph deleted."""
    prose = vietnamese_paragraphs(10, seed=5)
    old = [prose[0], SENTENCE + " " + prose[1], prose[2], DOOMED, *prose[3:6]]
    new = [*vietnamese_paragraphs(6, seed=11), prose[0], SENTENCE + " " + prose[1], prose[2],
           *prose[3:6]]
    return generate_agenda_document(TITLE, old), generate_agenda_document(TITLE, new)


async def upload(app: WebApp, pdf: bytes) -> dict[str, Any]:
    status, doc, _ = await app.http(
        "POST", f"/api/meetings/{app.meeting_id}/documents?title={TITLE}",
        token=await app.token(app.secretary), data=pdf,
        headers={"content-type": "application/pdf"})
    assert status == 201, doc
    return dict(doc)


async def words(app: WebApp, doc_id: int, page: int, version: int) -> list[list[Any]]:
    status, body, _ = await app.http(
        "GET", f"/api/documents/{doc_id}/pages/{page}/words?version={version}",
        token=await app.token(DELEGATE))
    assert status == 200, body
    return list(body["words"])


def find(page_words: list[list[Any]], text: str) -> tuple[int, int]:
    """The first and last word index of `text` on the page."""
    tokens = text.split()
    texts = [w[0] for w in page_words]
    for i in range(len(texts) - len(tokens) + 1):
        if texts[i:i + len(tokens)] == tokens:
            return i, i + len(tokens) - 1
    raise AssertionError(f"{text!r} is not on the page")


class PageGeometry:
    """Page 1's box on screen and its size in points: PDF points → screen pixels."""

    def __init__(self, box: dict[str, float], size: list[float]) -> None:
        self.box, self.w, self.h = box, size[0], size[1]

    def at(self, x: float, y: float) -> tuple[float, float]:
        return (self.box["x"] + x / self.w * self.box["width"],
                self.box["y"] + (self.h - y) / self.h * self.box["height"])

    def word(self, w: list[Any], where: float = 0.5) -> tuple[float, float]:
        return self.at(w[1] + (w[3] - w[1]) * where, (w[2] + w[4]) / 2)


async def geometry(page: Page, doc: dict[str, Any]) -> PageGeometry:
    layer = page.locator('[data-testid="ink-layer"][data-page="1"]')
    await expect(layer).to_be_attached()
    box = await layer.bounding_box()
    assert box is not None
    return PageGeometry(box, doc["current_version"]["page_sizes"][0])


async def tool(page: Page, name: str) -> None:
    button = page.locator(f'[data-testid="annotation-toolbar"] [data-tool="{name}"]')
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true")


async def pen_stroke(page: Page, points: list[tuple[float, float, float]]) -> None:
    """A pen stroke through the DevTools protocol: mouse events typed as a pen, with force."""
    cdp = await page.context.new_cdp_session(page)
    common = {"pointerType": "pen", "button": "left"}
    x, y, force = points[0]
    await cdp.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y,
                                                "force": force, "buttons": 1, "clickCount": 1,
                                                **common})
    for x, y, force in points[1:]:
        await cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y,
                                                    "force": force, "buttons": 1, **common})
    await cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y,
                                                "force": 0, "buttons": 0, "clickCount": 1,
                                                **common})
    await cdp.detach()


async def mine(app: WebApp, version_id: int) -> list[dict[str, Any]]:
    status, body, _ = await app.http(
        "GET", f"/api/document-versions/{version_id}/annotations",
        token=await app.token(DELEGATE))
    assert status == 200, body
    return [a for a in body["annotations"] if a["mine"]]


async def axe_over(page: Page, axe, *selectors: str) -> list[dict[str, Any]]:
    """axe-core over the annotation parts only (the `axe` fixture loads it and checks the whole
    page; the reader's own findings are the reader's tests' business)."""
    await axe(page)
    return list(await page.evaluate(
        """async (include) => {
            const result = await window.axe.run({ include: include.map(s => [s]) },
                                                { resultTypes: ['violations'] });
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.map(n => ({ target: n.target.join(' '),
                                                        summary: n.failureSummary })) }));
        }""", list(selectors)))


async def test_pen_highlight_note_on_two_tablets_then_a_new_version(
        fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    old_pdf, new_pdf = versions()
    doc = await upload(app, old_pdf)
    version_id = doc["current_version"]["id"]
    path = f"/m/{app.meeting_id}?doc={doc['id']}"
    one = await new_page(DELEGATE, path=path, app=app)
    two = await new_page(DELEGATE, viewport=(800, 1280), path=None, app=app)
    # The second tablet's lists of annotations are read by the server at once but answered
    # only after the stroke below reached it as a user event: an old list must not hide it.
    listed = asyncio.Event()
    held: list[asyncio.Task[None]] = []

    async def answer(route: Route) -> None:
        response = await route.fetch()
        await listed.wait()
        await route.fulfill(response=response)

    await two.route(re.compile(r"/api/document-versions/\d+/annotations$"),
                    lambda route: held.append(asyncio.ensure_future(answer(route))))
    await two.goto(path)
    # the second tablet connected (its user's room, where the stroke comes as a user event) and
    # its list asked for, before the stroke: drawn earlier, the stroke could only reach it in
    # the list held above (seen once, with a second test process loading the machine)
    await expect(two.locator('[data-connection="online"]')).to_have_count(1, timeout=30_000)
    for _ in range(300):
        if held:
            break
        await asyncio.sleep(0.05)
    g = await geometry(one, doc)

    # a pen stroke in the left margin, pressure rising
    await tool(one, "pen")
    x0, y0 = g.at(20, g.h * 0.6)
    await pen_stroke(one, [(x0 + i * 0.5, y0 + i * 4, 0.2 + i * 0.03) for i in range(20)])
    await expect(one.locator('[data-kind="ink"]')).to_have_count(1)
    await expect(two.locator('[data-kind="ink"]')).to_have_count(1)
    assert held, "the second tablet asked for no list"
    listed.set()
    await asyncio.gather(*held)
    await two.wait_for_load_state("networkidle")  # the old lists answered and applied
    await expect(two.locator('[data-kind="ink"]')).to_have_count(1)
    [ink] = await mine(app, version_id)
    pressures = [p[2] for p in ink["strokes"][0]]
    assert min(pressures) < 0.35 and max(pressures) > 0.7, pressures  # the pen's own pressure

    # a sentence highlighted by dragging over its words
    page_words = await words(app, doc["id"], 0, 1)
    first, last = find(page_words, SENTENCE)
    await tool(one, "highlight")
    await one.mouse.move(*g.word(page_words[first], 0.2))
    await one.mouse.down()
    await one.mouse.move(*g.word(page_words[(first + last) // 2]), steps=5)
    await one.mouse.move(*g.word(page_words[last], 0.8), steps=5)
    await one.mouse.up()
    await expect(two.locator('[data-kind="highlight"]')).to_have_count(1)
    highlight = next(a for a in await mine(app, version_id) if a["kind"] == "highlight")
    assert highlight["anchor"]["exact"] == SENTENCE

    # a note on the doomed paragraph
    doomed, _ = find(page_words, " ".join(DOOMED.split()[:6]))
    await tool(one, "note")
    await one.get_by_test_id("reader-scroller").evaluate("el => { el.scrollTop = 400 }")
    g = await geometry(one, doc)
    await one.mouse.click(*g.word(page_words[doomed + 2]))
    await one.get_by_test_id("note-text").fill("Hỏi lại huyện về nguồn vốn")
    await one.get_by_test_id("note-save").click()
    await expect(two.locator('[data-kind="note"]')).to_have_count(1)
    await expect(two.get_by_role("button", name=re.compile("Hỏi lại huyện"))).to_be_visible()
    note = next(a for a in await mine(app, version_id) if a["kind"] == "note")
    assert "Hoa Sen" in note["anchor"]["exact"]
    assert new_page.errors(one) == [] and new_page.errors(two) == []
    await shot(one, "annotate-landscape-vi")
    await shot(two, "annotate-portrait-vi")

    # the secretariat's new version: the sentence moved, the doomed paragraph is gone
    status, body, _ = await app.http(
        "POST", f"/api/documents/{doc['id']}/versions", token=await app.token(app.secretary),
        data=new_pdf, headers={"content-type": "application/pdf"})
    assert status == 201, body
    assert body["annotations"]["orphaned"] >= 1, body["annotations"]
    await expect(one.get_by_test_id("reader-page")).to_contain_text("bản 2")
    await one.get_by_test_id("annotation-panel-toggle").click()
    panel = one.get_by_test_id("annotations-panel")
    moved = panel.locator('[data-kind="highlight"]')
    await expect(moved).to_contain_text(SENTENCE)
    await expect(moved.get_by_test_id("annotation-changed")).to_be_visible()
    orphans = panel.get_by_test_id("annotations-orphans")
    await expect(orphans).to_contain_text("Hoa Sen")
    carried = next(a for a in await mine(app, body["current_version"]["id"])
                   if a["kind"] == "highlight")
    assert carried["page"] > 0 and carried["status"] == "anchored"
    violations = await axe_over(
        one, axe, "#annotations-panel", '[data-testid="annotation-toolbar"]')
    assert violations == [], format_violations(violations)
    await shot(one, "annotate-panel-landscape-vi")
    # "go to page" reopens the reader at the highlight's new page
    to = carried["page"] + 1
    await moved.get_by_role("button", name=f"Đến trang {to}").click()
    await expect(one.get_by_test_id("reader-page")).to_contain_text(f"Trang {to}/")


async def test_panel_in_english_both_orientations(fresh_webapp: WebApp, new_page, axe,
                                                  shot) -> None:
    """The list with a highlight and a shared note, in English, 1280×800 and 800×1280."""
    app = fresh_webapp
    old_pdf, _ = versions()
    doc = await upload(app, old_pdf)
    version_id = doc["current_version"]["id"]
    page_words = await words(app, doc["id"], 0, 1)
    first, last = find(page_words, SENTENCE)
    token = await app.token(DELEGATE)
    quads = [[w[1], w[4], w[3], w[4], w[1], w[2], w[3], w[2]]
             for w in page_words[first:last + 1]]
    base = {"document_version_id": version_id, "page": 0, "color": "#ffd400"}
    for body in (
        {**base, "id": "0b8a0f7e-4a7e-4a59-9d59-5f3a4f0c2b11", "kind": "highlight",
         "opacity": 0.4, "quads": quads, "anchor": {"exact": SENTENCE}},
        {**base, "id": "0b8a0f7e-4a7e-4a59-9d59-5f3a4f0c2b12", "kind": "note",
         "rect": [60, 500, 78, 518], "text": "Ask the district", "shared": True},
    ):
        status, answer, _ = await app.http("POST", "/api/annotations", token=token, json=body)
        assert status == 200, answer
    for size, name in (((1280, 800), "landscape"), ((800, 1280), "portrait")):
        page = await new_page(DELEGATE, viewport=size, locale="en", app=app,
                              path=f"/m/{app.meeting_id}?doc={doc['id']}")
        await page.get_by_test_id("annotation-panel-toggle").click()
        panel = page.get_by_test_id("annotations-panel")
        await expect(panel.locator("li[data-kind]")).to_have_count(2)
        await expect(panel).to_contain_text("Shared with the meeting")
        await expect(panel).to_contain_text(SENTENCE)
        await expect(page.get_by_role("button", name="Note: Ask the district")).to_be_visible()
        violations = await axe_over(
            page, axe, "#annotations-panel", '[data-testid="annotation-toolbar"]')
        assert violations == [], format_violations(violations)
        await shot(page, f"annotate-panel-{name}-en")
        assert new_page.errors(page) == []


async def test_a_highlight_moved_within_its_page_is_flagged(fresh_webapp: WebApp, new_page, axe,
                                                           shot) -> None:
    """A new version inserts a paragraph between two highlighted sentences of page 1: the one
    below it moves down the same page and is flagged "changed since you annotated"
    (`reanchor.moved`); the one above, where nothing moved, is not."""
    app = fresh_webapp
    prose = vietnamese_paragraphs(10, seed=5)
    below = " ".join(prose[2].split()[:9])
    old = [prose[0], SENTENCE + " " + prose[1], prose[2], *prose[3:6]]
    new = [prose[0], SENTENCE + " " + prose[1],
           "Hội đồng nhân dân tỉnh đã nghe báo cáo thẩm tra của Ban kinh tế - ngân sách.",
           prose[2], *prose[3:6]]
    doc = await upload(app, generate_agenda_document(TITLE, old))
    version_id = doc["current_version"]["id"]
    page_words = await words(app, doc["id"], 0, 1)
    token = await app.token(DELEGATE)

    def highlight(text: str, ident: str) -> dict[str, Any]:
        first, last = find(page_words, text)
        quads = [[w[1], w[4], w[3], w[4], w[1], w[2], w[3], w[2]]
                 for w in page_words[first:last + 1]]
        return {"id": ident, "document_version_id": version_id, "page": 0, "kind": "highlight",
                "color": "#ffd400", "opacity": 0.4, "quads": quads, "anchor": {"exact": text}}

    for body in (highlight(SENTENCE, "0b8a0f7e-4a7e-4a59-9d59-5f3a4f0c2c01"),
                 highlight(below, "0b8a0f7e-4a7e-4a59-9d59-5f3a4f0c2c02")):
        status, answer, _ = await app.http("POST", "/api/annotations", token=token, json=body)
        assert status == 200, answer
    status, body, _ = await app.http(
        "POST", f"/api/documents/{doc['id']}/versions", token=await app.token(app.secretary),
        data=generate_agenda_document(TITLE, new), headers={"content-type": "application/pdf"})
    assert status == 201, body
    carried = {a["anchor"]["exact"]: a for a in await mine(app, body["current_version"]["id"])}
    assert carried[below]["page"] == 0 and carried[below]["reanchor"]["from_page"] == 0
    assert carried[below]["reanchor"]["moved"] is True
    assert carried[SENTENCE]["reanchor"]["moved"] is False

    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}?doc={doc['id']}")
    await expect(page.get_by_test_id("reader-page")).to_contain_text("bản 2")
    await page.get_by_test_id("annotation-panel-toggle").click()
    panel = page.get_by_test_id("annotations-panel")
    await expect(panel.locator("li[data-kind]")).to_have_count(2)
    moved = panel.locator("li[data-kind]", has_text=below)
    still = panel.locator("li[data-kind]", has_text=SENTENCE)
    await expect(moved.get_by_test_id("annotation-changed")).to_have_text(
        re.compile("Đã thay đổi kể từ khi bạn ghi chú"))
    await expect(still.get_by_test_id("annotation-changed")).to_have_count(0)
    violations = await axe_over(page, axe, "#annotations-panel")
    assert violations == [], format_violations(violations)
    await shot(page, "annotate-moved-in-page-vi")
