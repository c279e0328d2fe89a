"""Worker signals across workers through Redis (`realtime.manager.DirectEmitRedisManager`):
two managers on one Redis channel stand for two workers. In one process:
tests/unit/platform/test_signals.py; with two real servers: test_scaleout.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from meetings.config import Settings
from meetings.domain.signals import BallotsCounted
from realtime.asgi import create_sio
from realtime.manager import DirectEmitRedisManager
from realtime.tally import TallyBroadcaster
from tests.conftest import need, redis_available, redis_url


class Worker:
    """A Socket.IO server on a Redis manager, listening, with what reached it from Redis."""

    def __init__(self, channel: str, sio: socketio.AsyncServer | None = None) -> None:
        self.sio = sio or socketio.AsyncServer(
            async_mode="asgi", client_manager=DirectEmitRedisManager(redis_url(), channel=channel)
        )
        self.manager: DirectEmitRedisManager = self.sio.manager
        self.published: list[dict[str, Any]] = []
        publish = self.manager._publish

        async def counting(message: dict[str, Any]) -> Any:
            self.published.append(message)
            return await publish(message)

        self.manager._publish = counting

    async def start(self) -> None:
        self.manager.initialize()  # the listener (the server does this at its first client)

    async def stop(self) -> None:
        task = getattr(self.manager, "thread", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.manager.pubsub is not None:
            await self.manager.pubsub.aclose()
        if self.manager.redis is not None:
            await self.manager.redis.aclose()


@pytest.fixture
async def workers() -> AsyncIterator[tuple[Worker, Worker]]:
    ok, why = await redis_available()
    need("Redis", ok, why)
    channel = f"quorum-test-{uuid.uuid4().hex[:10]}"
    pair = (Worker(channel), Worker(channel))
    for worker in pair:
        await worker.start()
    await asyncio.sleep(0.3)  # both subscribed before anything is published
    try:
        yield pair
    finally:
        for worker in pair:
            await worker.stop()


async def until(predicate: Any, what: str) -> None:
    for _ in range(100):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(what)


async def test_a_signal_reaches_the_other_worker_whole(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    got: dict[str, list[Any]] = {"a": [], "b": []}
    a.manager.on_signal("s", got["a"].append)
    b.manager.on_signal("s", got["b"].append)
    await a.manager.signal("s", [3, 5, 8])
    await a.manager.signal("s", {"poll_id": 2})
    await until(lambda: len(got["b"]) == 2, f"worker B heard {got['b']}")
    assert got == {"a": [[3, 5, 8], {"poll_id": 2}], "b": [[3, 5, 8], {"poll_id": 2}]}


async def test_a_ballot_batch_marks_its_polls_on_every_worker_in_one_message(
    workers: tuple[Worker, Worker],
) -> None:
    """A batch holds ballots of several sittings when a province votes at once: its polls go
    to every worker's broadcaster in one Redis message, not one per poll."""
    a, b = workers
    marked: dict[str, list[set[int]]] = {"a": [], "b": []}
    for name, worker in (("a", a), ("b", b)):
        # no database here: each broadcaster's dirty set is read as the signal marks it, and
        # the tick it would start at once is cancelled before it runs
        tally = TallyBroadcaster(None, worker.sio, 60.0)  # type: ignore[arg-type]
        handler = worker.manager.signal_handlers["polls_dirty"]

        def heard(
            poll_ids: Any, tally: TallyBroadcaster = tally, name: str = name, handler: Any = handler
        ) -> None:
            handler(poll_ids)
            marked[name].append(set(tally._dirty))
            if tally._task is not None:
                tally._task.cancel()
                tally._task = None
            tally._dirty.clear()

        worker.manager.on_signal("polls_dirty", heard)
        if name == "a":
            tally_a = tally
    await tally_a.counted(BallotsCounted((11, 12, 13)))
    assert len(a.published) == 1, a.published
    await until(lambda: marked["b"], "worker B's broadcaster never heard of the batch")
    assert marked == {"a": [{11, 12, 13}], "b": [{11, 12, 13}]}


async def test_deployments_on_one_redis_hear_only_their_own_channel() -> None:
    """`QUORUM_REDIS_CHANNEL`: two deployments sharing a Redis server, each with its channel,
    do not hear each other; the workers of one (the same channel) do."""
    ok, why = await redis_available()
    need("Redis", ok, why)
    mine, theirs = (f"quorum-test-{uuid.uuid4().hex[:10]}" for _ in range(2))

    def worker(channel: str) -> Worker:
        settings = Settings(redis_url=redis_url(), redis_channel=channel)
        return Worker(channel, create_sio(settings))

    ours, ours_too, other = worker(mine), worker(mine), worker(theirs)
    got: dict[str, list[Any]] = {"ours_too": [], "other": []}
    ours_too.manager.on_signal("s", got["ours_too"].append)
    other.manager.on_signal("s", got["other"].append)
    for w in (ours, ours_too, other):
        await w.start()
    await asyncio.sleep(0.3)  # all subscribed before anything is published
    try:
        await ours.manager.signal("s", [1])
        await until(lambda: got["ours_too"] == [[1]], f"our other worker heard {got}")
        await other.manager.signal("s", [2])
        await until(lambda: got["other"] == [[2]], f"the other deployment heard {got}")
        await asyncio.sleep(0.2)  # time for a stray message to arrive
        assert got == {"ours_too": [[1]], "other": [[2]]}
    finally:
        for w in (ours, ours_too, other):
            await w.stop()
