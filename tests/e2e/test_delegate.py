"""The delegate's tablet in a real browser (docs/WEBAPP.md, "The delegate's tablet").

Each test has a server of its own (`fresh_webapp`, the seeded rehearsal council). The chair acts
through the Python protocol client (the chair console is tested in test_chair*.py); the delegate
acts only through the page. After each vote the test reads the poll back through REST and checks
the server agrees with what the tablet showed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page, expect

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import MeetingView, QuorumClient
from tests.e2e.conftest import WebApp, format_violations
from tests.support.bundles import first_load, gzipped_size

pytestmark = pytest.mark.browser

LAND = (1280, 800)
PORT = (800, 1280)
DELEGATE = "delegate001"
BUDGET = 150 * 1024  # JavaScript before the reader, gzipped (issue 11, "Performance")


async def sitting(app: WebApp, present: tuple[str, ...] = ("delegate002", "delegate003",
                                                          "delegate004")) -> tuple[QuorumClient,
                                                                                   MeetingView]:
    """The chair opens the sitting, records some members present and moves to item 2."""
    chair = await app.client(app.chair)
    view = await chair.join(app.meeting_id)
    if view.snapshot["meeting"]["status"] != "open":
        await chair.command("meeting.open", {"meeting_id": app.meeting_id})
    await chair.command("attendance.check_in", {"meeting_id": app.meeting_id})
    for username in present:
        await record(chair, view, username, "present")
    await chair.command("agenda.set_current",
                        {"meeting_id": app.meeting_id, "item_id": item_id(view, 2)})
    return chair, view


async def until(chair: QuorumClient, meeting_id: int, check: Callable[[dict[str, Any]], bool],
                timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until a fresh snapshot of the sitting (as the chair sees it) satisfies `check`."""
    async with asyncio.timeout(timeout):
        while True:
            ack = await chair.call("meeting.join", {"meeting_id": meeting_id})
            if check(ack["snapshot"]):
                return
            await asyncio.sleep(0.2)


async def checked_in_page(app: WebApp, new_page) -> tuple[QuorumClient, MeetingView, Page]:
    """An open sitting with the delegate recorded present, and the delegate's page on it."""
    chair, view = await sitting(app)
    await record(chair, view, DELEGATE, "present")
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await expect(page.get_by_test_id("attendance")).to_contain_text("Thư ký đã ghi bạn có mặt")
    return chair, view, page


def user_id(view: MeetingView, username: str) -> int:
    return next(int(p["user_id"]) for p in view.snapshot["participants"]
                if p["username"] == username)


def item_id(view: MeetingView, number: int) -> int:
    return int(view.snapshot["agenda"][number - 1]["id"])


async def record(chair: QuorumClient, view: MeetingView, username: str, attendance: str) -> None:
    await chair.command("attendance.record", {"meeting_id": view.meeting_id,
                                              "user_id": user_id(view, username),
                                              "attendance": attendance})


async def poll(chair: QuorumClient, app: WebApp, **spec: Any) -> int:
    """Create and open a poll; its id."""
    body = {"meeting_id": app.meeting_id, "title": "Thông qua nghị quyết", "kind": "motion"}
    ack = await chair.command("poll.create", body | spec)
    await chair.command("poll.open", {"poll_id": ack["poll_id"]})
    return int(ack["poll_id"])


async def publish(chair: QuorumClient, poll_id: int) -> None:
    await chair.command("poll.close", {"poll_id": poll_id})
    await chair.command("poll.publish", {"poll_id": poll_id})


async def results(app: WebApp, poll_id: int) -> dict[str, Any]:
    status, body, _ = await app.http("GET", f"/api/polls/{poll_id}/results",
                                     token=await app.token(app.chair))
    assert status == 200, body
    result: dict[str, Any] = body.get("result", body)
    return result


def counts(result: dict[str, Any]) -> dict[str, int]:
    return {c["option"]: c["value"] for c in result["counts"]}


async def set_language(page: Page, locale: str) -> None:
    """Switch the language the way another tab would (the ballot makes the header inert)."""
    await page.evaluate(
        """(locale) => {
            localStorage.setItem('PARAGLIDE_LOCALE', locale);
            window.dispatchEvent(new StorageEvent('storage',
                { key: 'PARAGLIDE_LOCALE', newValue: locale }));
        }""",
        locale,
    )
    await expect(page.locator("html")).to_have_attribute("lang", locale)


