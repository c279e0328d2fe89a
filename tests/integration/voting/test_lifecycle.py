"""Open polls end to end: open, vote, change, close, publish; results live to every client."""

from __future__ import annotations

import asyncio

from tests.integration.voting.conftest import Sitting, cast, refused


async def test_motion_open_vote_change_close_publish(sitting: Sitting) -> None:
    server = sitting.server
    display = await server.client("display")
    view = await display.join(sitting.meeting_id)
    poll_id = await sitting.open(allow_change=True, show_running=True, title="Adopt the budget")
    d = sitting.delegates
    acks = await asyncio.gather(
        cast(d[0], poll_id, "yes"),
        cast(d[1], poll_id, "yes"),
        cast(d[2], poll_id, "no"),
        cast(d[3], poll_id, "abstain"),
        cast(sitting.chair, poll_id, "no"),
    )
    assert [a["choice"] for a in acks] == ["yes", "yes", "no", "abstain", "no"]
    changed = await cast(d[3], poll_id, "yes")  # changes abstain → yes
    assert changed["changed"] is True
    # the running tally reaches the display as a coalesced update, read from the database
    async with asyncio.timeout(5):
        while not any(  # noqa: ASYNC110
            u["type"] == "poll_progress"
            and u["data"].get("voted") == 5
            and {"option": "yes", "value": 3} in u["data"]["tally"]["counts"]
            for u in display.updates
        ):
            await asyncio.sleep(0.02)
    closed = await sitting.chair.command("poll.close", {"poll_id": poll_id})
    result = closed["poll"]["result"]
    assert result["outcome"] == "adopted"
    assert result["counts"] == [
        {"option": "yes", "value": 3},
        {"option": "no", "value": 2},
        {"option": "abstain", "value": 0},
    ]
    assert (result["base_size"], result["threshold"], result["present"]) == (5, 3, 6)
    # delegates do not see the result before publication
    token = await server.token("delegate001")
    status, body, _ = await server.http("GET", f"/api/polls/{poll_id}/results", token=token)
    assert status == 409 and body["error"]["code"] == "not_published"
    before = view.seq
    published = await sitting.chair.command("poll.publish", {"poll_id": poll_id})
    assert published["poll"]["status"] == "published"
    await display.wait_for_seq(sitting.meeting_id, before + 1)
    event = view.applied[-1]
    assert event["type"] == "poll_published"
    assert event["data"]["poll"]["result"]["outcome"] == "adopted"
    votes = {v["user_id"]: v["choice"] for v in event["data"]["poll"]["votes"]}
    assert sorted(votes.values()) == ["no", "no", "yes", "yes", "yes"]
    status, body, _ = await server.http("GET", f"/api/polls/{poll_id}/results", token=token)
    assert status == 200 and body["result"]["outcome"] == "adopted" and len(body["votes"]) == 5
    status, export, _ = await server.http("GET", f"/api/polls/{poll_id}/vote-event", token=token)
    assert status == 200 and export["result"] == "pass" and len(export["votes"]) == 5
    assert export["motion_text"] == "Adopt the budget"
    # the snapshot of a joining member has the poll, its result and their own ballot
    late = await server.client("delegate004")
    snap = (await late.join(sitting.meeting_id)).snapshot
    (poll,) = [p for p in snap["polls"] if p["id"] == poll_id]
    assert poll["result"]["outcome"] == "adopted" and poll["voted"] == 5
    assert snap["my_ballots"][str(poll_id)] == {"voted": True, "choice": "yes"}


