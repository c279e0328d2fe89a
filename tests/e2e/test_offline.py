"""The offline briefcase in a real browser (docs/WEBAPP.md, "Offline briefcase").

A delegate downloads the meeting, the browser context goes offline (`context.set_offline`, and
the service worker's own network through the DevTools protocol), the page is reloaded: the app
shell comes from the service worker's precache, the sitting from the briefcase's snapshot, and
the page images from the briefcase's cache. Annotations made offline wait in IndexedDB with
their idempotency keys, survive a reload, and reach the server once each when the network is
back: the test reads the database. Each test has a server of its own (`fresh_webapp`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from typing import Any

import pytest
from playwright.async_api import Browser, CDPSession, Page, expect
from sqlmodel import col, select

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from meetings.storage.tables import CommandResult
from meetings.storage.tables_annotations import AnnotationRow
from tests.e2e.conftest import WebApp, format_violations

pytestmark = pytest.mark.browser

DELEGATE = "delegate001"


async def upload(app: WebApp, title: str, pages: int, query: str = "") -> dict[str, Any]:
    pdf = generate_agenda_document(title, vietnamese_paragraphs(4, seed=pages), pages=pages)
    status, doc, _ = await app.http(
        "POST", f"/api/meetings/{app.meeting_id}/documents?title={title}{query}",
        token=await app.token(app.secretary), data=pdf,
        headers={"content-type": "application/pdf"})
    assert status == 201, doc
    return doc  # type: ignore[no-any-return]


async def download(page: Page) -> None:
    """Tap "Download this meeting" and wait until every page is said to be held."""
    await page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=20_000)
    briefcase = page.get_by_test_id("briefcase")
    await briefcase.get_by_role("button", name="Tải phiên họp về máy").click()
    await expect(page.get_by_test_id("briefcase-complete")).to_be_visible(timeout=60_000)


async def image_loads(page: Page, url: str) -> bool:
    """Whether an <img> of `url` loads in the page (through the service worker)."""
    return bool(await page.evaluate(
        """(url) => new Promise((done) => { const img = new Image();
             img.onload = () => done(img.naturalWidth > 0); img.onerror = () => done(false);
             img.src = url; })""", url))


class Network:
    """Takes a context and its service worker off the network and back.

    `context.set_offline` does not reach service workers (Playwright issue 2311): the worker's
    own fetches would still reach the server and the test would prove nothing. The worker's
    network is switched through the DevTools protocol, as DevTools' "Offline" box does.
    """

    def __init__(self, browser: Browser, page: Page) -> None:
        self.browser = browser
        self.page = page
        self.cdp: CDPSession | None = None
        self.ids = itertools.count(1)
        self.sessions: dict[str, str] = {}  # the worker's target → our session with it

    async def offline(self, offline: bool) -> None:
        await self.page.context.set_offline(offline)
        self.cdp = self.cdp or await self.browser.new_browser_cdp_session()
        targets = (await self.cdp.send("Target.getTargets"))["targetInfos"]
        workers = [t for t in targets if t["type"] == "service_worker"]
        assert workers, "no service worker is running"
        conditions = {"offline": offline, "latency": 0, "downloadThroughput": -1,
                      "uploadThroughput": -1}
        for worker in workers:
            if worker["targetId"] not in self.sessions:
                attached = await self.cdp.send(
                    "Target.attachToTarget", {"targetId": worker["targetId"], "flatten": False})
                self.sessions[worker["targetId"]] = attached["sessionId"]
                await self.send(worker["targetId"], "Network.enable", {})
            await self.send(worker["targetId"], "Network.emulateNetworkConditions", conditions)

    async def send(self, target: str, method: str, params: dict[str, Any]) -> None:
        assert self.cdp is not None
        message = json.dumps({"id": next(self.ids), "method": method, "params": params})
        await self.cdp.send("Target.sendMessageToTarget",
                            {"sessionId": self.sessions[target], "message": message})


async def test_downloaded_meeting_opens_offline_after_a_reload(fresh_webapp: WebApp, new_page,
                                                               browser: Browser, axe,
                                                               shot) -> None:
    app = fresh_webapp
    budget = await upload(app, "Dự toán ngân sách", pages=3)
    annex = await upload(app, "Phụ lục mật", pages=2, query="&visibility=confidential"
                         f"&allowed_user_ids={await user_id(app, DELEGATE)}")
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await expect(page.get_by_role("heading", name="Mang theo khi mất mạng")).to_be_visible()
    await download(page)
    briefcase = page.get_by_test_id("briefcase")
    await expect(briefcase).to_contain_text("Dự toán ngân sách: đủ 3 trang")
    await expect(briefcase).to_contain_text("Phụ lục mật: đủ 2 trang")
    await expect(briefcase).to_contain_text(re.compile(r"Tài liệu mật: xóa khỏi máy lúc \d\d:\d\d"))
    assert not format_violations(await axe(page))
    await shot(page, "offline-downloaded-vi")

    # after the download the secretariat adds a document: offline, the tablet cannot have it
    late = await upload(app, "Tờ trình bổ sung", pages=1)
    late_page = f"/api/documents/{late['id']}/pages/0/image?version=1&width=1200"
    network = Network(browser, page)
    await network.offline(True)
    assert not await image_loads(page, late_page)
    await page.reload()
    await expect(page.get_by_role("heading", name="Chương trình")).to_be_visible(timeout=20_000)
    await expect(page.get_by_test_id("connection")).to_contain_text("Mất kết nối")
    first = f"/api/documents/{budget['id']}/pages/0/image?version=1&width=1200"
    assert await image_loads(page, first)
    # a width that was not downloaded is answered with the one that was
    assert await image_loads(page, first.replace("1200", "800"))
    annex_page = f"/api/documents/{annex['id']}/pages/1/image?version=1&width=1200"
    assert await image_loads(page, annex_page)
    listed = await page.evaluate(
        "(id) => fetch(`/api/meetings/${id}/documents`).then((r) => r.json())", app.meeting_id)
    assert [d["title"] for d in listed] == ["Dự toán ngân sách", "Phụ lục mật"]
    assert not await image_loads(page, late_page)
    await shot(page, "offline-reloaded-vi")

    await network.offline(False)
    await expect(page.get_by_test_id("connection")).not_to_contain_text("Mất kết nối",
                                                                        timeout=20_000)
    status = await page.evaluate("(url) => fetch(url).then((r) => r.status, () => 0)", late_page)
    assert status == 200


async def user_id(app: WebApp, username: str) -> int:
    status, me, _ = await app.http("GET", "/api/auth/me", token=await app.token(username))
    assert status == 200, me
    return int(me["id"])


async def tool(page: Page, name: str) -> None:
    button = page.locator(f'[data-testid="annotation-toolbar"] [data-tool="{name}"]')
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true")


async def pen(page: Page, x: float, y: float) -> None:
    """A short pen stroke at (x, y) on the screen, through the DevTools protocol (a pen with
    pressure: the protocol's touch events cannot be pens)."""
    cdp = await page.context.new_cdp_session(page)
    common = {"pointerType": "pen", "button": "left"}
    steps = [(x + i, y + i * 5, 0.3 + i * 0.05) for i in range(10)]
    for n, (px, py, force) in enumerate(steps):
        kind = "mousePressed" if n == 0 else "mouseMoved"
        await cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": px, "y": py, "force": force,
                                                    "buttons": 1, "clickCount": 1, **common})
    await cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": px, "y": py,
                                                "force": 0, "buttons": 0, "clickCount": 1,
                                                **common})
    await cdp.detach()


