"""The offline briefcase in a real browser (docs/WEBAPP.md, "Offline briefcase").

A delegate downloads the meeting, the browser context goes offline (`context.set_offline`), the
page is reloaded: the app shell comes from the service worker's precache, the sitting from the
briefcase's snapshot, and the page images from the briefcase's cache. Each test has a server of
its own (`fresh_webapp`).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from playwright.async_api import Browser, CDPSession, Page, expect

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
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
    assert await image_loads(page, f"/api/documents/{annex['id']}/pages/1/image?version=1&width=1200")
    listed = await page.evaluate("(id) => fetch(`/api/meetings/${id}/documents`).then((r) => r.json())",
                                 app.meeting_id)
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
