"""One whole sitting through the web app, every person in a browser of their own (issue 11,
"Tests"; docs/WEBAPP.md, "The whole sitting").

Five browser contexts with touch, on one fresh server over the rehearsal council: the chair's
console on a 1280×800 tablet, three delegates' tablets (two at 1280×800, one at 800×1280) and
the hall display at 1920×1080. Everything is done through the pages:

- the chair opens the sitting and moves the agenda; the three delegates check in; the chair
  records a fourth member present from the roster (the quorum of the rehearsal council is 4/7);
- a delegate asks to speak and the chair gives the floor;
- the third delegate's tablet goes offline (`set_offline`): the chair moves the agenda and
  another delegate asks and gets the floor; back online, the tablet shows both;
- the chair creates and opens a secret motion, then an election, through the poll form; the
  delegates vote by tapping: one reloads between choosing and confirming (and still votes once),
  one reloads after voting (the cast ballot, not a new one); the chair sees who has not voted,
  by name, before the last vote; the display shows the count, then the published result.

Then the database (read in the server's own loop) and the REST API must agree with what every
screen showed: attendance and quorum, the current item, the speakers, one ballot per voter,
the counts, and the secret receipts the tablets showed, as GET /api/polls/{id}/ballots lists
them. axe-core runs over each view; screenshots of each view in Vietnamese and English (and both
orientations of the tablets) land in tests/e2e/artifacts/whole-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select
from sqlmodel import col

from meetings.storage.tables import Meeting, Participant, Speaker
from meetings.storage.tables_voting import Poll, PollBallot, PollParticipation
from tests.e2e.conftest import PageFactory, WebApp, format_violations
from tests.e2e.test_delegate import ballot, set_language

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)  # the 2-core machine is shared: a first load can take seconds

Axe = Callable[[Page], Awaitable[list[dict[str, Any]]]]
Shot = Callable[..., Awaitable[Path]]

LAND = (1280, 800)
PORT = (800, 1280)
HALL = (1920, 1080)
RECEIPT = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}")
MOTION = "Thông qua kế hoạch đầu tư công năm 2027"
ELECTION = "Bầu Trưởng ban Kinh tế – Ngân sách"


# --- reading the server -------------------------------------------------------------------
async def rest(app: WebApp, path: str, user: str = "chair") -> Any:
    status, body, _ = await app.http("GET", path, token=await app.token(user))
    assert status == 200, (path, status, body)
    return body


async def database(app: WebApp, poll_ids: list[int]) -> dict[str, Any]:
    """What the database holds, read through the server's own engine, in its own loop."""
    mid = app.meeting_id

    async def read(services: Any) -> dict[str, Any]:
        async with services.db.reading() as session:
            meeting = await session.get(Meeting, mid)
            participants = (await session.execute(
                select(Participant).where(col(Participant.meeting_id) == mid))).scalars().all()
            speakers = (await session.execute(
                select(Speaker).where(col(Speaker.meeting_id) == mid)
                .order_by(col(Speaker.id)))).scalars().all()
            polls = {}
            for poll_id in poll_ids:
                poll = await session.get(Poll, poll_id)
                voters = (await session.execute(
                    select(PollParticipation.user_id)
                    .where(col(PollParticipation.poll_id) == poll_id))).scalars().all()
                ballots = (await session.execute(
                    select(PollBallot.receipt, PollBallot.choice)
                    .where(col(PollBallot.poll_id) == poll_id))).all()
                per_voter = (await session.execute(
                    select(PollParticipation.user_id, func.count())
                    .where(col(PollParticipation.poll_id) == poll_id)
                    .group_by(col(PollParticipation.user_id)))).all()
                assert poll is not None
                polls[poll_id] = {
                    "status": poll.status, "secret": poll.secret, "result": poll.result,
                    "voters": sorted(int(v) for v in voters),
                    "per_voter": {int(u): int(n) for u, n in per_voter},
                    "ballots": {str(r): c for r, c in ballots},
                    "ballot_rows": len(ballots),
                }
            assert meeting is not None
            return {
                "status": meeting.status,
                "current_item_id": meeting.current_item_id,
                "attendance": {p.user_id: (p.attendance, p.recorded_how, p.voting)
                               for p in participants},
                "speakers": [(s.item_id, s.user_id, s.status, s.time_limit_s) for s in speakers],
                "polls": polls,
            }

    return await app.in_server(read)


