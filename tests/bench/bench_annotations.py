"""Stroke latency to the user's other device with 500 delegates connected
(docs/features/annotations.md,
"Sync"; figures in docs/PERFORMANCE.md, "Annotations and documents").

Run: uv run python -m tests.bench.bench_annotations [--delegates 500] [--strokes 300]
One `quorum serve` subprocess over a rehearsal council (`quorum demo --delegates N
--no-serve`); N delegates connect and join the meeting from two client processes
(`realtime.loadtest`); in this process delegate001 has a tablet and a laptop, the tablet sends
ink strokes (`annotation.upsert`, 40 points each) and the time until the laptop receives each
(`annotation_changed`) is measured, first alone, then while 40 other delegates draw too
(4 strokes/s each). Baseline: the same relay on a bare python-socketio server (emit to the
user's room, skipping the sender) with the same number of connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
import uuid
from typing import Any

import aiohttp
import socketio

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import login
from realtime.loadtest import LoadSpec, _worker, delegate_tokens
from tests.bench._server import bare_server, quorum_server

PASSWORD = "bench-pass-123"


def _stroke(version_id: int, i: int) -> dict[str, Any]:
    points = [[100 + k * 2.0, 300 + (i % 50) * 4 + (k % 7), 0.5] for k in range(40)]
    return {
        "id": str(uuid.uuid4()),
        "document_version_id": version_id,
        "kind": "ink",
        "page": i % 3,
        "color": "#1f4fd8",
        "strokes": [points],
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _hold(url: str, tokens: list[str], meeting_id: int, processes: int = 2) -> list[Any]:
    """N connections joined to the meeting, held by client processes."""
    mp = multiprocessing.get_context("spawn")
    pipes = []
    for k in range(processes):
        parent, child = mp.Pipe()
        proc = mp.Process(
            target=_worker, args=(child, url, tokens[k::processes], meeting_id), daemon=True
        )
        proc.start()
        pipes.append((parent, proc))
    for parent, _ in pipes:
        parent.recv()
    for parent, _ in pipes:
        parent.send(("go",))
    for parent, _ in pipes:
        while True:
            message = parent.recv()
            if message[0] == "joined":
                if message[2]:
                    raise RuntimeError(f"joins failed: {message[2][:3]}")
                break
    return pipes


def _release(pipes: list[Any]) -> None:
    for parent, proc in pipes:
        parent.send(("stop",))
        parent.recv()
        proc.join(timeout=10)


async def _relay(
    tablet: socketio.AsyncClient,
    laptop: socketio.AsyncClient,
    version_id: int,
    strokes: int,
    wrap: Any,
) -> list[float]:
    """Send strokes one at a time from `tablet`; ms until `laptop` has each."""
    arrived: dict[str, float] = {}
    waiting: dict[str, asyncio.Event] = {}

    async def on_user_event(event: dict[str, Any]) -> None:
        annotation = event.get("data", {}).get("annotation", {})
        key = annotation.get("id") or event.get("data", {}).get("id")
        if key in waiting:
            arrived[key] = time.perf_counter()
            waiting[key].set()

    laptop.on("user_event", on_user_event)
    latencies = []
    for i in range(strokes):
        payload = _stroke(version_id, i)
        waiting[payload["id"]] = asyncio.Event()
        sent = time.perf_counter()
        ack = await tablet.call(*wrap(payload), timeout=30)
        assert ack.get("ok"), ack
        await asyncio.wait_for(waiting[payload["id"]].wait(), 10)
        latencies.append((arrived[payload["id"]] - sent) * 1000)
        await asyncio.sleep(0.02)
    return latencies


async def _background(
    url: str, tokens: list[str], version_id: int, stop: asyncio.Event, wrap: Any
) -> int:
    """Other delegates drawing, 4 strokes per second each."""
    clients = []
    for token in tokens:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(url, auth={"token": token}, transports=["websocket"])
        clients.append(sio)
    sent = 0

    async def draw(sio: socketio.AsyncClient, k: int) -> None:
        nonlocal sent
        i = k
        while not stop.is_set():
            await sio.call(*wrap(_stroke(version_id, i)), timeout=30)
            sent += 1
            i += 1
            await asyncio.sleep(0.25)

    await asyncio.gather(*(draw(sio, k) for k, sio in enumerate(clients)))
    await asyncio.gather(*(sio.disconnect() for sio in clients))
    return sent


async def _scenarios(
    url: str, tablet_token: str, version_id: int, others: list[str], strokes: int, wrap: Any
) -> dict[str, list[float]]:
    tablet = socketio.AsyncClient(reconnection=False)
    laptop = socketio.AsyncClient(reconnection=False)
    for sio in (tablet, laptop):
        await sio.connect(url, auth={"token": tablet_token}, transports=["websocket"])
    quiet = await _relay(tablet, laptop, version_id, strokes, wrap)
    stop = asyncio.Event()
    load = asyncio.get_running_loop().create_task(_background(url, others, version_id, stop, wrap))
    await asyncio.sleep(1.0)
    busy = await _relay(tablet, laptop, version_id, strokes, wrap)
    stop.set()
    await load
    await tablet.disconnect()
    await laptop.disconnect()
    return {"alone": quiet, "while 40 others draw": busy}


async def _quorum_run(base: str, delegates: int, strokes: int) -> dict[str, list[float]]:
    async with aiohttp.ClientSession() as session:
        secretary = await login(session, base, "secretary", PASSWORD)
        headers = {"authorization": f"Bearer {secretary}"}
        async with session.get(f"{base}/api/meetings", headers=headers) as r:
            meeting_id = int((await r.json())[0]["id"])
        pdf = generate_agenda_document("Tờ trình", vietnamese_paragraphs(30, seed=5), pages=3)
        headers["content-type"] = "application/pdf"
        async with session.post(
            f"{base}/api/meetings/{meeting_id}/documents?title=T", data=pdf, headers=headers
        ) as r:
            version_id = int((await r.json())["current_version"]["id"])
    spec = LoadSpec(url=base, delegates=delegates, password=PASSWORD)
    tokens = await delegate_tokens(spec, lambda m: print(m, flush=True))
    pipes = await asyncio.to_thread(_hold, base, tokens, meeting_id)
    try:
        return await _scenarios(
            base, tokens[0], version_id, tokens[1:41], strokes, lambda p: ("annotation.upsert", p)
        )
    finally:
        await asyncio.to_thread(_release, pipes)


BARE = """
import socketio, uvicorn, gc, sys
sio = socketio.AsyncServer(async_mode="asgi", http_compression=False, logger=False)
@sio.event
async def connect(sid, environ, auth=None):
    await sio.enter_room(sid, "user:" + str((auth or {}).get("token")))
    await sio.save_session(sid, {"user": str((auth or {}).get("token"))})
