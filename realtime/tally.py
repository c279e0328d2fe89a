"""Coalesced vote progress and the poll timer (docs/features/voting.md, "Live progress").

Ballots are never pushed one by one. A committed batch marks its polls dirty; for each poll at
most one `update` goes out per window (leading edge, then trailing; the window is counted from
the moment the previous update was sent, not from its start; it is `tally_interval_ms`, longer
for a large room: `window_s`), with figures
read from the database, so whichever worker sends it, it is right. One ticker per worker reads
every due poll's figures together, so dozens of sittings voting at once cost a few queries per
tick, not a few per poll. Each worker sends updates to
its own sockets only: a committed batch's dirty mark goes to every worker as a small signal
(`DirectEmitManager.signal`, through Redis when there are several), and each coalesces and
sends to the tablets it holds. Routing the updates themselves through Redis made every worker
send every other worker's updates too: with two workers, 25 updates per tablet in a 500-ballot
storm instead of 10 (docs/performance-journal.md, "Scale-out: two workers behind Redis").
`poll_progress` (how many voted; the running tally only for open polls that show it) goes to the
meeting room and `poll_voters` (who has voted) to the chair's room. For a secret poll neither
carries anything about choices, so their content and timing follow participation only.

`PollTimer` closes polls whose time is up, every half second, on every worker; closing is
idempotent (the poll row is locked and its status checked), and the cast path closes too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import socketio

from meetings.domain.signals import BallotsCounted
from meetings.services.context import Services
from meetings.services.voting import polls
from realtime import rooms

log = logging.getLogger(__name__)


# Server time one recipient of a broadcast may cost per window: sending costs ~60 µs per socket
# on the 2-core machine, so a window of 0.2 ms per recipient keeps progress updates to about a
# third of the worker while ballots pour in, however many are watching.
PER_RECIPIENT_S = 0.0002


def window_s(interval_s: float, recipients: int) -> float:
    """The coalescing window for an audience: the configured interval, longer for a large room
    (500 tablets: 0.1 s; 2,000: 0.4 s)."""
    return max(interval_s, recipients * PER_RECIPIENT_S)


EARLY_S = 0.002
"""A poll whose window ends this close to a tick goes out with it (timer jitter)."""


class TallyBroadcaster:
    """One ticker per worker for every poll: a tick reads the progress of all the polls that
    are dirty and due in one go (`polls.progress_of`), sends each to its rooms, then waits
    `interval`, or longer for the sockets the whole tick reached (`window_s`), before the next
    tick; a poll is due once its window has passed since its last update. The first ballot
    after a quiet spell starts a tick at once (leading edge).

    A province's dozens of sittings voting at once made one flush task per poll, each with its
    own three queries, up to 20 times a second per poll; read together they cost a few queries
    per tick (docs/performance-journal.md, "A province on one server")."""

    def __init__(self, services: Services, sio: socketio.AsyncServer, interval_s: float) -> None:
        self.services = services
        self.sio = sio
        self.interval = interval_s
        self._task: asyncio.Task[None] | None = None
        self._dirty: set[int] = set()
        self._last: dict[int, float] = {}  # per poll: when its last update had gone out
        self._window: dict[int, float] = {}  # per poll, from the audience of its last update
        self._meeting: dict[int, int] = {}  # poll → its meeting, once read
        sio.manager.on_signal("polls_dirty", self._marked)

    async def counted(self, signal: BallotsCounted) -> None:
        """After-commit handler of a ballot batch (registered in `realtime/asgi.py`): the
        batch's polls go to every worker's broadcaster in one signal (`_marked`). With several
        workers each signal is a Redis message that every worker decodes, and a batch holds
        ballots of several sittings when a province votes at once: one signal per poll cost
        about one message per ballot (docs/performance-journal.md, "A province on one
        server")."""
        await self.sio.manager.signal("polls_dirty", list(signal.poll_ids))

    def _marked(self, poll_ids: Any) -> None:
        for poll_id in poll_ids if isinstance(poll_ids, list) else ():
            self.mark(int(poll_id))

    def mark(self, poll_id: int) -> None:
        self._dirty.add(poll_id)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _audience(self, room: str) -> int:
        """Sockets of this worker in a room (those this worker sends to)."""
        namespace: dict[Any, Any] = self.sio.manager.rooms.get("/", {})
        return len(namespace.get(room, ()))

    def _due(self, now: float) -> set[int]:
        return {
            poll_id
            for poll_id in self._dirty
            if self._last.get(poll_id, float("-inf")) + self._window.get(poll_id, self.interval)
            <= now + EARLY_S
        }

    async def _run(self) -> None:
        """Tick while polls are dirty; end after a quiet interval (no await between the last
        check and the end, so a `mark` meanwhile finds the task still running)."""
        try:
            while self._dirty:
                due = self._due(time.monotonic())
                reached = 0
                if due:
                    self._dirty -= due
                    reached = await self._tick(due)
                # the pause starts when the updates have gone out: a broadcast to many
                # clients can take longer than the window, and back-to-back broadcasts would
                # starve the acks. It grows with the sockets the whole tick reached, whatever
                # the rooms: dozens of small sittings voting at once cost the worker as much
                # as one large room (`window_s`)
                await asyncio.sleep(window_s(self.interval, reached))
        finally:
            self._task = None

    async def _tick(self, due: set[int]) -> int:
        """Reads and sends the progress of the polls `due`; returns how many of this worker's
        sockets the updates went to."""
        reached = 0
        wanted = [
            poll_id
            for poll_id in due
            if (meeting_id := self._meeting.get(poll_id)) is None
            or self._audience(rooms.meeting(meeting_id))
            or self._audience(rooms.chair(meeting_id))
        ]  # no tablet of a sitting on this worker: nothing to read or send for it
        try:
            found = await polls.progress_of(self.services, wanted)
            for poll_id, progress in found.items():
                self._meeting[poll_id] = int(progress["meeting_id"])
                reached += await self._emit(progress)
                await asyncio.sleep(0)  # acks waiting meanwhile go out between the sittings
        except Exception:
            log.exception("vote progress for polls %s failed", sorted(wanted))
            return reached
        finally:
            now = time.monotonic()
            for poll_id in due:
                self._last[poll_id] = now
        for poll_id in set(wanted) - set(found):  # no longer open: forget it
            self._last.pop(poll_id, None)
            self._window.pop(poll_id, None)
            self._meeting.pop(poll_id, None)
        return reached

    async def _emit(self, found: dict[str, Any]) -> int:
        """To this worker's sockets only (`ignore_queue`): every worker sends its own. Returns
        how many sockets the two updates went to."""
        meeting_id = int(found["meeting_id"])
        poll_id = int(found["data"]["poll_id"])
        room = rooms.meeting(meeting_id)
        chair_room = rooms.chair(meeting_id)
        # the sitting's members present on every worker, as the database counts them (or this
        # worker's sockets in the room, if more): how often a tablet hears progress is the
        # sitting's, not the deployment's. Counting only this worker's sockets, two workers
        # sharing a province's sittings each sent twice as often as one worker did, every
        # tablet got twice the updates, and the second worker bought less than it cost
        audience = max(self._audience(room), int(found["data"]["present"]))
        chairs = self._audience(chair_room)
        self._window[poll_id] = window_s(self.interval, audience)
        await self.sio.emit(
            "update",
            {"type": "poll_progress", "meeting_id": meeting_id, "data": found["data"]},
            room=room,
            ignore_queue=True,
        )
        await self.sio.emit(
            "update",
            {
                "type": "poll_voters",
                "meeting_id": meeting_id,
                "data": {"poll_id": found["data"]["poll_id"], "user_ids": found["voters"]},
            },
            room=chair_room,
            ignore_queue=True,
        )
        return audience + chairs


class PollTimer:
    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self, services: Services) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(services))

    async def stop(self, _services: Services) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self, services: Services) -> None:
        while True:
            try:
                await polls.close_due(services)
            except Exception:
                log.exception("closing polls whose time is up failed")
            await asyncio.sleep(self.interval)
