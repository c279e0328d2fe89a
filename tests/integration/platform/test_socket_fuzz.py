"""Fuzz every Socket.IO command with malformed payloads (issue 14): bounded, seeded.

For each command the server registers, payloads are built from its payload model's JSON
schema, then broken: wrong types, huge and negative integers, NUL characters, very long
strings, deep nesting, missing and unknown fields, non-object payloads. Every one must get an
ack that is `ok` or a clear error code (never `internal`, never no ack), and the connection
must stay up. The administrator sends them (the role that passes most checks). QUORUM_FUZZ_S
bounds the time (default 45 s), QUORUM_FUZZ_SEED picks the seed.
"""

from __future__ import annotations

import os
import random
import reprlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from meetings.services.accounts import auth
from realtime.asgi import create_asgi_app
from realtime.client import QuorumClient
from tests.conftest import (
    PASSWORD,
    Template,
    fresh_database,
    pg_admin,
    server_settings,
    start_uvicorn,
)
from tests.integration.platform.socket_authz import served_commands

BUDGET_S = float(os.environ.get("QUORUM_FUZZ_S", "45"))
SEED = int(os.environ.get("QUORUM_FUZZ_SEED", "14"))
PER_COMMAND = 40

HOSTILE: list[Any] = [
    None, True, -1, 0, 2**31, 2**63, -(2**63), 10**40, 1e308, float("inf"), float("nan"),
    "", "\x00", "a\x00b", "x" * 100_000, "🗳" * 1000, [], {}, [None] * 1000,
    {"\x00": 1}, {"a" * 10_000: 1},
]  # fmt: skip


_short = reprlib.Repr()
_short.maxlevel, _short.maxstring, _short.maxother = 3, 60, 60


def nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"n": value}
    return value


def plausible(schema: dict[str, Any], rng: random.Random) -> Any:
    kind = schema.get("type")
    if "anyOf" in schema:
        return plausible(rng.choice(schema["anyOf"]), rng)
    if kind == "integer":
        return rng.choice([1, 2, 3, schema.get("minimum", 0), schema.get("maximum", 7)])
    if kind == "string":
        return rng.choice(["yes", "a", "Nghị quyết", "00000000-0000-4000-8000-000000000000"])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return [plausible(schema.get("items", {}), rng) for _ in range(rng.randint(0, 3))]
    if kind == "number":
        return rng.random() * 100
    return rng.choice([1, "x", None])


def payloads(model: type[Any], rng: random.Random) -> list[Any]:
    schema = model.model_json_schema()
    fields: dict[str, Any] = schema.get("properties", {})
    base = {name: plausible(spec, rng) for name, spec in fields.items()}
    out: list[Any] = [base, {}, None, [], "text", 7, nested(100), nested(300)]
    out.append(base | {"unknown_field": 1})
    for name in fields:
        for value in rng.sample(HOSTILE, 4):
            out.append(base | {name: value})
        out.append(base | {name: nested(rng.choice([40, 300]))})
        out.append({k: v for k, v in base.items() if k != name})
    rng.shuffle(out)
    return out[:PER_COMMAND]


@pytest.fixture
async def admin_socket(template: Template, tmp_path: Path) -> AsyncIterator[QuorumClient]:
    url, pg_name = await fresh_database(template, tmp_path)
    settings = server_settings(url, tmp_path)
    settings.command_rate, settings.command_burst = 100_000, 100_000  # fuzz, not the limiter
    settings.user_command_rate, settings.user_command_burst = 100_000, 100_000
    app = create_asgi_app(settings)
    uv, task, port = await start_uvicorn(app)
    base = f"http://127.0.0.1:{port}"
    await auth.create_user(app.quorum_services, None, "fuzzer", "Fuzzer", PASSWORD, is_admin=True)
    import aiohttp

    from realtime.client import login

    async with aiohttp.ClientSession() as session:
        token = await login(session, base, "fuzzer", PASSWORD)
    client = QuorumClient(base, token)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()
        uv.should_exit = True
        await task
        if pg_name:
            await pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def test_every_command_survives_malformed_payloads(
    admin_socket: QuorumClient, tmp_path: Path
) -> None:
    from meetings.config import Settings

    commands = await served_commands(Settings(data_dir=tmp_path / "c", secret_key="t").prepare())
    rng = random.Random(SEED)
    deadline = time.monotonic() + BUDGET_S
    wrong: list[str] = []
    sent = 0
    for name in sorted(commands):
        for body in payloads(commands[name], rng):
            if time.monotonic() > deadline:
                break
            sent += 1
            try:
                ack = await admin_socket.sio.call(name, body, timeout=20)
            except Exception as exc:  # a timeout: no ack
                wrong.append(f"{name} {_short.repr(body)}: no ack ({type(exc).__name__})")
                continue
            if not isinstance(ack, dict) or ("ok" not in ack):
                wrong.append(f"{name} {_short.repr(body)}: ack {ack!r:.120}")
            elif not ack["ok"] and ack.get("error", {}).get("code") in (None, "internal"):
                wrong.append(f"{name} {_short.repr(body)}: {ack!r:.200}")
            if not admin_socket.sio.connected:
                wrong.append(f"{name} {_short.repr(body)}: the connection dropped")
                break
    print(f"socket fuzz: {sent} payloads over {len(commands)} commands, seed {SEED}")
    assert sent >= len(commands), "the time budget ran out before every command was tried"
    assert not wrong, "\n".join(wrong[:40])
