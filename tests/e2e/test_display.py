"""The hall display (/m/{id}/display) in headless Chromium at 1920×1080 (docs/WEBAPP.md,
"The hall display"). The chair and the delegates act through the protocol client; the test
reads what the display shows and compares it with what the server says.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from realtime.client import QuorumClient
from tests.e2e.conftest import PageFactory, WebApp, format_violations

pytestmark = pytest.mark.browser

HALL = (1920, 1080)
Axe = Callable[[Page], Awaitable[list[dict[str, Any]]]]
Shot = Callable[..., Awaitable[Path]]

WORDS = {
    "vi": {"left": "Còn 0:", "warn": "Sắp hết thời gian", "over": "Quá giờ +0:",
           "adopted": "Thông qua", "met": "Đủ số đại biểu", "not_met": "Chưa đủ số đại biểu",
           "reconnecting": "Đang kết nối lại"},
    "en": {"left": "0:", "warn": "Speaking time almost up", "over": "Over time +0:",
           "adopted": "Adopted", "met": "Quorum present", "not_met": "No quorum",
           "reconnecting": "Reconnecting"},
}


async def command(client: QuorumClient, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return await client.command(name, payload)


async def open_display(new_page: PageFactory, app: WebApp, lang: str) -> Page:
    # the context's language stays Vietnamese: English comes from ?lang=en (a hall screen
    # with no keyboard is set up by its address)
    query = "?lang=en" if lang == "en" else ""
    page = await new_page("display", viewport=HALL, locale="vi", app=app,
                          path=f"/m/{app.meeting_id}/display{query}")
    try:
        await expect(page.get_by_test_id("display-title")).to_have_text("Phiên diễn tập")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\npage errors: {new_page.errors(page)}") from None
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


async def check_axe(page: Page, axe: Axe) -> None:
    violations = await axe(page)
    assert not violations, format_violations(violations)


async def fits(page: Page, viewport: tuple[int, int] = HALL) -> None:
    """Nothing scrolls."""
    sizes = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert sizes[0] <= viewport[0] and sizes[1] <= viewport[1], sizes


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_display_follows_the_sitting(
    lang: str, fresh_webapp: WebApp, new_page: PageFactory, axe: Axe, shot: Shot
) -> None:
    app, mid = fresh_webapp, fresh_webapp.meeting_id
    words = WORDS[lang]
    chair = await app.client("chair")
    view = await chair.join(mid)
    await command(chair, "meeting.open", {"meeting_id": mid})
    page = await open_display(new_page, app, lang)
    await check_axe(page, axe)
    # headless Chromium grants the screen wake lock: no hint
    await expect(page.get_by_test_id("display-wake-hint")).to_have_count(0)

    # the chair moves the agenda: the display follows
    items = view.snapshot["agenda"]
    item = items[1]
    await command(chair, "agenda.set_current", {"meeting_id": mid, "item_id": item["id"]})
    await expect(page.get_by_test_id("display-item-title")).to_have_text(item["title"])

    # quorum follows check-ins: present / total / needed as the server counts them
    delegates = [await app.client(name) for name in app.delegates[:4]]
    for number, delegate in enumerate(delegates, start=1):
        await delegate.join(mid)
        ack = await command(delegate, "attendance.check_in", {"meeting_id": mid})
        quorum = ack["attendance"]["quorum"]  # as the server counts it
        assert quorum["present"] == number
        await expect(page.get_by_test_id("quorum-present")).to_have_text(str(number))
        status = words["met"] if quorum["met"] else words["not_met"]
        await expect(page.get_by_test_id("quorum-status")).to_contain_text(status)
    assert quorum["met"] is True

    # a speaker with 35 s: the countdown, then the warning of the last 30 s (words and shape)
    speaker = await command(chair, "speakers.add",
                            {"meeting_id": mid, "item_id": item["id"], "user_id": await user_id(
                                app, app.delegates[0])})
    speaker_id = speaker_id_of(speaker)
    await command(chair, "speakers.start", {"speaker_id": speaker_id, "time_limit_s": 35})
    panel = page.get_by_test_id("display-speaker")
    await expect(panel).to_contain_text(await user_name(app, app.delegates[0]))
    await expect(panel).to_have_attribute("data-phase", "normal")
    await expect(panel).to_have_attribute("data-phase", "warning", timeout=12_000)
    timer = page.get_by_test_id("speaker-timer")
    await expect(timer).to_contain_text(words["warn"])
    await expect(timer).to_contain_text(words["left"])
    assert await timer.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    await fits(page)
    await shot(page, f"display-speaker-{lang}")
    await check_axe(page, axe)
    await command(chair, "speakers.stop", {"speaker_id": speaker_id})
    if lang == "vi":  # over time, with the shortest limit the server allows (10 s)
        other = await user_id(app, app.delegates[1])
        second = await command(chair, "speakers.add",
                               {"meeting_id": mid, "item_id": item["id"], "user_id": other})
        await command(chair, "speakers.start",
                      {"speaker_id": speaker_id_of(second), "time_limit_s": 10})
        await expect(panel).to_have_attribute("data-phase", "over", timeout=15_000)
        await expect(timer).to_contain_text(words["over"])
        assert await timer.evaluate("e => getComputedStyle(e).borderTopStyle") == "double"
        await shot(page, f"display-speaker-over-{lang}")
        await command(chair, "speakers.stop", {"speaker_id": speaker_id_of(second)})
    await expect(page.get_by_test_id("display-speaker")).to_have_count(0)

    # a poll: the ballots received rise as the delegates vote, as the server counts them
    secret = lang == "vi"
    created = await command(chair, "poll.create", {
        "meeting_id": mid, "title": "Thông qua chương trình kỳ họp" if lang == "vi"
        else "Approve the order of business", "kind": "motion", "secret": secret,
        "agenda_item_id": item["id"]})
    poll_id = int(created["poll_id"])
    await command(chair, "poll.open", {"poll_id": poll_id})
    received = page.get_by_test_id("ballots-received")
    await expect(received).to_have_text("0")
    await expect(page.get_by_test_id("display-poll")).to_contain_text("/4")
    choices = ["yes", "yes", "yes", "no"]
    for count, (delegate, choice) in enumerate(zip(delegates, choices, strict=True), start=1):
        await delegate.call("ballot.cast", {"poll_id": poll_id, "choice": choice,
                                            "idempotency_key": uuid.uuid4().hex})
        server_count = await progress_voted(chair, poll_id, count)
        await expect(received).to_have_text(str(server_count))
        if count == 2:
            await fits(page)
            await shot(page, f"display-poll-{lang}")
            await check_axe(page, axe)

    # close, then publish: the bars, the counts and the outcome in words
    await command(chair, "poll.close", {"poll_id": poll_id})
    await expect(page.get_by_test_id("display-poll-closed")).to_be_visible()
    await watch_result(page)
    sent = time.time()
    published = await command(chair, "poll.publish", {"poll_id": poll_id})
    acked = time.time()
    result = published["poll"]["result"]
    outcome = page.get_by_test_id("result-outcome")
    await expect(outcome).to_contain_text(words["adopted"])
    shown_at = await page.evaluate("() => window.__resultAt") / 1000
    print(f"\npublish ({lang}): send→visible {1000 * (shown_at - sent):.0f} ms, "
          f"ack→visible {1000 * (shown_at - acked):.0f} ms")
    bars = page.get_by_test_id("result-bar")
    await expect(bars).to_have_count(len(result["counts"]))
    for row in result["counts"]:
        bar = page.locator(f"[data-testid=result-bar][data-option={row['option']}]")
        await expect(bar).to_have_attribute("data-count", str(row["value"]))
    await expect(page.locator("[data-option=yes]")).to_contain_text("75")  # 3 of 4 votes cast
    await fits(page)
    await shot(page, f"display-result-{lang}")
    await check_axe(page, axe)
    assert not new_page.errors(page)


async def test_display_catches_up_after_a_drop(
    fresh_webapp: WebApp, new_page: PageFactory
) -> None:
    """The server drops the display (the network goes); meanwhile the chair moves on and
    ballots are cast; when it comes back the display shows all of it, the count included."""
    app, mid = fresh_webapp, fresh_webapp.meeting_id
    chair = await app.client("chair")
    view = await chair.join(mid)
    await command(chair, "meeting.open", {"meeting_id": mid})
    delegates = [await app.client(name) for name in app.delegates[:4]]
    for delegate in delegates[:3]:
        await delegate.join(mid)
        await command(delegate, "attendance.check_in", {"meeting_id": mid})
    page = await open_display(new_page, app, "vi")
    await expect(page.get_by_test_id("quorum-present")).to_have_text("3")
    marker = page.get_by_test_id("display-connection")
    await expect(marker).to_have_attribute("data-state", "online")

    await page.context.set_offline(True)
    await expect(marker).to_have_attribute("data-state", "reconnecting", timeout=30_000)
    await expect(marker).to_contain_text(WORDS["vi"]["reconnecting"])
    # the hall still reads the last known state: nothing is covered
    await expect(page.get_by_test_id("quorum-present")).to_be_visible()

    item = view.snapshot["agenda"][2]
    await command(chair, "agenda.set_current", {"meeting_id": mid, "item_id": item["id"]})
    await delegates[3].join(mid)
    await command(delegates[3], "attendance.check_in", {"meeting_id": mid})
    created = await command(chair, "poll.create", {"meeting_id": mid, "title": "Biểu quyết",
                                                  "kind": "motion", "secret": True})
    poll_id = int(created["poll_id"])
    await command(chair, "poll.open", {"poll_id": poll_id})
    for delegate in delegates[:2]:
        await delegate.call("ballot.cast", {"poll_id": poll_id, "choice": "yes",
                                            "idempotency_key": uuid.uuid4().hex})
    await progress_voted(chair, poll_id, 2)

    await page.context.set_offline(False)
    await expect(marker).to_have_attribute("data-state", "online", timeout=30_000)
    await expect(page.get_by_test_id("display-item-title")).to_have_text(item["title"])
    await expect(page.get_by_test_id("quorum-present")).to_have_text("4")
    # no ballot came after the return: the count is the one of the join (its `progress`)
    await expect(page.get_by_test_id("ballots-received")).to_have_text("2")
    assert not [e for e in new_page.errors(page) if "pageerror" in e]


async def test_display_scales_and_hints(webapp: WebApp, new_page: PageFactory) -> None:
    """A 1366×768 projector gets the same screen scaled down, nothing scrolls; without the
    Wake Lock API a hint says to turn off sleep; the full-screen button for the operator
    shows only when focused, and not at all in kiosk mode (?kiosk=1)."""
    small = (1366, 768)
    page = await new_page("display", viewport=small, path=None)
    await page.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'wakeLock', "
        "{ get: () => undefined, configurable: true })"
    )
    await page.goto(f"/m/{webapp.meeting_id}/display")
    await expect(page.get_by_test_id("display-title")).to_have_text("Phiên diễn tập")
    await expect(page.get_by_test_id("display-wake-hint")).to_contain_text("chế độ ngủ")
    await fits(page, small)
    box = await page.locator(".screen").bounding_box()
    assert box is not None and abs(box["width"] - small[0]) < 2, box
    button = page.get_by_role("button", name="Toàn màn hình (F11)")
    assert (await button.bounding_box() or {"width": 0})["width"] <= 1
    await page.keyboard.press("Tab")
    await expect(button).to_be_focused()
    assert (await button.bounding_box() or {"width": 0})["width"] > 44
    await page.goto(f"/m/{webapp.meeting_id}/display?kiosk=1")
    await expect(page.get_by_test_id("display-title")).to_have_text("Phiên diễn tập")
    await expect(page.get_by_role("button")).to_have_count(0)
    await expect(page.get_by_test_id("display-wake-hint")).to_have_count(0)


async def test_display_election_and_confidence(
    fresh_webapp: WebApp, new_page: PageFactory, axe: Axe, shot: Shot
) -> None:
    """Results with many rows still fit: a secret election of six candidates for two seats
    (seven bars with the blank ballots), then a confidence vote (a table of levels)."""
    app, mid = fresh_webapp, fresh_webapp.meeting_id
    chair = await app.client("chair")
    await chair.join(mid)
    await command(chair, "meeting.open", {"meeting_id": mid})
    delegates = [await app.client(name) for name in app.delegates[:5]]
    for delegate in delegates:
        await delegate.join(mid)
        await command(delegate, "attendance.check_in", {"meeting_id": mid})
    page = await open_display(new_page, app, "vi")
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Quốc Cường", "Phạm Minh Dũng",
             "Hoàng Thu Giang", "Võ Thanh Hà"]
    created = await command(chair, "poll.create", {
        "meeting_id": mid, "kind": "election", "secret": True, "candidates": names,
        "seats": 2, "max_choices": 2,
        "title": "Bầu Phó Chủ tịch Hội đồng nhân dân tỉnh nhiệm kỳ 2026–2031 "
                 "(bầu bổ sung theo Nghị quyết số 15/2026)"})
    poll_id = int(created["poll_id"])
    await command(chair, "poll.open", {"poll_id": poll_id})
    for i, delegate in enumerate(delegates):
        await delegate.call("ballot.cast", {"poll_id": poll_id, "choice": [names[i % 3], names[3]],
                                            "idempotency_key": uuid.uuid4().hex})
    await command(chair, "poll.close", {"poll_id": poll_id})
    await expect(page.get_by_test_id("display-poll-closed")).to_be_visible()
    await command(chair, "poll.publish", {"poll_id": poll_id})
    await expect(page.get_by_test_id("result-outcome")).to_have_attribute("data-outcome", "partial")
    await expect(page.get_by_test_id("display-result")).to_contain_text("Trúng cử: Phạm Minh Dũng")
    await expect(page.get_by_test_id("result-bar")).to_have_count(7)
    await expect(page.locator("[data-testid=result-bar][data-option=abstain]")).to_contain_text(
        "Phiếu trắng")
    await fits(page)
    # every bar is inside the screen
    last = await page.get_by_test_id("result-bar").last.bounding_box()
    assert last is not None and last["y"] + last["height"] <= HALL[1], last
    await shot(page, "display-election-vi")
    await check_axe(page, axe)

    officeholders = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Quốc Cường"]
    created = await command(chair, "poll.create", {
        "meeting_id": mid, "kind": "confidence", "secret": True, "officeholders": officeholders,
        "title": "Lấy phiếu tín nhiệm"})
    poll_id = int(created["poll_id"])
    await command(chair, "poll.open", {"poll_id": poll_id})
    for i, delegate in enumerate(delegates):
        choice = {officeholders[0]: "high", officeholders[1]: ["high", "medium", "low"][i % 3],
                  officeholders[2]: "low"}
        await delegate.call("ballot.cast", {"poll_id": poll_id, "choice": choice,
                                            "idempotency_key": uuid.uuid4().hex})
    await command(chair, "poll.close", {"poll_id": poll_id})
    await command(chair, "poll.publish", {"poll_id": poll_id})
    outcome = page.get_by_test_id("result-outcome")
    await expect(outcome).to_have_attribute("data-outcome", "recorded")
    rows = page.locator(".confidence tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(2)).to_contain_text("Lê Quốc Cường")
    await expect(rows.nth(2).locator("td").last).to_have_text("5")  # five "low"
    await fits(page)
    await shot(page, "display-confidence-vi")
    await check_axe(page, axe)


# --- helpers -------------------------------------------------------------------------------

async def user_id(app: WebApp, username: str) -> int:
    return int((await user_row(app, username))["user_id"])


async def user_name(app: WebApp, username: str) -> str:
    return str((await user_row(app, username))["name"])


async def user_row(app: WebApp, username: str) -> dict[str, Any]:
    client = await app.client("chair")
    try:
        ack = await client.call("meeting.join", {"meeting_id": app.meeting_id})
    finally:
        await client.disconnect()
    row: dict[str, Any] = next(
        p for p in ack["snapshot"]["participants"] if p["username"] == username
    )
    return row


def speaker_id_of(ack: dict[str, Any]) -> int:
    return int(ack["speaker_id"])


async def progress_voted(chair: QuorumClient, poll_id: int, at_least: int) -> int:
    """The count of ballots the server last told the chair's room (`poll_progress`)."""
    async with asyncio.timeout(10):
        while True:
            counts = [u["data"]["voted"] for u in chair.updates
                      if u["type"] == "poll_progress" and u["data"]["poll_id"] == poll_id]
            if counts and counts[-1] >= at_least:
                return int(counts[-1])
            await asyncio.sleep(0.02)


async def watch_result(page: Page) -> None:
    """Note in the page the moment the published result appears (epoch ms, the test's clock)."""
    await page.evaluate(
        """() => {
            window.__resultAt = null;
            const seen = () => {
                if (!window.__resultAt && document.querySelector('[data-testid=result-outcome]'))
                    window.__resultAt = Date.now();
            };
            new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
        }"""
    )
