"""QUORUM_DATABASE_URL in the spellings operators write (README.md, "Configuration"):
`sqlite:///…`, `postgresql://…` and `postgres://…` work as the async drivers' URLs do; anything
else stops the command with one line saying what to write, not a SQLAlchemy traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meetings.config import Settings
from meetings.services.assembly import create_services
from tests.integration.platform.serve import serving
from tests.integration.platform.test_migrations import empty_db, quorum  # noqa: F401


def usual_spellings(url: str) -> list[str]:
    if url.startswith("sqlite+aiosqlite://"):
        return [url.replace("sqlite+aiosqlite://", "sqlite://")]
    rest = url.removeprefix("postgresql+asyncpg://")
    return [f"postgresql://{rest}", f"postgres://{rest}"]


async def test_the_usual_spellings_work(empty_db: str, tmp_path: Path) -> None:  # noqa: F811
    first, *others = usual_spellings(empty_db)
    code, out = await quorum(first, tmp_path, "db", "upgrade")
    assert code == 0 and "up to date" in out, out
    for url in [first, *others]:
        code, out = await quorum(url, tmp_path, "user", "list")
        assert code == 0 and "Traceback" not in out, out
    code, out = await quorum(
        first, tmp_path, "user", "create", "clerk", "--password", "clerk-password-1"
    )
    assert code == 0, out
    async with serving(tmp_path, {"QUORUM_DATABASE_URL": others[-1] if others else first}) as (
        http,
        base,
    ):
        body = {"username": "clerk", "password": "clerk-password-1"}
        async with http.post(base + "/api/auth/login", json=body) as response:
            assert response.status == 200, await response.text()


async def test_an_unknown_database_says_what_to_write(tmp_path: Path) -> None:
    for url, command in (
        ("mysql://u@localhost/quorum", ("db", "upgrade")),
        ("postgresql+psycopg2://u@h/db", ("user", "list")),
        ("quorum.sqlite3", ("serve", "--port", "9")),
    ):
        code, out = await quorum(url, tmp_path, *command)
        assert code == 2, out
        assert "Traceback" not in out, out
        assert "sqlite:///" in out and "postgresql://" in out, out
        assert len(out.strip().splitlines()) == 1, out


async def test_the_postgresql_pool_is_sized_by_the_settings(
    empty_db: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Four workers of 20 connections each filled PostgreSQL's default 100 with the benchmark's
    own connections: the pool is set by QUORUM_DB_POOL_SIZE and QUORUM_DB_POOL_OVERFLOW, and
    a worker never holds more than both together."""
    settings = Settings(
        data_dir=tmp_path, database_url=empty_db, db_pool_size=3, db_pool_overflow=1
    ).prepare()
    services = create_services(settings)
    engine = services.db.write_engine
    try:
        if empty_db.startswith("sqlite"):  # SQLite's own engines: one writer, four readers
            assert engine.pool.size() == 1  # type: ignore[attr-defined]
            assert services.db.read_engine.pool.size() == 4  # type: ignore[attr-defined]
            return
        held = [await engine.connect() for _ in range(4)]
        assert engine.pool.size() == 3 and engine.pool.checkedout() == 4  # type: ignore[attr-defined]
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.0):
                await engine.connect()  # the fifth waits for one of the four
        for connection in held:
            await connection.close()
    finally:
        await services.db.dispose()