async def stored(app: WebApp, version_id: int) -> list[AnnotationRow]:
    async def read(services: Any) -> list[AnnotationRow]:
        async with services.db.reading() as session:
            rows = await session.execute(
                select(AnnotationRow).where(col(AnnotationRow.version_id) == version_id))
            return list(rows.scalars().all())

    return await app.in_server(read)


async def settled(app: WebApp, version_id: int, count: int) -> list[AnnotationRow]:
    """The version's stored annotations once there are `count` (or after 20 s)."""
    for _ in range(100):
        rows = await stored(app, version_id)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.2)
    return await stored(app, version_id)


async def upsert_keys(app: WebApp) -> list[str]:
    async def read(services: Any) -> list[str]:
        async with services.db.reading() as session:
            rows = await session.execute(select(CommandResult.key).where(
                col(CommandResult.command) == "annotation.upsert"))
            return [str(k) for k in rows.scalars().all()]

    return await app.in_server(read)


async def test_annotations_made_offline_reach_the_server_once(fresh_webapp: WebApp, new_page,
                                                               browser: Browser, shot) -> None:
    app = fresh_webapp
    doc = await upload(app, "Tờ trình đầu tư công", pages=2)
    version_id = doc["current_version"]["id"]
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await download(page)
    await page.goto(f"/m/{app.meeting_id}?doc={doc['id']}")
    layer = page.locator('[data-testid="ink-layer"][data-page="1"]')
    await expect(layer).to_be_attached()
    strokes = page.locator('[data-kind="ink"]')

    async def box() -> dict[str, float]:
        found = await layer.bounding_box()
        assert found is not None
        return found

    # online: one stroke, stored at once
    await tool(page, "pen")
    b = await box()
    await pen(page, b["x"] + 30, b["y"] + 100)
    await expect(strokes).to_have_count(1)
    assert len(await settled(app, version_id, 1)) == 1

    # offline: a stroke and a note, kept on the tablet
    network = Network(browser, page)
    await network.offline(True)
    await pen(page, b["x"] + 30, b["y"] + 250)
    await expect(strokes).to_have_count(2)
    await tool(page, "note")
    await page.mouse.click(b["x"] + b["width"] / 2, b["y"] + 160)
    await page.get_by_test_id("note-text").fill("Hỏi lại nguồn vốn khi có mạng")
    await page.get_by_test_id("note-save").click()
    await expect(page.locator('[data-kind="note"]')).to_have_count(1)
    assert len(await stored(app, version_id)) == 1

    # reloaded while offline: the reader comes back with all three, and takes one more
    await page.reload()
    await expect(layer).to_be_attached(timeout=20_000)
    await expect(strokes).to_have_count(2)
    await expect(page.locator('[data-kind="note"]')).to_have_count(1)
    await tool(page, "pen")
    b = await box()
    await pen(page, b["x"] + 30, b["y"] + 400)
    await expect(strokes).to_have_count(3)
    await shot(page, "offline-annotated-vi")
    assert len(await stored(app, version_id)) == 1

    # back online: everything reaches the server, each once
    await network.offline(False)
    rows = await settled(app, version_id, 4)
    assert sorted(r.kind for r in rows) == ["ink", "ink", "ink", "note"]
    assert all(r.version == 1 and not r.deleted for r in rows), [(r.kind, r.version) for r in rows]
    assert next(r for r in rows if r.kind == "note").data["text"] == "Hỏi lại nguồn vốn khi có mạng"
    keys = await upsert_keys(app)
    assert len(keys) == len(set(keys)) == 4
    await page.wait_for_timeout(1_000)  # anything sent twice would show now
    again = await stored(app, version_id)
    assert [(r.id, r.version) for r in again] == [(r.id, r.version) for r in rows]
    assert (await briefcase_left(page))["pending"] == 0

    # offline again: a stroke, then the reader is closed before the network comes back; the
    # sitting view sends it (no reader is open to do so)
    await network.offline(True)
    await pen(page, b["x"] + 60, b["y"] + 500)
    await expect(strokes).to_have_count(4)
    await page.get_by_test_id("reader-close").click()
    await expect(layer).to_have_count(0)
    await network.offline(False)
    rows = await settled(app, version_id, 5)
    assert sorted(r.kind for r in rows) == ["ink", "ink", "ink", "ink", "note"]
    assert all(r.version == 1 for r in rows)
    assert (await briefcase_left(page))["pending"] == 0


