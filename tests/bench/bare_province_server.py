"""The bare stack for the province baseline (docs/PERFORMANCE.md, "A province on one server").

python-socketio under uvicorn with Quorum's settings, no database and no rules, answering the
same commands as Quorum in `tests.bench.bench_province`: `meeting.join` puts the socket in the
sitting's room (rooms of P); `poll.open`, `poll.close` and `poll.publish` send one `event` each
to the room, shaped like Quorum's (the published one with the counts and the named votes);
`ballot.cast` counts in memory and acks at once, and the running count goes to the room
coalesced, at most one `update` per 50 ms per poll. Run:
`python -m tests.bench.bare_province_server PORT`.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections import Counter
from typing import Any

import socketio
import uvicorn

INTERVAL = 0.05


def create_app() -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)
    polls: dict[int, dict[str, Any]] = {}
    seqs: Counter[int] = Counter()

    async def event(meeting_id: int, type_: str, data: dict[str, Any]) -> None:
        seqs[meeting_id] += 1
        body = {
            "seq": seqs[meeting_id],
            "type": type_,
            "meeting_id": meeting_id,
            "at": time.time(),
            "data": data,
        }
        await sio.emit("event", body, room=f"meeting:{meeting_id}")

    def public(poll: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in poll.items() if k not in ("votes", "task", "dirty")}

    async def flush(poll: dict[str, Any]) -> None:
        while True:
            poll["dirty"] = False
            counts = Counter(poll["votes"].values())
            data = {"poll_id": poll["id"], "voted": len(poll["votes"]), "tally": dict(counts)}
            body = {"type": "poll_progress", "meeting_id": poll["meeting_id"], "data": data}
            await sio.emit("update", body, room=f"meeting:{poll['meeting_id']}")
            await asyncio.sleep(INTERVAL)
            if not poll["dirty"]:
                poll["task"] = None
                return

    @sio.on("connect")  # type: ignore[misc]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await sio.save_session(sid, {"user": (auth or {}).get("token", sid)})

    @sio.on("meeting.join")  # type: ignore[misc]
    async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        meeting_id = int(data["meeting_id"])
        await sio.enter_room(sid, f"meeting:{meeting_id}")
        return {"ok": True, "seq": seqs[meeting_id], "snapshot": {}}

    @sio.on("*")  # type: ignore[misc]
    async def simple(name: str, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    @sio.on("poll.create")  # type: ignore[misc]
    async def create(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        poll_id = len(polls) + 1
        polls[poll_id] = {
            "id": poll_id,
            "meeting_id": int(data["meeting_id"]),
            "title": data.get("title"),
            "kind": "motion",
            "status": "draft",
            "votes": {},
            "task": None,
            "dirty": False,
        }
        await event(polls[poll_id]["meeting_id"], "poll_created", {"poll": public(polls[poll_id])})
        return {"ok": True, "poll_id": poll_id}

    async def transition(data: dict[str, Any], status: str, type_: str) -> dict[str, Any]:
        poll = polls[int(data["poll_id"])]
        poll["status"] = status
        out = public(poll)
        if status != "open":
            counts = Counter(poll["votes"].values())
            out["result"] = {
                "counts": [{"option": k, "value": v} for k, v in counts.items()],
                "ballots": len(poll["votes"]),
            }
        if status == "published":
            out["votes"] = [
                {"user_id": user, "name": f"Đại biểu {user}", "choice": choice}
                for user, choice in sorted(poll["votes"].items())
            ]
        await event(poll["meeting_id"], type_, {"poll": out})
        return {"ok": True, "poll": out}

    @sio.on("poll.open")  # type: ignore[misc]
    async def open_(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return await transition(data, "open", "poll_opened")

    @sio.on("poll.close")  # type: ignore[misc]
    async def close(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return await transition(data, "closed", "poll_closed")

    @sio.on("poll.publish")  # type: ignore[misc]
    async def publish(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return await transition(data, "published", "poll_published")

    @sio.on("ballot.cast")  # type: ignore[misc]
    async def cast(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        poll = polls[int(data["poll_id"])]
        user = (await sio.get_session(sid))["user"]
        poll["votes"][user[-12:]] = str(data.get("choice"))
        poll["dirty"] = True
        if poll["task"] is None:
            poll["task"] = asyncio.get_running_loop().create_task(flush(poll))
        return {"ok": True, "poll_id": poll["id"], "choice": data.get("choice")}

    return socketio.ASGIApp(sio)


def main() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_ping_interval=None,  # as `quorum serve`: Engine.IO pings the clients itself
        ws_ping_timeout=None,
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )


if __name__ == "__main__":
    main()