# --- the pages ----------------------------------------------------------------------------
async def views(page: Page, axe: Axe, shot: Shot, name: str,
                sizes: tuple[tuple[int, int], ...] = (LAND, PORT)) -> None:
    """axe-core in both languages, and a screenshot per language and size; then back to the
    page's Vietnamese and its first size."""
    first = page.viewport_size
    for locale in ("vi", "en"):
        await set_language(page, locale)
        violations = await axe(page)
        assert not violations, f"{name} ({locale}):\n{format_violations(violations)}"
        for width, height in sizes:
            if page.viewport_size != {"width": width, "height": height}:
                await page.set_viewport_size({"width": width, "height": height})
                await page.wait_for_timeout(150)
            await shot(page, f"whole-{name}-{locale}-{width}x{height}")
            assert await ballot_title_clear(page), f"{name} ({locale}, {width}x{height})"
    await set_language(page, "vi")
    if first and page.viewport_size != first:
        await page.set_viewport_size(first)


async def ballot_title_clear(page: Page) -> bool:
    """No line of the ballot's title runs under its Minimise button (true without a ballot)."""
    return bool(await page.evaluate(
        """() => {
            const title = document.querySelector('[data-testid=ballot] h2');
            const button = document.querySelector('[data-testid=ballot] header button');
            if (!title || !button) return true;
            const range = document.createRange();
            range.selectNodeContents(title);
            const b = button.getBoundingClientRect();
            return [...range.getClientRects()].every(t => t.right <= b.left || t.left >= b.right
                || t.bottom <= b.top || t.top >= b.bottom);
        }"""))


async def tab(chair: Page, name: str) -> None:
    await chair.get_by_role("tab", name=re.compile(f"^{name}")).click()


async def vote_motion(page: Page, choice: str) -> str:
    """Choose, confirm, wait for "received"; the receipt the tablet shows."""
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    await page.get_by_role("button", name=choice, exact=True).click()
    await expect(ballot(page)).to_have_attribute("data-phase", "confirming")
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("ballot-received")).to_have_text(
        re.compile(r"Đã nhận lúc \d\d:\d\d:\d\d"))
    return await receipt_of(page)


async def vote_election(page: Page, names: list[str]) -> str:
    await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    for name in names:
        await page.get_by_role("checkbox", name=name).check()
    await page.get_by_role("button", name="Tiếp tục").click()
    await page.get_by_role("button", name="Xác nhận").click()
    await expect(page.get_by_test_id("ballot-received")).to_be_visible()
    return await receipt_of(page)


async def receipt_of(page: Page) -> str:
    shown = page.get_by_test_id("ballot-receipt")
    await expect(shown).to_contain_text(RECEIPT)
    found = RECEIPT.search(await shown.inner_text())
    assert found
    return found.group(0)