async def test_offline_annotations_are_sent_from_any_page(fresh_webapp: WebApp, new_page,
                                                          browser: Browser, shot) -> None:
    """Annotated offline in the reader, reloaded offline, back online on the home page (no
    reader, no sitting view): the app-wide outbox sends every change once, and the reader
    opened afterwards shows them with no conflict."""
    app = fresh_webapp
    doc = await upload(app, "Tờ trình đầu tư công", pages=2)
    version_id = doc["current_version"]["id"]
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await download(page)
    reader = f"/m/{app.meeting_id}?doc={doc['id']}"
    await page.goto(reader)
    layer = page.locator('[data-testid="ink-layer"][data-page="1"]')
    await expect(layer).to_be_attached()
    strokes = page.locator('[data-kind="ink"]')
    found = await layer.bounding_box()
    assert found is not None
    b = found

    await tool(page, "pen")
    await pen(page, b["x"] + 30, b["y"] + 100)
    await expect(strokes).to_have_count(1)
    assert len(await settled(app, version_id, 1)) == 1

    network = Network(browser, page)
    await network.offline(True)
    await pen(page, b["x"] + 30, b["y"] + 250)
    await tool(page, "note")
    await page.mouse.click(b["x"] + b["width"] / 2, b["y"] + 160)
    await page.get_by_test_id("note-text").fill("Hỏi lại nguồn vốn khi có mạng")
    await page.get_by_test_id("note-save").click()
    await expect(strokes).to_have_count(2)
    await expect(page.locator('[data-kind="note"]')).to_have_count(1)

    # reloaded offline, one more stroke, then to the home page, still offline
    await page.reload()
    await expect(layer).to_be_attached(timeout=20_000)
    await expect(strokes).to_have_count(2)
    await tool(page, "pen")
    await pen(page, b["x"] + 30, b["y"] + 400)
    await expect(strokes).to_have_count(3)
    assert (await briefcase_left(page))["pending"] == 3
    await page.goto("/")
    await expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=20_000)
    assert len(await stored(app, version_id)) == 1

    # back online on the home page: the outbox sends the three, each once
    await network.offline(False)
    rows = await settled(app, version_id, 4)
    assert sorted(r.kind for r in rows) == ["ink", "ink", "ink", "note"]
    assert all(r.version == 1 and not r.deleted for r in rows), [(r.kind, r.version) for r in rows]
    keys = await upsert_keys(app)
    assert len(keys) == len(set(keys)) == 4
    for _ in range(50):
        if (await briefcase_left(page))["pending"] == 0:
            break
        await asyncio.sleep(0.2)
    assert (await briefcase_left(page))["pending"] == 0
    await expect(page).to_have_url(re.compile(r"/$"))
    await shot(page, "offline-sent-from-home-vi")

    # the reader opened now shows the four, and no conflict
    await page.goto(reader)
    await expect(layer).to_be_attached(timeout=20_000)
    await expect(strokes).to_have_count(3)
    await expect(page.locator('[data-kind="note"]')).to_have_count(1)
    await page.get_by_test_id("annotation-panel-toggle").click()
    panel = page.get_by_test_id("annotations-panel")
    await expect(panel.locator("li[data-kind]")).to_have_count(4)
    await expect(page.locator("#annotations-conflicts")).to_have_count(0)
    await page.wait_for_timeout(1_000)  # anything sent twice would show now
    again = await stored(app, version_id)
    assert sorted((r.id, r.version) for r in again) == sorted((r.id, r.version) for r in rows)
    assert len(await upsert_keys(app)) == 4


