"""A bare python-socketio server: the baseline of bench_broadcast (docs/PERFORMANCE.md).

Same stack and settings as `quorum serve` (uvicorn, websockets-sansio, uvloop, httptools, no
permessage-deflate, gc.freeze), no database: `meeting.join` enters a room and acks, and
`loadtest.broadcast` emits one event shaped like Quorum's to the room and acks its seq.
Run: python -m tests.bench.bare_sio_server PORT
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

import socketio
import uvicorn


def create_app() -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi", http_compression=False, logger=False)
    seq = {"value": 0}

    @sio.event  # type: ignore[misc]
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await sio.enter_room(sid, "user:0")

    @sio.on("meeting.join")  # type: ignore[misc]
    async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        await sio.enter_room(sid, f"meeting:{data['meeting_id']}")
        return {"ok": True, "seq": seq["value"], "snapshot": {}}

    @sio.on("loadtest.broadcast")  # type: ignore[misc]
    async def broadcast(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        seq["value"] += 1
        event = {
            "seq": seq["value"],
            "type": "current_item_changed",
            "meeting_id": data["meeting_id"],
            "at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "data": {"item_id": seq["value"] % 4 + 1},
        }
        await sio.emit("event", event, room=f"meeting:{data['meeting_id']}")
        return {"ok": True, "seq": seq["value"]}

    return socketio.ASGIApp(sio)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8001
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    uvicorn.run(create_app(), host="127.0.0.1", port=port, ws="websockets-sansio",
                ws_per_message_deflate=False, loop="uvloop", http="httptools",
                log_level="warning")


if __name__ == "__main__":
    main()
