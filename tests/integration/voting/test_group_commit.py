"""Group commit of ballots (docs/features/voting.md, "Exactly once"): under load the ballots of
a short time share one transaction; the first one after a quiet spell is not held back."""

from __future__ import annotations

import asyncio

from meetings.services.accounts.auth import actor_for_token
from meetings.services.voting import ballot_box
from meetings.services.voting.commands import CastBallot
from tests.integration.voting.conftest import Sitting


async def test_ballots_arriving_one_by_one_share_a_transaction(sitting: Sitting) -> None:
    services = sitting.server.services
    box = ballot_box.ballot_box(services)
    actors = []
    for i in range(1, 6):  # the five delegates the fixture checked in
        actor = await actor_for_token(services, await sitting.server.token(f"delegate{i:03d}"))
        assert actor is not None
        actors.append(actor)
    poll_id = await sitting.open()
    loop = asyncio.get_running_loop()
    box.gather_s = 2.0  # long, so that the test does not depend on the machine's speed
    try:
        await asyncio.sleep(box.gather_s)  # a quiet spell: no batch began within gather_s
        before = box.batches
        began = loop.time()
        yes = CastBallot(poll_id=poll_id, choice="yes")
        first = await ballot_box.cast(services, actors[0], yes)
        first_s = loop.time() - began
        assert first["choice"] == "yes"
        assert box.batches == before + 1
        assert first_s < box.gather_s  # written at once, not after the gathering time

        async def later(n: int) -> dict[str, object]:
            await asyncio.sleep(0.05 * n)  # one by one, 50 ms apart
            cmd = CastBallot(poll_id=poll_id, choice="no")
            return await ballot_box.cast(services, actors[n], cmd)

        answers = await asyncio.gather(*(later(n) for n in range(1, 5)))
        assert [a["choice"] for a in answers] == ["no"] * 4
        # each came while a batch had begun less than gather_s before: all four waited for
        # the same next batch
        assert box.batches == before + 2
        assert loop.time() - began >= 0.95 * box.gather_s
    finally:
        box.gather_s = ballot_box.GATHER_S
    result = (await sitting.chair.command("poll.close", {"poll_id": poll_id}))["poll"]["result"]
    assert result["ballots"] == 5
