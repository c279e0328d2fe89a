"""The writer's wait for packets (`realtime.engine.QuorumSocket`): the library's contract kept
without a task per packet. Over real connections: tests/integration/platform/test_engine.py."""

from __future__ import annotations

import asyncio

import pytest
from engineio import exceptions, packet, payload

from realtime.engine import POLLING_BATCH, QuorumEngine, QuorumSocket


def _socket(wait_s: float = 30.0) -> QuorumSocket:
    engine = QuorumEngine(async_mode="asgi")
    engine.ping_interval, engine.ping_timeout = wait_s / 2, wait_s / 2
    return QuorumSocket(engine, "sid")


def _message(text: str) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, text)


async def test_a_poll_takes_every_packet_waiting_in_order() -> None:
    sock = _socket()
    for i in range(5):
        await sock.send(_message(f"m{i}"))
    assert [p.data for p in await sock.poll()] == ["m0", "m1", "m2", "m3", "m4"]
    assert sock.queue.empty()
    assert sock.queue._unfinished_tasks == 0  # every get marked done, as the library does


async def test_a_polling_response_carries_at_most_what_the_python_client_decodes() -> None:
    sock = _socket()
    for i in range(40):
        await sock.send(_message(f"m{i}"))
    sizes = [len(await sock.poll()) for _ in range(3)]
    assert sizes == [POLLING_BATCH, POLLING_BATCH, 40 - 2 * POLLING_BATCH]
    assert POLLING_BATCH <= payload.Payload.max_decode_packets
    sock.upgraded = True  # over WebSocket each packet is its own frame: nothing held back
    for i in range(40):
        await sock.send(_message(f"m{i}"))
    assert len(await sock.poll()) == 40


async def test_a_waiting_poll_wakes_for_the_next_packet() -> None:
    sock = _socket()
    waiting = asyncio.create_task(sock.poll())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await sock.send(_message("late"))
    assert [p.data for p in await asyncio.wait_for(waiting, 1)] == ["late"]


async def test_the_closing_marker_ends_the_writer_and_stays_for_the_next_poll() -> None:
    sock = _socket()
    await sock.send(_message("last"))
    sock.queue.put_nowait(None)  # what the library queues when the socket closes
    assert [p.data for p in await sock.poll()] == ["last"]
    assert await sock.poll() == []  # the marker, put back by the poll that found it
    sock.queue.put_nowait(None)
    assert await sock.poll() == []
    assert sock.queue.empty()


async def test_no_packet_within_the_ping_interval_and_timeout_ends_the_writer() -> None:
    sock = _socket(wait_s=0.1)
    started = asyncio.get_running_loop().time()
    with pytest.raises(exceptions.QueueEmpty):
        await sock.poll()
    assert 0.09 <= asyncio.get_running_loop().time() - started < 1


async def test_over_websocket_the_writer_waits_without_a_timer() -> None:
    """The reader ends a silent WebSocket and queues the closing marker
    (tests/integration/platform/test_engine.py): the writer keeps no limit of its own."""
    sock = _socket(wait_s=0.1)
    sock.upgraded = True
    waiting = asyncio.create_task(sock.poll())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    sock.queue.put_nowait(None)
    assert await asyncio.wait_for(waiting, 1) == []


async def test_a_cancelled_writer_ends_as_the_library_ends_it() -> None:
    sock = _socket()
    waiting = asyncio.create_task(sock.poll())
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(exceptions.QueueEmpty):
        await waiting


async def test_a_client_gone_silent_gets_nothing_queued_and_is_closed() -> None:
    sock = _socket(wait_s=0.2)
    sock.connected = True
    sock.last_ping -= 1  # its last pong is older than the ping timeout
    await sock.send(_message("lost"))
    assert sock.closed
    assert all(p is None or p.data != "lost" for p in list(sock.queue._queue))


async def test_closing_answers_a_waiting_long_poll_at_once() -> None:
    sock = _socket()
    sock.connected = True
    waiting = asyncio.create_task(sock.poll())
    await asyncio.sleep(0.01)
    await sock.close(wait=False, abort=True)
    assert await asyncio.wait_for(waiting, 1) == []
    await sock.close(wait=False, abort=True)  # once only
    assert sock.queue.empty()