async def four_shots(page: Page, shot, axe, name: str) -> None:
    """Screenshots in vi and en at 1280×800 and 800×1280, with axe in both languages."""
    for locale in ("vi", "en"):
        await set_language(page, locale)
        violations = await axe(page)
        assert not violations, f"{name} ({locale}):\n{format_violations(violations)}"
        for size in (LAND, PORT):
            await page.set_viewport_size({"width": size[0], "height": size[1]})
            await page.wait_for_timeout(150)
            await shot(page, f"delegate-{name}-{locale}-{size[0]}x{size[1]}")
    await set_language(page, "vi")
    await page.set_viewport_size({"width": LAND[0], "height": LAND[1]})


def ballot(page: Page):
    return page.get_by_test_id("ballot")


async def focus_in_ballot(page: Page) -> bool:
    return bool(await page.evaluate(
        "() => !!document.activeElement?.closest('[data-testid=ballot]')"))


async def test_check_in_speak_and_floor(fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    chair, view = await sitting(app)
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await expect(page.get_by_role("heading", name="Phiên diễn tập")).to_be_visible()
    await expect(page.get_by_test_id("shown-item")).to_contain_text("Biểu quyết thử")

    # check in: the time comes from the server's row
    await page.get_by_role("button", name="Điểm danh").click()
    await expect(page.get_by_test_id("attendance")).to_contain_text(
        re.compile(r"Đã điểm danh lúc \d\d:\d\d"))

    def mine(snap: dict[str, Any]) -> dict[str, Any]:
        return next(p for p in snap["participants"] if p["username"] == DELEGATE)

    await until(chair, app.meeting_id,
                lambda snap: mine(snap)["attendance"] == "present"
                and mine(snap)["recorded_how"] == "self")

    # someone asks first; the delegate asks and sees their place
    other = await app.client("delegate002")
    await other.join(app.meeting_id)
    first = await other.command("speakers.request",
                                {"meeting_id": app.meeting_id, "item_id": item_id(view, 2)})
    await page.get_by_role("button", name="Đăng ký phát biểu").click()
    await expect(page.get_by_test_id("my-request")).to_contain_text("Bạn đứng thứ 2")
    await four_shots(page, shot, axe, "sitting-queued")

    # the chair gives the floor to the first: the delegate is next, and is told so
    await chair.command("speakers.start", {"speaker_id": first["speaker_id"], "time_limit_s": 120})
    await expect(page.get_by_test_id("current-speaker")).to_contain_text("Dương Thu Khánh")
    await expect(page.get_by_test_id("speaker-timer")).to_contain_text(re.compile(r"Còn [12]:\d\d"))
    await expect(page.get_by_test_id("my-request")).to_contain_text("Bạn phát biểu tiếp theo")
    await expect(page.locator("[data-live=assertive]")).to_have_text("Bạn phát biểu tiếp theo")
    await four_shots(page, shot, axe, "sitting-speaker")

    # withdraw: the server's list no longer has the request
    await page.get_by_role("button", name="Rút đăng ký").click()
    await expect(page.get_by_role("button", name="Đăng ký phát biểu")).to_be_enabled()
    me = user_id(view, DELEGATE)

    def my_requests(snap: dict[str, Any]) -> list[str]:
        return [s["status"] for s in snap["speakers"] if s["user_id"] == me]

    await until(chair, app.meeting_id, lambda snap: my_requests(snap) == ["withdrawn"])
    assert not new_page.errors(page)


async def test_follow_the_chair(fresh_webapp: WebApp, new_page) -> None:
    app = fresh_webapp
    chair, view = await sitting(app)
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    shown = page.get_by_test_id("shown-item")
    await expect(shown).to_contain_text("Biểu quyết thử")
    # following: the chair moves, the view moves
    await chair.command("agenda.set_current",
                        {"meeting_id": app.meeting_id, "item_id": item_id(view, 3)})
    await expect(shown).to_contain_text("Thảo luận")
    # browsing: the delegate looks at item 1, the chair moves on, the view stays
    await page.get_by_role("button", name=re.compile("Khai mạc")).click()
    await expect(page.get_by_role("switch", name="Theo chủ tọa")).to_have_attribute(
        "aria-checked", "false")
    await chair.command("agenda.set_current",
                        {"meeting_id": app.meeting_id, "item_id": item_id(view, 4)})
    back = page.get_by_test_id("back-to-chair")
    await expect(back).to_have_text(re.compile("Chủ tọa đang ở mục 4 — quay lại"))
    await expect(shown).to_contain_text("Khai mạc")
    # the item's documents arrive live, each a link opening the reader in this page
    await expect(shown).to_contain_text("Mục này không có tài liệu.")
    pdf = generate_agenda_document("Tờ trình khai mạc", vietnamese_paragraphs(3, seed=2))
    status, doc, _ = await app.http(
        "POST", f"/api/meetings/{app.meeting_id}/documents?title=Tờ trình khai mạc"
        f"&agenda_item_id={item_id(view, 1)}", token=await app.token(app.secretary),
        data=pdf, headers={"content-type": "application/pdf"})
    assert status == 201, doc
    link = shown.get_by_role("link", name=re.compile("Tờ trình khai mạc"))
    await expect(link).to_have_attribute("href", f"/m/{app.meeting_id}?doc={doc['id']}")
    await expect(shown.get_by_text("Chưa mở")).to_be_visible()
    await back.click()
    await expect(shown).to_contain_text("Bế mạc")
    await expect(page.get_by_role("switch", name="Theo chủ tọa")).to_have_attribute(
        "aria-checked", "true")


async def test_motion_ballot_appears_is_received_and_survives_reload(
        fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    chair, _, page = await checked_in_page(app, new_page)

    poll_id = await poll(chair, app, title="Thông qua chương trình kỳ họp")
    # the ballot comes by itself, takes the focus, and is announced
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    assert await focus_in_ballot(page)
    await expect(page.locator("[data-live=assertive]")).to_have_text(
        "Biểu quyết đã mở: Thông qua chương trình kỳ họp")
    await four_shots(page, shot, axe, "ballot-motion-choosing")

    await page.get_by_role("button", name="Tán thành", exact=True).click()
    await expect(ballot(page)).to_have_attribute("data-phase", "confirming")
    await expect(ballot(page)).to_contain_text("Xác nhận: Tán thành?")
    await four_shots(page, shot, axe, "ballot-motion-confirming")
    await page.get_by_role("button", name="Quay lại").click()
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    await page.get_by_role("button", name="Tán thành", exact=True).click()
    await page.get_by_role("button", name="Xác nhận").click()
    received = page.get_by_test_id("ballot-received")
    await expect(received).to_have_text(re.compile(r"Đã nhận lúc \d\d:\d\d:\d\d"))
    await expect(ballot(page)).to_contain_text("Phiếu của bạn: Tán thành")
    await four_shots(page, shot, axe, "ballot-motion-received")

    # the server has exactly this ballot
    status, body, _ = await app.http("GET", f"/api/polls/{poll_id}",
                                     token=await app.token(app.chair))
    assert status == 200 and body["voted"] == 1, body

    # a reload shows the ballot already cast, never a second one
    await page.reload()
    await expect(ballot(page)).to_have_attribute("data-phase", "received")
    await expect(received).to_have_text(re.compile(r"Đã nhận lúc \d\d:\d\d:\d\d"))
    await expect(ballot(page)).to_contain_text("Phiếu của bạn: Tán thành")
    assert await page.get_by_role("button", name="Tán thành", exact=True).count() == 0

    # minimise, then the result comes back to the front when published
    await page.get_by_role("button", name="Đóng").click()
    await expect(ballot(page)).to_have_count(0)
    await publish(chair, poll_id)
    await expect(ballot(page)).to_have_attribute("data-phase", "result")
    await expect(page.get_by_test_id("ballot-result")).to_contain_text("Thông qua")
    result = await results(app, poll_id)
    assert result["outcome"] == "adopted" and counts(result)["yes"] == 1
    await four_shots(page, shot, axe, "ballot-motion-result")
    assert not new_page.errors(page)


async def test_secret_motion_receipt_survives_reload_and_change(
        fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    chair, view, page = await checked_in_page(app, new_page)
    poll_id = await poll(chair, app, title="Bỏ phiếu kín thử", secret=True, allow_change=True)

    await page.get_by_role("button", name="Không tán thành").click()
    await page.get_by_role("button", name="Xác nhận").click()
    receipt = page.get_by_test_id("ballot-receipt")
    await expect(receipt).to_contain_text(re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){4}"))
    first = re.search(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}", await receipt.inner_text())
    assert first
    await four_shots(page, shot, axe, "ballot-secret-received")
    # the device keeps the receipt, not what the secret ballot said
    key = f"quorum.ballot.{user_id(view, DELEGATE)}.{poll_id}"
    kept = await page.evaluate("(key) => localStorage.getItem(key)", key)
    assert first.group(0) in kept and '"no"' not in kept

    # the receipt is kept on the device: a reload still shows it
    await page.reload()
    await expect(ballot(page)).to_have_attribute("data-phase", "received")
    await expect(receipt).to_contain_text(first.group(0))

    # change the vote: the new ballot replaces the old by its receipt
    await page.get_by_role("button", name="Thay đổi phiếu").click()
    await page.get_by_role("button", name="Tán thành", exact=True).click()
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()
    await expect(receipt).not_to_contain_text(first.group(0))
    second = re.search(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}", await receipt.inner_text())
    assert second

    await publish(chair, poll_id)
    await expect(ballot(page)).to_have_attribute("data-phase", "result")
    status, ballots, _ = await app.http("GET", f"/api/polls/{poll_id}/ballots",
                                        token=await app.token(DELEGATE))
    assert status == 200, ballots
    listed = {b["receipt"]: b["choice"] for b in ballots.get("ballots", ballots)}
    assert listed == {second.group(0): "yes"}
    assert counts(await results(app, poll_id)) == {"yes": 1, "no": 0, "abstain": 0}


async def test_election_with_max_choices(fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    chair, _, page = await checked_in_page(app, new_page)
    candidates = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Thu Dung"]
    poll_id = await poll(chair, app, title="Bầu Ủy viên Thường trực", kind="election",
                         secret=True, candidates=candidates, seats=2, max_choices=2)
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    counter = page.get_by_test_id("election-counter")
    await expect(counter).to_contain_text("Đã chọn 0/2")
    await page.get_by_role("checkbox", name="Nguyễn Văn An").check()
    await page.get_by_role("checkbox", name="Lê Minh Châu").check()
    await expect(counter).to_contain_text("Đã chọn 2/2")
    await expect(page.get_by_role("checkbox", name="Trần Thị Bình")).to_be_disabled()
    await four_shots(page, shot, axe, "ballot-election-choosing")
    # a reload before confirming: nothing was sent, the ballot starts again
    await page.reload()
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    await expect(counter).to_contain_text("Đã chọn 0/2")
    await page.get_by_role("checkbox", name="Nguyễn Văn An").check()
    await page.get_by_role("checkbox", name="Lê Minh Châu").check()
    await page.get_by_role("button", name="Tiếp tục").click()
    await expect(ballot(page)).to_contain_text("Xác nhận: Nguyễn Văn An, Lê Minh Châu?")
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()
    await publish(chair, poll_id)
    await expect(ballot(page)).to_have_attribute("data-phase", "result")
    result = await results(app, poll_id)
    assert counts(result) == {"Nguyễn Văn An": 1, "Trần Thị Bình": 0, "Lê Minh Châu": 1,
                              "Phạm Thu Dung": 0, "abstain": 0}
    await expect(page.get_by_test_id("ballot-result")).to_contain_text("Lê Minh Châu")
    await four_shots(page, shot, axe, "ballot-election-result")


async def test_confidence_and_cancelled(fresh_webapp: WebApp, new_page, axe, shot) -> None:
    app = fresh_webapp
    chair, _, page = await checked_in_page(app, new_page)
    people = ["Chủ tịch Hội đồng", "Phó Chủ tịch Hội đồng"]
    poll_id = await poll(chair, app, title="Lấy phiếu tín nhiệm", kind="confidence",
                         secret=True, officeholders=people)
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    go_on = page.get_by_role("button", name="Tiếp tục")
    await page.get_by_role("group", name=people[0], exact=True).get_by_role(
        "radio", name="Tín nhiệm cao").check()
    await expect(go_on).to_be_disabled()  # the second person still has no level
    await page.get_by_role("group", name=people[1], exact=True).get_by_role(
        "radio", name="Tín nhiệm thấp").check()
    await four_shots(page, shot, axe, "ballot-confidence-choosing")
    await go_on.click()
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()
    await publish(chair, poll_id)
    await expect(page.get_by_test_id("ballot-result")).to_contain_text("Tín nhiệm thấp")
    result = await results(app, poll_id)
    rows = {r["officeholder"]: (r["high"], r["medium"], r["low"]) for r in result["confidence"]}
    assert rows == {people[0]: (1, 0, 0), people[1]: (0, 0, 1)}

    # a poll cancelled while open says so, with the reason
    cancelled = await poll(chair, app, title="Biểu quyết bị hủy")
    await expect(ballot(page)).to_contain_text("Biểu quyết bị hủy")
    await chair.command("poll.cancel", {"poll_id": cancelled, "reason": "Nhầm nội dung"})
    await expect(ballot(page)).to_have_attribute("data-phase", "cancelled")
    await expect(ballot(page)).to_contain_text("Lý do: Nhầm nội dung")
    await four_shots(page, shot, axe, "ballot-cancelled")


async def test_not_checked_in_and_offline(fresh_webapp: WebApp, new_page, shot) -> None:
    app = fresh_webapp
    chair, view = await sitting(app)
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await expect(page.get_by_test_id("quorum-verdict")).to_be_visible()
    await poll(chair, app, title="Biểu quyết khi chưa điểm danh")
    # not checked in: the choices are disabled and the reason is said
    await expect(page.get_by_test_id("ballot-blocked")).to_have_text(
        re.compile("Bạn cần điểm danh trước"))
    await expect(page.get_by_role("button", name="Tán thành", exact=True)).to_be_disabled()
    await shot(page, "delegate-ballot-not-checked-in-vi-1280x800")
    await record(chair, view, DELEGATE, "present")
    await expect(page.get_by_role("button", name="Tán thành", exact=True)).to_be_enabled()

    # offline: nothing can be sent, and the tablet says why
    await page.context.set_offline(True)
    await expect(page.get_by_test_id("ballot-blocked")).to_have_text(
        re.compile("Không có kết nối — chưa thể gửi"), timeout=30_000)
    await expect(page.get_by_role("button", name="Tán thành", exact=True)).to_be_disabled()
    await expect(page.get_by_test_id("connection")).to_contain_text("Mất kết nối")
    await shot(page, "delegate-ballot-offline-vi-1280x800")
    # meanwhile the chair moves the agenda
    await chair.command("agenda.set_current",
                        {"meeting_id": app.meeting_id, "item_id": item_id(view, 3)})

    # back online: the missed move is shown and the ballot can be sent
    await page.context.set_offline(False)
    await expect(page.get_by_role("button", name="Tán thành", exact=True)).to_be_enabled(
        timeout=30_000)
    await page.get_by_role("button", name="Thu nhỏ").click()
    await expect(page.get_by_test_id("shown-item")).to_contain_text("Thảo luận")
    await page.get_by_role("button", name=re.compile("Mở phiếu biểu quyết")).click()
    await page.get_by_role("button", name="Tán thành", exact=True).click()
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()


async def test_staff_on_the_tablet_view_get_no_ballot(fresh_webapp: WebApp, new_page) -> None:
    """The secretariat looking at /m/{id} during a vote: no ballot, nothing made inert."""
    app = fresh_webapp
    chair, _ = await sitting(app)
    await poll(chair, app, title="Biểu quyết của đại biểu")
    page = await new_page(app.secretary, app=app, path=f"/m/{app.meeting_id}")
    await expect(page.get_by_test_id("attendance")).to_contain_text("chỉ xem")
    await expect(ballot(page)).to_have_count(0)
    assert await page.locator("[inert]").count() == 0
    await page.get_by_role("button", name=re.compile("Khai mạc")).click()
    await expect(page.get_by_test_id("shown-item")).to_contain_text("Khai mạc")


async def focused(page: Page) -> str:
    return str(await page.evaluate("() => document.activeElement?.textContent?.trim() ?? ''"))


async def test_ballot_by_keyboard(fresh_webapp: WebApp, new_page) -> None:
    app = fresh_webapp
    chair, _, page = await checked_in_page(app, new_page)
    await poll(chair, app, title="Biểu quyết bằng bàn phím")
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    assert await focused(page) == "Chọn một phương án"
    await page.keyboard.press("Tab")
    assert "Tán thành" in await focused(page)
    await page.keyboard.press("Enter")
    await expect(ballot(page)).to_have_attribute("data-phase", "confirming")
    assert await focused(page) == "Xác nhận: Tán thành?"
    await page.keyboard.press("Tab")
    assert await focused(page) == "Xác nhận"
    # Tab stays in the ballot: past the last control it comes back to the first
    for _ in range(3):
        await page.keyboard.press("Tab")
        assert await focus_in_ballot(page)
    for _ in range(4):
        if await focused(page) == "Xác nhận":
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()
    # Escape minimises; the reopen button has the focus
    await page.keyboard.press("Escape")
    await expect(ballot(page)).to_have_count(0)
    assert "Mở phiếu biểu quyết" in await focused(page)


def test_delegate_first_load_is_within_the_javascript_budget() -> None:
    """Login, my meetings, then the sitting view with its ballot: JavaScript gzipped."""
    size = gzipped_size(first_load(["/login", "/", "/m/[id]"]))
    print(f"first load of the delegate's tablet: {size / 1024:.1f} KB gzipped")
    assert size <= BUDGET, f"{size / 1024:.1f} KB gzipped > {BUDGET // 1024} KB"


async def test_lost_ack_then_reload_recovers_the_receipt(fresh_webapp: WebApp, new_page) -> None:
    """The server stores a secret ballot but its ack never reaches the tablet, which reloads:
    the tablet shows the ballot as cast (never a second one) and gets the receipt back by
    resending the same key and seed, which the server answers without counting again."""
    app = fresh_webapp
    chair, view = await sitting(app)
    await record(chair, view, DELEGATE, "present")
    page = await new_page(DELEGATE, app=app, path=None)
    dropped: list[str] = []

    async def drop_first_receipt(ws) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            is_ack = isinstance(message, str) and message.startswith("43")
            if is_ack and '"receipt"' in str(message) and not dropped:
                dropped.append(message)  # the ack of ballot.cast: lost on the way
                return
            ws.send(message)

        server.on_message(from_server)

    await page.route_web_socket(re.compile(r".*/socket\.io/.*"), drop_first_receipt)
    await page.goto(f"/m/{app.meeting_id}")
    await expect(page.get_by_test_id("attendance")).to_contain_text("Thư ký đã ghi bạn có mặt")
    poll_id = await poll(chair, app, title="Phiếu kín mất xác nhận", secret=True)
    await page.get_by_role("button", name="Không tán thành").click()
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(ballot(page)).to_have_attribute("data-phase", "sending")
    await until(chair, app.meeting_id,
                lambda snap: next(p for p in snap["polls"] if p["id"] == poll_id)["voted"] == 1)
    assert dropped
    receipt = re.search(r'"receipt":\s*"([A-Z2-7-]+)"', dropped[0])
    assert receipt
    # no "received" without an ack
    await expect(page.get_by_test_id("ballot-received")).to_have_count(0)

    await page.reload()
    await expect(ballot(page)).to_have_attribute("data-phase", "received")
    assert await page.get_by_role("button", name="Tán thành", exact=True).count() == 0
    await expect(page.get_by_test_id("ballot-receipt")).to_contain_text(receipt.group(1))

    await publish(chair, poll_id)
    assert counts(await results(app, poll_id)) == {"yes": 0, "no": 1, "abstain": 0}
    status, ballots, _ = await app.http("GET", f"/api/polls/{poll_id}/ballots",
                                        token=await app.token(DELEGATE))
    assert status == 200 and [b["receipt"] for b in ballots["ballots"]] == [receipt.group(1)]


async def test_before_the_sitting_opens(fresh_webapp: WebApp, new_page, axe, shot) -> None:
    """Published, not open: check-in works, speaking waits, both say so in words."""
    app = fresh_webapp
    page = await new_page(DELEGATE, app=app, path=f"/m/{app.meeting_id}")
    await expect(page.get_by_test_id("meeting-status")).to_contain_text("Chưa khai mạc")
    await expect(page.get_by_role("button", name="Đăng ký phát biểu")).to_be_disabled()
    await expect(page.get_by_test_id("my-request")).to_contain_text(
        "Phiên họp chưa khai mạc hoặc đã bế mạc")
    await expect(page.get_by_test_id("shown-item")).to_contain_text("Chủ tọa chưa chọn mục nào.")
    assert not await axe(page), format_violations(await axe(page))
    await shot(page, "delegate-sitting-not-open-vi-1280x800")
    await page.get_by_role("button", name="Điểm danh").click()
    await expect(page.get_by_test_id("attendance")).to_contain_text("Đã điểm danh lúc")
