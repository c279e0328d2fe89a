"""`quorum db upgrade` on empty databases matches the models; the server refuses a database
that is unmigrated or migrated by a newer Quorum (docs/OPERATIONS.md, "Database").

Runs at the end of the foundation work and whenever a subsystem adds a migration: a table or
column in the models that no migration creates (or the reverse) fails here.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import meetings.storage.tables  # noqa: F401  (registers every subsystem's tables)
from meetings.storage.migrate import head_revision
from tests.conftest import need, pg_admin, pg_available, pg_url


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    ok, why = await pg_available()
    need("PostgreSQL", ok, why)
    name = f"quorum_m_{uuid.uuid4().hex[:12]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def quorum(url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    env = os.environ | {"QUORUM_DATABASE_URL": url, "QUORUM_DATA_DIR": str(data_dir)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "meetings.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode()


# objects the migrations create on purpose outside the models: the search index of
# 0003_annotations (an FTS5 virtual table and its shadow tables on SQLite) and of 0014 on
# PostgreSQL (the generated column `document_pages.search_vector` and its GIN index). Only
# their presence in the database is forgiven, nothing else about them.
UNMODELLED = ("document_pages_fts", "ix_document_pages_fts")
UNMODELLED_COLUMNS = {("document_pages", "search_vector")}


def _unmodelled(diff: Any) -> bool:
    if isinstance(diff, tuple) and len(diff) == 4 and diff[0] == "remove_column":
        return (diff[2], getattr(diff[3], "name", "")) in UNMODELLED_COLUMNS
    if not (isinstance(diff, tuple) and diff and diff[0] in ("remove_table", "remove_index")):
        return False
    return str(getattr(diff[1], "name", "")).startswith(UNMODELLED)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _differences(url: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                diff: list[Any] = compare_metadata(context, SQLModel.metadata)
                return [d for d in diff if not _unmodelled(d)]

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _execute(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def test_upgrade_an_empty_database_matches_the_models(empty_db: str, tmp_path: Path) -> None:
    code, out = await quorum(empty_db, tmp_path, "db", "upgrade")
    assert code == 0, out
    assert "up to date" in out
    differences = await _differences(empty_db)
    assert differences == [], "migrations and models differ:\n" + "\n".join(map(repr, differences))
    code, out = await quorum(empty_db, tmp_path, "db", "check")
    assert code == 0 and head_revision() in out
    code, out = await quorum(empty_db, tmp_path, "db", "upgrade")  # a second run changes nothing
    assert code == 0, out


async def test_serve_refuses_an_unmigrated_database(empty_db: str, tmp_path: Path) -> None:
    for command in (("db", "check"), ("serve", "--port", str(_free_port()))):
        code, out = await quorum(empty_db, tmp_path, *command)
        assert code == 1, out
        assert "no Quorum schema yet" in out and "quorum db upgrade" in out
        assert "Traceback" not in out
    code, out = await quorum(empty_db, tmp_path, "user", "list")
    assert code == 1 and "quorum db upgrade" in out and "Traceback" not in out


async def test_serve_refuses_a_database_from_a_newer_quorum(empty_db: str, tmp_path: Path) -> None:
    code, out = await quorum(empty_db, tmp_path, "db", "upgrade")
    assert code == 0, out
    await _execute(empty_db, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    code, out = await quorum(empty_db, tmp_path, "serve", "--port", str(_free_port()))
    assert code == 1, out
    assert "newer Quorum" in out and "9999_from_the_future" in out
    assert "Traceback" not in out
