"""Bad input and flooding: an error ack, the connection stays, nothing changes (PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from realtime.client import CommandFailed, QuorumClient
from tests.conftest import Running
from tests.support.sitting import opened


async def raw(client: QuorumClient, event: str, payload: Any) -> dict[str, Any]:
    ack = await client.sio.call(event, payload, timeout=10)
    assert isinstance(ack, dict)
    return ack


async def seq_of(server: Running) -> int:
    token = await server.token("secretary")
    _, body, _ = await server.http("GET", f"/api/meetings/{server.meeting_id}", token=token)
    return int(body["seq"])


async def test_bad_input_is_an_error_ack_and_changes_nothing(server: Running) -> None:
    m = server.meeting_id
    delegate = await server.client("delegate001")
    await delegate.join(m)
    before = await seq_of(server)
    secretary = await server.token("secretary")
    status, draft, _ = await server.http(
        "POST",
        "/api/meetings",
        token=secretary,
        json={"council_id": server.council_id, "title": "Not yet published"},
    )
    assert status in (200, 201)
    before = await seq_of(server)
    cases: list[tuple[str, Any, str]] = [
        ("no.such.command", {}, "unknown_command"),
        ("meeting.join", [1, 2], "invalid_payload"),
        ("meeting.join", "meeting 1", "invalid_payload"),
        ("meeting.join", 7, "invalid_payload"),
        ("meeting.join", {"meeting_id": "one"}, "validation"),
        ("meeting.join", {"meeting_id": m, "extra": 1}, "validation"),
        ("meeting.join", {"meeting_id": -4}, "validation"),
        ("meeting.join", {"meeting_id": 99999}, "not_found"),
        ("meeting.join", {"meeting_id": 2**40}, "validation"),
        ("meeting.join", {"meeting_id": m, "since_seq": 2**40}, "validation"),
        ("meeting.join", {"meeting_id": draft["id"]}, "not_found"),
        ("meeting.open", {"meeting_id": m}, "forbidden"),
        ("meeting.open", {"meeting_id": draft["id"]}, "not_found"),
        (
            "attendance.record",
            {"meeting_id": m, "user_id": 1, "attendance": "present"},
            "forbidden",
        ),
        ("agenda.set_current", {"meeting_id": m, "item_id": None}, "forbidden"),
        (
            "speakers.reorder",
            {"meeting_id": m, "item_id": 1, "speaker_ids": []},
            "meeting_not_open",
        ),
        ("speakers.start", {"speaker_id": 10**6}, "not_found"),
        ("meeting.join", {"meeting_id": m, "pad": "x" * (2 * 1024 * 1024 + 10)}, "too_large"),
        # Socket.IO binary attachments: commands are JSON
        ("meeting.join", {"meeting_id": m, "blob": b"\x00\xff"}, "invalid_payload"),
        ("ballot.cast", {"poll_id": 1, "choice": [b"yes"]}, "invalid_payload"),
    ]
    for event, payload, code in cases:
        ack = await raw(delegate, event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)
    assert delegate.sio.connected
    assert "server_time" in await delegate.call("time.sync")
    assert await seq_of(server) == before


async def test_a_flooding_client_is_limited_and_others_stay_fast(server: Running) -> None:
    flooder = await server.client("delegate002")
    other = await server.client("delegate003")
    await other.join(server.meeting_id)
    burst = server.settings.command_burst

    async def flood() -> list[str]:
        started = time.perf_counter()
        acks = await asyncio.gather(*(raw(flooder, "time.sync", {}) for _ in range(burst * 3)))
        allowed = burst + server.settings.command_rate * (time.perf_counter() - started) + 1
        assert sum(1 for a in acks if a["ok"]) <= allowed
        return [a["error"]["code"] for a in acks if not a["ok"]]

    async def polite() -> list[float]:
        took = []
        for _ in range(15):
            started = time.perf_counter()
            await other.call("time.sync")
            took.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
        return took

    refused, took = await asyncio.gather(flood(), polite())
    assert refused and set(refused) == {"rate_limited"}
    assert max(took) < 1.0, took
    assert flooder.sio.connected
    await asyncio.sleep(0.2)  # tokens refill
    await flooder.call("time.sync")


async def test_commands_from_the_wrong_role(server: Running) -> None:
    _chair, items = await opened(server)
    display = await server.client("display")
    await display.join(server.meeting_id)
    for client, event, payload in (
        (display, "speakers.request", {"meeting_id": server.meeting_id, "item_id": items[0]}),
        (display, "agenda.set_current", {"meeting_id": server.meeting_id, "item_id": items[0]}),
    ):
        try:
            await client.command(event, payload)
        except CommandFailed as exc:
            assert exc.code in ("forbidden", "not_participant"), exc
        else:
            raise AssertionError(f"{event} was accepted from the display")


async def raw_packet(client: QuorumClient, text: str) -> dict[str, Any]:
    """Send a hand-made Socket.IO event packet (`text` is its JSON array) and await the ack:
    the client library cannot encode what the parser should refuse."""
    loop = asyncio.get_running_loop()
    acked: asyncio.Future[dict[str, Any]] = loop.create_future()
    ack_id = client.sio._generate_ack_id("/", lambda *args: acked.set_result(args[0]))
    await client.sio.eio.send(f"2{ack_id}{text}")
    return await asyncio.wait_for(acked, timeout=10)


async def test_deeply_nested_payloads_get_an_error_ack(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    delegate = await server.client("delegate001")
    m = server.meeting_id
    caplog.set_level(logging.INFO)
    deep = "[" * 100_000 + "]" * 100_000
    for text in (
        f'["meeting.join",{deep}]',  # past the parser's own limit
        f'["meeting.join",{{"meeting_id":{m},"x":{"[" * 100}{"]" * 100}}}]',
        '["meeting.join",{"meeting_id": nope}]',  # not JSON at all
    ):
        ack = await raw_packet(delegate, text)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload", ack
    assert delegate.sio.connected
    assert "server_time" in await delegate.call("time.sync")
    noisy = [r for r in caplog.records if r.levelno >= logging.INFO and r.name != "aiohttp"]
    assert len(noisy) <= 3 and not any(r.exc_info for r in noisy), noisy


async def test_nul_characters_in_a_payload_are_a_validation_error(server: Running) -> None:
    delegate = await server.client("delegate001")
    before = await seq_of(server)
    for payload in (
        {"meeting_id": server.meeting_id, "item_id": 1, "idempotency_key": "k\u0000"},
        {"meeting_id": server.meeting_id, "item_id": 1, "idempotency_key": "k", "\u0000": 1},
    ):
        ack = await raw(delegate, "speakers.request", payload)
        assert ack["ok"] is False and ack["error"]["code"] == "validation", ack
        assert "NUL" in str(ack["error"]["details"])
    assert delegate.sio.connected
    assert await seq_of(server) == before
