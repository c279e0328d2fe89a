"""`realtime.manager.DirectEmitManager` keeps each connection's rooms so that a disconnect
leaves only those (docs/performance-journal.md, "A province on one server"): its rooms, after
any mix of joins, leaves, closed rooms and disconnects, are the library manager's."""

from __future__ import annotations

import random
from typing import Any

import socketio

from realtime.manager import DirectEmitManager

NS = "/"


def _connect(manager: Any, sid: str, eio_sid: str) -> None:
    """What `pre_connect` does, with ids of our choosing (it asks the server for one)."""
    manager.basic_enter_room(sid, NS, None, eio_sid=eio_sid)
    manager.basic_enter_room(sid, NS, sid, eio_sid=eio_sid)


def _snapshot(manager: Any) -> dict[Any, dict[str, str]]:
    return {room: dict(members) for room, members in manager.rooms.get(NS, {}).items()}


def test_rooms_after_joins_leaves_and_disconnects_match_the_library() -> None:
    ours, theirs = DirectEmitManager(), socketio.AsyncManager()
    rng = random.Random(16)
    connected: list[str] = []
    for step in range(3000):
        action = rng.random()
        if action < 0.25 or not connected:
            sid = f"s{step}"
            connected.append(sid)
            for manager in (ours, theirs):
                _connect(manager, sid, f"e{step}")
        elif action < 0.65:
            sid, room = rng.choice(connected), f"meeting:{rng.randrange(12)}"
            for manager in (ours, theirs):
                manager.basic_enter_room(sid, NS, room)
        elif action < 0.8:
            sid, room = rng.choice(connected), f"meeting:{rng.randrange(12)}"
            for manager in (ours, theirs):
                manager.basic_leave_room(sid, NS, room)
        elif action < 0.83:
            room = f"meeting:{rng.randrange(12)}"
            for manager in (ours, theirs):
                manager.basic_close_room(room, NS)
        else:
            sid = connected.pop(rng.randrange(len(connected)))
            for manager in (ours, theirs):
                manager.basic_disconnect(sid, NS)
        if step % 100 == 0:
            assert _snapshot(ours) == _snapshot(theirs)
            for sid in connected:
                assert sorted(ours.get_rooms(sid, NS), key=str) == sorted(
                    theirs.get_rooms(sid, NS), key=str
                )
    for sid in list(connected):
        for manager in (ours, theirs):
            manager.basic_disconnect(sid, NS)
    assert _snapshot(ours) == _snapshot(theirs) == {}
    assert ours._rooms_of == {}


def test_a_disconnect_does_not_look_at_other_rooms() -> None:
    """A leaving socket touches its own rooms only, however many rooms the namespace has."""
    manager = DirectEmitManager()
    for i in range(2000):
        _connect(manager, f"s{i}", f"e{i}")
        manager.basic_enter_room(f"s{i}", NS, f"user:{i}")
    manager.basic_enter_room("s1", NS, "meeting:1")

    class Watched(dict[Any, Any]):
        looked = 0

        def items(self) -> Any:
            Watched.looked += 1
            return super().items()

        def copy(self) -> Any:
            Watched.looked += 1
            return super().copy()

    manager.rooms[NS] = Watched(manager.rooms[NS])
    manager.basic_disconnect("s1", NS)
    assert Watched.looked == 0  # the library's scan copies and walks every room
    assert "meeting:1" not in manager.rooms[NS]
    assert "user:1" not in manager.rooms[NS] and "s1" not in manager.rooms[NS][None]
    assert "user:2" in manager.rooms[NS]
