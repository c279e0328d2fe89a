"""Live progress within a budget of the whole worker (docs/features/voting.md, "Live progress"):
after a tick, the ticker pauses for the sockets the whole tick reached, not only for the
largest room, so many small sittings voting at once cost the worker no more than one large
room. Observed on a real server: the times at which a delegate's tablet receives the
`poll_progress` updates while six polls take ballots at once."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import pytest

from realtime import tally
from tests.integration.voting.conftest import Sitting, cast

POLLS = 6
PER_RECIPIENT_S = 0.005
"""The cost budgeted per socket, set large here so that a handful of sockets stands for a
province: six polls × (seven sockets in the sitting's room + the chair's room) = 48 sockets a
tick, a pause of 0.24 s; each room alone (7 sockets, 35 ms) stays under the 50 ms interval."""


async def test_the_pause_after_a_tick_grows_with_every_socket_it_reached(
    sitting: Sitting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tally, "PER_RECIPIENT_S", PER_RECIPIENT_S)
    polls = [await sitting.open(title=f"Motion {n}", allow_change=True) for n in range(POLLS)]
    watcher = sitting.delegates[5]  # joined, not checked in: it only watches
    arrivals: list[tuple[float, int]] = []  # (when, poll) of each poll_progress it received
    seen = len(watcher.updates)
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal seen
        while not stop.is_set():
            now = time.monotonic()
            for update in watcher.updates[seen:]:
                if update["type"] == "poll_progress":
                    arrivals.append((now, int(update["data"]["poll_id"])))
            seen = len(watcher.updates)
            await asyncio.sleep(0.002)

    async def vote(delegate: int) -> None:
        # every delegate votes on every poll, again and again: all six polls stay dirty
        for wave in range(12):
            choice = ("yes", "no")[(wave + delegate) % 2]
            for poll_id in polls:
                await cast(sitting.delegates[delegate], poll_id, choice)
            await asyncio.sleep(0.1)

    watching = asyncio.create_task(watch())
    began = time.monotonic()
    await asyncio.gather(*(vote(d) for d in range(5)))
    voted_s = time.monotonic() - began
    await asyncio.sleep(0.5)  # the trailing updates
    stop.set()
    await watching

    first_poll = [t for t, poll_id in arrivals if poll_id == polls[0]]
    assert len(first_poll) >= 2, arrivals  # progress still flows, for every poll
    assert {poll_id for _t, poll_id in arrivals} == set(polls)
    reached = POLLS * (len(sitting.delegates) + 1 + 1)  # the room's sockets and the chair's room
    pause = reached * PER_RECIPIENT_S
    gaps = [b - a for a, b in itertools.pairwise(first_poll)]
    # a tick reaching 48 sockets is followed by a 0.24 s pause (a per-room budget: 50 ms)
    assert statistics.median(gaps) >= 0.8 * pause, gaps
    assert len(first_poll) <= voted_s / pause + 2, (len(first_poll), voted_s)


async def test_the_pause_counts_the_members_present_on_every_worker(
    sitting: Sitting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sitting's tablets may be spread over several workers, each sending progress to its own:
    each worker's pause counts the members present as the database knows them, not only its
    own sockets in the room, so a tablet hears progress as often whatever the number of
    workers. Here four of the five members present leave the room (as if on another worker):
    this worker holds the chair and one voter, and still pauses for the five present."""
    monkeypatch.setattr(tally, "PER_RECIPIENT_S", PER_RECIPIENT_S)
    polls = [await sitting.open(title=f"Motion {n}", allow_change=True) for n in range(POLLS)]
    for client in sitting.delegates[1:]:
        await client.disconnect()
    voter = sitting.delegates[0]
    arrivals: list[float] = []  # when the voter received an update of the first poll
    seen = len(voter.updates)
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal seen, present
        while not stop.is_set():
            now = time.monotonic()
            for update in voter.updates[seen:]:
                if update["type"] == "poll_progress" and update["data"]["poll_id"] == polls[0]:
                    arrivals.append(now)
                    present = int(update["data"]["present"])
            seen = len(voter.updates)
            await asyncio.sleep(0.002)

    present = 0
    watching = asyncio.create_task(watch())
    for wave in range(20):
        for poll_id in polls:
            await cast(voter, poll_id, ("yes", "no")[wave % 2])
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the trailing updates
    stop.set()
    await watching

    assert len(arrivals) >= 2, arrivals
    assert present >= 5
    # each poll's update counts `present` tablets (the chair's room: one socket more); this
    # worker's own sockets in the room are the chair's and the voter's
    pause = POLLS * (present + 1) * PER_RECIPIENT_S
    local_pause = POLLS * (2 + 1) * PER_RECIPIENT_S
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert statistics.median(gaps) >= 0.8 * pause > 1.5 * local_pause, (gaps, pause, local_pause)
