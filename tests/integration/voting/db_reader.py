"""A reader of the database, as someone holding a copy of it would read it (docs/features/voting.md,
"Secrecy"): every table with JSON columns decoded (SQLite stores them as text), rows in their
physical order, PostgreSQL's `xmin` and raw pages (pageinspect, as a superuser), SQLite's file
and its write-ahead log byte for byte. Used by `test_secret.py`.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from tests.conftest import Running


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def all_rows(server: Running) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, JSON text decoded (so a nested `user_id` is seen on SQLite)."""
    async with server.services.db.reading() as session:
        conn = await session.connection()
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        out = {}
        for name in names:
            result = await conn.execute(text(f'SELECT * FROM "{name}"'))
            out[name] = [{k: _decoded(v) for k, v in row._mapping.items()} for row in result]
        return out


async def scalars(server: Running, sql: str, **params: Any) -> list[Any]:
    async with server.services.db.reading() as session:
        return list((await session.execute(text(sql), params)).scalars())


def sqlite_path(server: Running) -> Path:
    return Path(server.services.db.url.split("///", 1)[1])


async def raw_bytes(server: Running) -> bytes:
    """All the bytes a copy holds of the ballots: SQLite's database file and WAL; on
    PostgreSQL every page of `poll_ballots` and of its indexes, dead tuples included."""
    if server.backend == "sqlite":
        path = sqlite_path(server)
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    async with server.services.db.write_engine.connect() as conn:
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        await conn.commit()
        relations = [
            "poll_ballots",
            *(
                await conn.execute(
                    text(
                        "SELECT indexrelid::regclass::text FROM pg_index"
                        " WHERE indrelid = 'poll_ballots'::regclass"
                    )
                )
            ).scalars(),
        ]
        pages = []
        for rel in relations:
            size = (
                await conn.execute(
                    text(
                        "SELECT pg_relation_size(CAST(:r AS regclass))"
                        " / current_setting('block_size')::int"
                    ),
                    {"r": rel},
                )
            ).scalar_one()
            for block in range(int(size)):
                page = await conn.execute(
                    text("SELECT get_raw_page(:r, 'main', :b)"), {"r": rel, "b": block}
                )
                pages.append(bytes(page.scalar_one()))
        await conn.commit()
        return b"".join(pages)


def wal_bytes(server: Running) -> bytes:
    """SQLite's write-ahead log as it is on disk (empty when truncated or absent)."""
    if server.backend != "sqlite":
        return b""
    path = sqlite_path(server)
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def _sqlite_pages(server: Running) -> dict[int, bytes]:
    """The newest image of every page: the file, overlaid by the WAL's committed frames."""
    data = sqlite_path(server).read_bytes()
    size = struct.unpack(">H", data[16:18])[0]
    size = 65536 if size == 1 else size
    pages = {n + 1: data[n * size : (n + 1) * size] for n in range(len(data) // size)}
    wal = wal_bytes(server)
    if len(wal) < 32:
        return pages
    salts = wal[16:24]
    pending: dict[int, bytes] = {}
    offset = 32
    while offset + 24 + size <= len(wal):
        header = wal[offset : offset + 24]
        if header[8:16] != salts:
            break
        number, commit = struct.unpack(">II", header[:8])
        pending[number] = wal[offset + 24 : offset + 24 + size]
        if commit:
            pages.update(pending)
            pending = {}
        offset += 24 + size
    return pages


async def physical_orders(server: Running, receipts: list[str]) -> list[list[str]]:
    """The receipts in the order in which a reader finds them stored, one list per place that
    holds several: on PostgreSQL the heap (`ORDER BY ctid`); on SQLite each page image, by
    offset from the end (a page's cells are written from its end towards its start, so the
    first stored lies last)."""
    if server.backend == "postgres":
        found = await scalars(
            server,
            "SELECT receipt FROM poll_ballots WHERE receipt = ANY(:r) ORDER BY ctid",
            r=receipts,
        )
        return [found]
    out = []
    for page in _sqlite_pages(server).values():
        at = {r: page.rfind(r.encode()) for r in receipts}
        here = sorted((offset, r) for r, offset in at.items() if offset >= 0)
        if len(here) > 1:
            out.append([r for _offset, r in reversed(here)])
    return out


def derivable(key: str, poll_id: int, user_id: int, username: str, receipt: str) -> bool:
    """Whether a ballot's key is one of the obvious functions of its voter (what a reader with
    the list of voters would try): the ids or the name as digits, hashed or not."""
    forms = [
        f"{user_id}",
        f"{poll_id}:{user_id}",
        f"{user_id}:{poll_id}",
        f"{poll_id}-{user_id}",
        f"{poll_id}/{user_id}",
        username,
        f"{poll_id}:{username}",
        f"{receipt}:{user_id}",
        f"{poll_id}:{user_id}:{receipt}",
    ]
    candidates = {f"{user_id:032x}", f"{poll_id:016x}{user_id:016x}"}
    for form in forms:
        for algorithm in ("md5", "sha1", "sha256", "sha512", "blake2b", "blake2s", "sha3_256"):
            digest = hashlib.new(algorithm, form.encode()).hexdigest()
            candidates |= {digest[:32], digest[-32:]}
    return key.lower() in candidates