async def briefcase_left(page: Page) -> dict[str, Any]:
    """What the briefcase still holds on the device: responses in its cache, meetings, pending
    changes."""
    return dict(await page.evaluate("""async () => {
        const name = 'quorum-briefcase-v1';
        const cache = (await caches.has(name))
            ? (await (await caches.open(name)).keys()).length : 0;
        const db = await new Promise((ok) => { const r = indexedDB.open('quorum-briefcase');
                                               r.onsuccess = () => ok(r.result); });
        const count = (store) => new Promise((ok) => {
            const q = db.transaction(store).objectStore(store).count();
            q.onsuccess = () => ok(q.result); });
        const out = { cache, meetings: await count('meetings'), pending: await count('pending') };
        db.close();
        return out; }"""))


async def session_token(page: Page) -> str:
    return next(c["value"] for c in await page.context.cookies() if c["name"] == "quorum_session")


async def test_the_end_of_the_session_wipes_the_briefcase(fresh_webapp: WebApp, new_page,
                                                          browser: Browser) -> None:
    app = fresh_webapp
    doc = await upload(app, "Phụ lục mật", pages=1, query="&visibility=confidential"
                       f"&allowed_user_ids={await user_id(app, DELEGATE)}")
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await download(page)
    # a change made offline is kept too, until the wipe
    await page.goto(f"/m/{app.meeting_id}?doc={doc['id']}")
    await tool(page, "pen")
    network = Network(browser, page)
    await network.offline(True)
    layer = page.locator('[data-testid="ink-layer"][data-page="1"]')
    b = await layer.bounding_box()
    assert b is not None
    await pen(page, b["x"] + 30, b["y"] + 100)
    await expect(page.locator('[data-kind="ink"]')).to_have_count(1)
    held = await briefcase_left(page)
    assert held["cache"] > 0 and held["meetings"] == 1 and held["pending"] == 1, held

    # revoked while the tablet is away (signed out on another device): offline it still opens
    status, _, _ = await app.http("POST", "/api/auth/logout", token=await session_token(page))
    assert status == 200
    await page.reload()
    await expect(layer).to_be_attached(timeout=20_000)
    # the first contact wipes it, then asks for a login
    await network.offline(False)
    await page.wait_for_url(re.compile(r"/login\?expired=1"), timeout=20_000)
    assert await briefcase_left(page) == {"cache": 0, "meetings": 0, "pending": 0}
    assert await stored(app, doc["current_version"]["id"]) == []

    # a logout on the device itself wipes it at once
    other = await new_page("delegate002", app=app, path=f"/m/{app.meeting_id}")
    await download(other)
    await other.get_by_role("button", name="Đăng xuất").click()
    await other.wait_for_url(re.compile(r"/login$"))
    assert await briefcase_left(other) == {"cache": 0, "meetings": 0, "pending": 0}