async def test_whole_sitting(fresh_webapp: WebApp, new_page: PageFactory, axe: Axe,
                             shot: Shot) -> None:
    app, mid = fresh_webapp, fresh_webapp.meeting_id
    people = {p["username"]: p for p in await rest(app, f"/api/meetings/{mid}/participants")}
    total = sum(1 for p in people.values() if p["voting"])
    listed_agenda = await rest(app, f"/api/meetings/{mid}/agenda")
    agenda = listed_agenda["items"] if isinstance(listed_agenda, dict) else listed_agenda
    names = [people[f"delegate00{i}"]["name"] for i in range(1, 5)]
    d_users = ["delegate001", "delegate002", "delegate003"]

    chair = await new_page(app.chair, LAND, path=f"/m/{mid}/chair", app=app)
    d1 = await new_page(d_users[0], LAND, path=f"/m/{mid}", app=app)
    d2 = await new_page(d_users[1], PORT, path=f"/m/{mid}", app=app)
    d3 = await new_page(d_users[2], LAND, path=f"/m/{mid}", app=app)
    display = await new_page(app.display, HALL, path=f"/m/{mid}/display", app=app)
    delegates = [d1, d2, d3]
    await expect(display.get_by_test_id("display-title")).to_have_text("Phiên diễn tập")

    # --- the chair opens the sitting and moves the agenda to item 2
    await chair.get_by_role("button", name="Khai mạc phiên họp").click()
    status = chair.get_by_test_id("chair-sitting-status")
    await expect(status).to_contain_text("Đang họp")
    next_item = chair.get_by_role("button", name=re.compile("^Nội dung tiếp theo"))
    current = chair.get_by_test_id("chair-current-item")
    await next_item.click()
    await expect(current).to_contain_text(f"1. {agenda[0]['title']}")
    await next_item.click()
    await expect(current).to_contain_text(f"2. {agenda[1]['title']}")
    for page in delegates:
        await expect(page.get_by_test_id("shown-item")).to_contain_text(agenda[1]["title"])
    await expect(display.get_by_test_id("display-item-title")).to_have_text(agenda[1]["title"])

    # --- three delegates check in on their tablets; the chair records a fourth member
    for page in delegates:
        await page.get_by_role("button", name="Điểm danh").click()
        await expect(page.get_by_test_id("attendance")).to_contain_text(
            re.compile(r"Đã điểm danh lúc \d\d:\d\d"))
    await tab(chair, "Điểm danh")
    quorum = chair.get_by_test_id("chair-quorum-numbers").first
    await expect(quorum).to_contain_text(f"Có mặt 3/{total}")
    await chair.get_by_test_id("chair-roster-search").fill("delegate004")
    await chair.get_by_role("button", name=f"Ghi {names[3]} có mặt").click()
    await expect(quorum).to_contain_text(f"Có mặt 4/{total}")
    await expect(display.get_by_test_id("quorum-present")).to_have_text("4")
    await expect(d2.get_by_test_id("quorum-verdict")).to_contain_text("Đủ số đại biểu")
    await chair.get_by_test_id("chair-roster-search").fill("")

    # --- delegate001 asks to speak; the chair gives the floor (3 minutes, the default)
    await d1.get_by_role("button", name="Đăng ký phát biểu").click()
    await expect(d1.get_by_test_id("my-request")).to_contain_text("Bạn phát biểu tiếp theo")
    await tab(chair, "Phát biểu")
    await chair.get_by_role("button", name=f"Mời phát biểu: {names[0]}").click()
    await expect(chair.get_by_test_id("chair-now-speaking")).to_contain_text(names[0])
    await expect(d1.get_by_test_id("current-speaker")).to_contain_text("Bạn đang phát biểu")
    for page in (d2, d3):
        await expect(page.get_by_test_id("current-speaker")).to_contain_text(names[0])
    await expect(display.get_by_test_id("display-speaker")).to_contain_text(names[0])
    await views(d2, axe, shot, "delegate-speaker")
    await views(chair, axe, shot, "chair-speakers")
    await views(display, axe, shot, "display-speaker", (HALL,))

    # --- delegate003 goes offline and misses an agenda move and a change of speaker
    await d3.context.set_offline(True)
    await expect(d3.get_by_test_id("connection")).to_contain_text("Mất kết nối", timeout=30_000)
    await chair.get_by_role("button", name=f"Dừng phát biểu của {names[0]}").click()
    await expect(chair.get_by_test_id("chair-now-speaking")).to_contain_text(
        "Chưa có ai phát biểu")
    await next_item.click()
    await expect(current).to_contain_text(f"3. {agenda[2]['title']}")
    await expect(d2.get_by_test_id("shown-item")).to_contain_text(agenda[2]["title"])
    await d2.get_by_role("button", name="Đăng ký phát biểu").click()
    await expect(d2.get_by_test_id("my-request")).to_contain_text("Bạn phát biểu tiếp theo")
    await chair.get_by_role("button", name=f"Mời phát biểu: {names[1]}").click()
    await expect(d2.get_by_test_id("current-speaker")).to_contain_text("Bạn đang phát biểu")
    await expect(display.get_by_test_id("display-speaker")).to_contain_text(names[1])
    # still offline: the tablet shows what it knew, and says since when
    await expect(d3.get_by_test_id("shown-item")).to_contain_text(agenda[1]["title"])
    await expect(d3.get_by_test_id("current-speaker")).to_contain_text(names[0])
    await shot(d3, "whole-delegate-offline-vi-1280x800")
    await d3.context.set_offline(False)
    await expect(d3.get_by_test_id("connection")).not_to_contain_text("Mất kết nối",
                                                                      timeout=30_000)
    await expect(d3.get_by_test_id("shown-item")).to_contain_text(agenda[2]["title"])
    await expect(d3.get_by_test_id("current-speaker")).to_contain_text(names[1])
    await expect(d3.get_by_role("button", name="Đăng ký phát biểu")).to_be_enabled()

    # --- the chair ends the speech (the display would keep the speaker over a result), then
    # creates and opens a secret motion through the form
    await chair.get_by_role("button", name=f"Dừng phát biểu của {names[1]}").click()
    await expect(display.get_by_test_id("display-speaker")).to_have_count(0)
    await tab(chair, "Biểu quyết")
    await chair.get_by_role("button", name=re.compile("Tạo biểu quyết")).first.click()
    form = chair.get_by_test_id("chair-poll-form")
    await form.get_by_test_id("chair-poll-title").fill(MOTION)
    await form.get_by_label("Bỏ phiếu kín").check()
    await form.get_by_role("button", name="Tạo biểu quyết").click()
    card = chair.get_by_test_id("chair-poll-card")
    await expect(card).to_contain_text(MOTION)
    await card.get_by_role("button", name="Mở biểu quyết").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đang bỏ phiếu"))
    for page in delegates:
        await expect(ballot(page)).to_have_attribute("data-phase", "choosing")
    received = display.get_by_test_id("ballots-received")
    await expect(received).to_have_text("0")
    await expect(display.get_by_test_id("display-poll")).to_contain_text("/4")
    await views(d1, axe, shot, "ballot-choosing")

    receipts: dict[str, str] = {}
    receipts["delegate001"] = await vote_motion(d1, "Tán thành")
    await views(d1, axe, shot, "ballot-received")
    # delegate002 chooses, then reloads before confirming: nothing was sent, it starts again
    await expect(ballot(d2)).to_have_attribute("data-phase", "choosing")
    await d2.get_by_role("button", name="Không tán thành").click()
    await expect(ballot(d2)).to_have_attribute("data-phase", "confirming")
    await d2.reload()
    receipts["delegate002"] = await vote_motion(d2, "Tán thành")
    await expect(received).to_have_text("2")
    # before the last vote the chair sees, by name, who has not voted
    progress = card.get_by_test_id("chair-poll-progress")
    await expect(progress).to_contain_text("Đã bỏ phiếu 2/4")
    not_voted = card.get_by_test_id("chair-not-voted")
    await expect(not_voted.locator("li")).to_have_count(2)
    assert sorted(await not_voted.locator("li").all_inner_texts()) == sorted(names[2:4])
    await views(chair, axe, shot, "chair-poll-open")
    await views(display, axe, shot, "display-count", (HALL,))
    receipts["delegate003"] = await vote_motion(d3, "Không tán thành")
    await expect(received).to_have_text("3")
    await expect(progress).to_contain_text("Đã bỏ phiếu 3/4")
    await expect(not_voted.locator("li")).to_have_text([names[3]])
    # delegate003 reloads after voting: the ballot it cast, with its receipt; no new ballot
    await d3.reload()
    await expect(ballot(d3)).to_have_attribute("data-phase", "received")
    await expect(d3.get_by_test_id("ballot-receipt")).to_contain_text(receipts["delegate003"])
    assert await d3.get_by_role("button", name="Tán thành", exact=True).count() == 0

    # --- close (the dialog says one member present has not voted) and publish
    await card.get_by_role("button", name="Kết thúc biểu quyết").click()
    dialog = chair.get_by_role("dialog")
    await expect(dialog).to_contain_text("Còn 1 đại biểu có mặt chưa bỏ phiếu")
    await dialog.get_by_role("button", name="Kết thúc biểu quyết").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đã kết thúc"))
    await expect(card.get_by_test_id("chair-poll-result")).to_contain_text("Tán thành: 2")
    await card.get_by_role("button", name="Công bố kết quả").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đã công bố"))
    outcome = display.get_by_test_id("result-outcome")
    await expect(outcome).to_be_visible()
    motion_shown = {
        "display": {o: int(await display.locator(
            f"[data-testid=result-bar][data-option={o}]").get_attribute("data-count") or -1)
                    for o in ("yes", "no", "abstain")},
        "outcome": (await outcome.inner_text()).strip(),
    }
    for page in delegates:
        await expect(ballot(page)).to_have_attribute("data-phase", "result")
    await expect(d1.get_by_test_id("ballot-result")).to_contain_text(
        motion_shown["outcome"].lstrip("✓✕ ").split("\n")[-1].strip())
    await views(display, axe, shot, "display-result", (HALL,))
    await views(d2, axe, shot, "ballot-result")
    motion_id = int(next(p["id"] for p in await polls(app) if p["title"] == MOTION))

    # --- an election, created and opened through the form; the delegates vote
    await chair.get_by_role("button", name=re.compile("Tạo biểu quyết")).first.click()
    form = chair.get_by_test_id("chair-poll-form")
    await form.get_by_label("Bầu cử").check()
    await form.get_by_test_id("chair-poll-title").fill(ELECTION)
    await form.get_by_test_id("chair-poll-candidates").fill("\n".join(names[:3]))
    await form.get_by_test_id("chair-poll-seats").fill("2")
    await form.get_by_role("button", name="Tạo biểu quyết").click()
    card = chair.get_by_test_id("chair-poll-card")
    await expect(card).to_contain_text(ELECTION)
    await card.get_by_role("button", name="Mở biểu quyết").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đang bỏ phiếu"))
    await expect(received).to_have_text("0")
    choices = {"delegate001": names[:2], "delegate002": [names[0], names[2]],
               "delegate003": [names[0]]}
    election_receipts = {}
    for user, page in zip(d_users, delegates, strict=True):
        await expect(ballot(page)).to_contain_text(ELECTION)
        if user == "delegate001":
            await views(page, axe, shot, "ballot-election")
        election_receipts[user] = await vote_election(page, choices[user])
    await expect(received).to_have_text("3")
    await card.get_by_role("button", name="Kết thúc biểu quyết").click()
    await chair.get_by_role("dialog").get_by_role("button", name="Kết thúc biểu quyết").click()
    await expect(card.get_by_test_id("chair-poll-status")).to_have_text(re.compile("Đã kết thúc"))
    await card.get_by_role("button", name="Công bố kết quả").click()
    await expect(display.locator("[data-testid=result-bar]")).to_have_count(4)  # 3 + abstain
    election_shown = {
        await bar.get_attribute("data-option"): int(await bar.get_attribute("data-count") or -1)
        for bar in await display.locator("[data-testid=result-bar]").all()
    }
    await views(chair, axe, shot, "chair-result")
    election_id = int(next(p["id"] for p in await polls(app) if p["title"] == ELECTION))

    # --- the database and REST agree with every screen
    db = await database(app, [motion_id, election_id])
    ids = {u: int(people[u]["user_id"]) for u in (*d_users, "delegate004")}
    assert db["status"] == "open"
    assert db["current_item_id"] == agenda[2]["id"]  # what the pages showed last
    for user in d_users:
        assert db["attendance"][ids[user]][:2] == ("present", "self"), user
    assert db["attendance"][ids["delegate004"]][:2] == ("present", "secretariat"), db["attendance"]
    present = sum(1 for a, _how, voting in db["attendance"].values() if voting and a == "present")
    assert present == 4  # the display's and the chair's "4"
    meeting = await rest(app, f"/api/meetings/{mid}")
    assert meeting["current_item_id"] == db["current_item_id"]
    assert (meeting["quorum"]["present"], meeting["quorum"]["total"]) == (4, total)
    assert meeting["quorum"]["met"] is True
    assert db["speakers"] == [(agenda[1]["id"], ids["delegate001"], "done", 180),
                              (agenda[2]["id"], ids["delegate002"], "done", 180)]

    motion_rest = await rest(app, f"/api/polls/{motion_id}/results")
    motion_rest = motion_rest.get("result", motion_rest)
    counted = {c["option"]: c["value"] for c in motion_rest["counts"]}
    assert counted == {"yes": 2, "no": 1, "abstain": 0} == motion_shown["display"]
    assert db["polls"][motion_id]["result"]["counts"] == motion_rest["counts"]
    election_rest = await rest(app, f"/api/polls/{election_id}/results")
    election_rest = election_rest.get("result", election_rest)
    assert {c["option"]: c["value"] for c in election_rest["counts"]} == election_shown
    assert election_shown[names[0]] == 3 and election_shown[names[1]] == 1

    voters = sorted(ids[u] for u in d_users)
    for poll_id, shown, expected in (
        (motion_id, receipts, {"delegate001": "yes", "delegate002": "yes", "delegate003": "no"}),
        (election_id, election_receipts, choices),
    ):
        stored = db["polls"][poll_id]
        assert stored["status"] == "published" and stored["secret"] is True
        # one ballot per voter: each voter once in "has voted", as many ballots as voters
        assert stored["voters"] == voters and set(stored["per_voter"].values()) == {1}
        assert stored["ballot_rows"] == len(voters)
        # the receipts the tablets showed are exactly the ballots stored and listed, with the
        # choices made on each tablet
        assert len(set(shown.values())) == len(voters)
        listed = await rest(app, f"/api/polls/{poll_id}/ballots", user="delegate001")
        listed = {b["receipt"]: b["choice"] for b in listed.get("ballots", listed)}
        assert listed == stored["ballots"]
        assert {shown[u]: expected[u] for u in d_users} == listed

    # no uncaught error on any page (the offline tablet's refused socket is the browser's
    # own report of the cut network, not an error of the app)
    for page in (chair, *delegates, display):
        errors = [e for e in new_page.errors(page) if "ERR_INTERNET_DISCONNECTED" not in e]
        assert not errors, errors


async def polls(app: WebApp) -> list[dict[str, Any]]:
    rows = await rest(app, f"/api/meetings/{app.meeting_id}/polls")
    return list(rows["polls"] if isinstance(rows, dict) else rows)