async def test_majority_of_all_members_and_elections(sitting: Sitting) -> None:
    d = sitting.delegates
    # 4 yes of 5 cast, but the rule is more than half of ALL 7 members: 4 needed → adopted;
    # 3 yes → rejected although 3 of 5 cast is a majority of votes cast
    poll_id = await sitting.open(majority="absolute")
    for client, choice in zip(d[:5], ["yes", "yes", "yes", "no", "no"], strict=True):
        await cast(client, poll_id, choice)
    result = (await sitting.chair.command("poll.close", {"poll_id": poll_id}))["poll"]["result"]
    assert (result["outcome"], result["base_size"], result["threshold"]) == ("rejected", 7, 4)
    election = await sitting.open(
        kind="election",
        title="Vice-chairs",
        candidates=["An", "Bình", "Chi"],
        seats=2,
        secret=False,
    )
    ballots = [["An", "Bình"], ["An"], ["An", "Chi"], ["Bình", "Chi"], "abstain"]
    await asyncio.gather(*(cast(c, election, b) for c, b in zip(d[:5], ballots, strict=True)))
    assert await refused(cast(sitting.chair, election, ["An", "Bình", "Chi"])) == "too_many_choices"
    assert await refused(cast(sitting.chair, election, ["Dung"])) == "unknown_option"
    result = (await sitting.chair.command("poll.close", {"poll_id": election}))["poll"]["result"]
    # 5 ballots: more than half is 3; An 3 → elected; Bình 2, Chi 2 → not elected
    assert result["elected"] == ["An"] and result["outcome"] == "partial"
    confidence = await sitting.open(
        kind="confidence",
        title="Confidence",
        officeholders=["Chủ tịch", "Phó chủ tịch"],
        secret=True,
    )
    rating = {"Chủ tịch": "high", "Phó chủ tịch": "low"}
    receipts = await asyncio.gather(*(cast(c, confidence, rating) for c in d[:5]))
    assert len({r["receipt"] for r in receipts}) == 5  # without a seed: a random receipt
    assert await refused(cast(sitting.chair, confidence, {"Chủ tịch": "high"})) == (
        "incomplete_choice"
    )
    result = (await sitting.chair.command("poll.close", {"poll_id": confidence}))["poll"]["result"]
    low = {c["officeholder"]: c for c in result["confidence"]}
    assert low["Phó chủ tịch"]["low"] == 5 and low["Phó chủ tịch"]["low_majority"] is True


async def test_members_joining_together_each_get_their_own_ballots(sitting: Sitting) -> None:
    """Joins that arrive together are answered from one read of the polls (state.Joiner):
    each member still gets exactly their own ballots, and results only where they may."""
    server, d = sitting.server, sitting.delegates
    open_poll = await sitting.open(title="Open, still voting")
    await cast(d[0], open_poll, "yes")
    await cast(d[1], open_poll, "no")
    secret = await sitting.open(secret=True, title="Secret, still voting")
    await cast(d[0], secret, "abstain")
    closed = await sitting.open(title="Closed, not published")
    await cast(d[2], closed, "yes")
    await sitting.chair.command("poll.close", {"poll_id": closed})
    names = ["delegate001", "delegate002", "delegate003", "delegate004", "chair"]
    late = [await server.client(name) for name in names]
    views = await asyncio.gather(*(c.join(sitting.meeting_id) for c in late))
    snaps = {name: view.snapshot for name, view in zip(names, views, strict=True)}

    def poll(name: str, poll_id: int) -> dict[str, object]:
        (found,) = [p for p in snaps[name]["polls"] if p["id"] == poll_id]
        return found

    assert snaps["delegate001"]["my_ballots"] == {
        str(open_poll): {"voted": True, "choice": "yes"},
        str(secret): {"voted": True},
    }
    assert snaps["delegate002"]["my_ballots"] == {str(open_poll): {"voted": True, "choice": "no"}}
    assert snaps["delegate003"]["my_ballots"] == {str(closed): {"voted": True, "choice": "yes"}}
    assert snaps["delegate004"]["my_ballots"] == {}
    for name in names:
        assert (poll(name, open_poll)["voted"], poll(name, secret)["voted"]) == (2, 1)
        assert poll(name, closed)["voted"] == 1
    # a closed poll's result and list: the chair checks them; delegates wait for publication
    assert "result" not in poll("delegate001", closed) and "votes" not in poll(
        "delegate001", closed
    )
    assert poll("chair", closed)["result"]["outcome"] == "adopted"  # type: ignore[index]
    assert [v["choice"] for v in poll("chair", closed)["votes"]] == ["yes"]  # type: ignore[union-attr]