@pytest.mark.parametrize(("locale", "size", "words"), [
    ("en", (800, 1280), ("Take it offline", "Download this meeting", "all 2 pages")),
    ("vi", (800, 1280), ("Mang theo khi mất mạng", "Tải phiên họp về máy", "đủ 2 trang")),
])
async def test_the_briefcase_card_in_both_languages(fresh_webapp: WebApp, new_page, axe, shot,
                                                     locale: str, size: tuple[int, int],
                                                     words: tuple[str, str, str]) -> None:
    app = fresh_webapp
    await upload(app, "Báo cáo", pages=2)
    page = await new_page(DELEGATE, viewport=size, locale=locale, app=app,
                          path=f"/m/{app.meeting_id}")
    card = page.get_by_test_id("briefcase")
    await expect(card.get_by_role("heading", name=words[0])).to_be_visible()
    await page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=20_000)
    await card.get_by_role("button", name=words[1]).click()
    await expect(page.get_by_test_id("briefcase-complete")).to_be_visible(timeout=60_000)
    await expect(card).to_contain_text(words[2])
    violations = await axe(page)
    assert not violations, format_violations(violations)
    await card.scroll_into_view_if_needed()
    await shot(page, f"offline-card-{locale}-portrait")
    assert not new_page.errors(page)
