"""The bare stack for the vote-storm baseline (docs/PERFORMANCE.md, "Vote storm").

python-socketio under uvicorn with Quorum's settings, no database and no rules: `ballot.cast`
counts in memory and acks at once; the running count goes to every client coalesced, at most
one `update` per 50 ms. Run: `python -m tests.bench.bare_vote_server PORT`.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections import Counter
from typing import Any

import socketio
import uvicorn

INTERVAL = 0.05


def create_app() -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)
    counts: Counter[str] = Counter()
    voted: set[str] = set()
    state: dict[str, Any] = {"task": None, "dirty": False}

    async def flush() -> None:
        while True:
            state["dirty"] = False
            body = {"type": "poll_progress", "data": {"voted": len(voted), "counts": dict(counts)}}
            await sio.emit("update", body)
            await asyncio.sleep(INTERVAL)
            if not state["dirty"]:
                state["task"] = None
                return

    @sio.on("ballot.cast")  # type: ignore[misc]
    async def cast(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        if sid not in voted:
            voted.add(sid)
            counts[str(data.get("choice"))] += 1
        state["dirty"] = True
        if state["task"] is None:
            state["task"] = asyncio.get_running_loop().create_task(flush())
        return {"ok": True}

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
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )


if __name__ == "__main__":
    main()