@sio.on("meeting.join")
async def join(sid, data):
    await sio.enter_room(sid, "meeting:1")
    return {"ok": True, "seq": 0, "snapshot": {}}
@sio.on("stroke")
async def stroke(sid, data):
    user = (await sio.get_session(sid))["user"]
    await sio.emit("user_event", {"type": "annotation_changed", "data": {"annotation": data}},
                   room="user:" + user, skip_sid=sid)
    return {"ok": True, "annotation": data}
gc.collect(); gc.freeze(); gc.set_threshold(50_000, 20, 20)
uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]),
            ws="websockets-sansio", ws_per_message_deflate=False, loop="uvloop",
            http="httptools", log_level="warning")
"""


async def _bare_run(delegates: int, strokes: int) -> dict[str, list[float]]:
    async with bare_server([sys.executable, "-c", BARE]) as (url, _pid):
        tokens = [f"bare-{i}" for i in range(delegates)]
        pipes = await asyncio.to_thread(_hold, url, tokens, 1)
        try:
            return await _scenarios(
                url, tokens[0], 1, tokens[1:41], strokes, lambda p: ("stroke", p)
            )
        finally:
            await asyncio.to_thread(_release, pipes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--strokes", type=int, default=300)
    args = parser.parse_args()
    with quorum_server(args.delegates, PASSWORD) as (base, _pid):
        ours = asyncio.run(_quorum_run(base, args.delegates, args.strokes))
    bare = asyncio.run(_bare_run(args.delegates, args.strokes))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.delegates} delegates connected and joined; "
        f"{args.strokes} strokes of 40 points per scenario"
    )
    print(f"{'scenario':<24} {'quorum p50':>11} {'p99':>8} {'max':>8} | {'bare p50':>9} {'p99':>8}")
    report = {}
    for name in ours:
        o, b = ours[name], bare[name]
        report[name] = {
            "p50": round(statistics.median(o), 2),
            "p99": round(_pct(o, 0.99), 2),
            "max": round(max(o), 2),
            "bare_p50": round(statistics.median(b), 2),
            "bare_p99": round(_pct(b, 0.99), 2),
        }
        r = report[name]
        print(
            f"{name:<24} {r['p50']:>9.1f}ms {r['p99']:>6.1f}ms {r['max']:>6.1f}ms | "
            f"{r['bare_p50']:>7.1f}ms {r['bare_p99']:>6.1f}ms"
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
