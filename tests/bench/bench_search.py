"""Searching one meeting's documents among a province's (docs/PERFORMANCE.md, "Annotations and
documents").

`--versions` document versions of `--pages` pages, each page `--words` words drawn from a
Vietnamese council vocabulary (folded, as Quorum stores it) plus one word found only in its
version, in a `document_pages` table built as the migrations build it (SQLite: FTS5, migration
0003; PostgreSQL: the stored `search_vector` and its GIN index, migration 0014). Then the
search statements of `meetings/services/documents/search.py` run over one meeting's
`--meeting` versions, `--runs` times each, for a common two-word query (every page has both
words), a common word and a prefix, and a rare word. On PostgreSQL the table is first built
as it was before migration 0014 and searched with the statement of then (`to_tsvector` of
every page at every search), then migrated as 0014 does it and searched with today's.

    uv run python -m tests.bench.bench_search [--versions 3000] [--pages 30] [--words 350]
        [--meeting 20] [--runs 5] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

from meetings.services.documents.search import _POSTGRES, _SQLITE, fts5_query, tsquery
from tests.conftest import PG_ADMIN, pg_admin, pg_url

VOCABULARY = (
    "nghi quyet hoi dong nhan dan tinh ve ke hoach dau tu cong nam ngan sach dia phuong phe "
    "duyet bao cao tinh hinh kinh te xa hoi quoc phong an ninh giao duc y te van hoa dat dai "
    "moi truong giao thong nong nghiep thuy loi cong nghiep thuong mai du lich"
).split()
QUERIES = [("two common words", ["nghi", "quyet"]), ("a word and a prefix", ["du", "li"])]
MIGRATIONS = Path(__file__).resolve().parents[2] / "meetings/storage/migrations/versions"

# the PostgreSQL search before migration 0014, measured beside today's on the same table
FORMER_POSTGRES = text(
    "SELECT p.version_id, p.page_no, p.text FROM document_pages AS p "
    "WHERE to_tsvector('simple', p.folded) @@ to_tsquery('simple', :query) "
    "AND p.version_id IN :ids "
    "ORDER BY ts_rank(to_tsvector('simple', p.folded), to_tsquery('simple', :query)) DESC, "
    "p.version_id, p.page_no LIMIT :limit"
).bindparams(bindparam("ids", expanding=True))
TABLE = (
    "CREATE TABLE document_pages (id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL, "
    "page_no INTEGER NOT NULL, text VARCHAR NOT NULL, folded VARCHAR NOT NULL)"
)


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages(args: argparse.Namespace) -> list[tuple[int, int, int, str, str]]:
    rng = random.Random(7)
    rows: list[tuple[int, int, int, str, str]] = []
    for v in range(1, args.versions + 1):
        for p in range(args.pages):
            words = " ".join([*rng.choices(VOCABULARY, k=args.words), f"rieng{v}"])
            rows.append((len(rows) + 1, v, p, words, words))
    return rows


async def timed(conn: Any, statement: Any, query: str, ids: list[int], runs: int) -> dict[str, Any]:
    times, found = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = await conn.execute(statement, {"query": query, "ids": ids, "limit": 50})
        found = len(result.all())
        times.append(1000 * (time.perf_counter() - started))
    return {"ms_median": statistics.median(times), "ms_max": max(times), "pages": found}


def queries(rare: int) -> list[tuple[str, list[str]]]:
    return [*QUERIES, ("a word of one version only", [f"rieng{rare}"])]


async def bench_sqlite(args: argparse.Namespace, rows: list[Any], ids: list[int]) -> list[Any]:
    out = []
    with tempfile.TemporaryDirectory() as folder:
        engine = create_async_engine(f"sqlite+aiosqlite:///{folder}/search.sqlite3")
        try:
            async with engine.begin() as conn:
                await conn.execute(text(TABLE))
                await conn.execute(text("CREATE INDEX ix_v ON document_pages (version_id)"))
                for statement in _migration("0003_annotations").SQLITE_FTS[:2]:
                    await conn.execute(text(statement))  # the FTS5 table and its insert trigger
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.executemany("INSERT INTO document_pages VALUES (?, ?, ?, ?, ?)", rows)
            async with engine.connect() as conn:
                for label, words in queries(ids[0]):
                    figures = await timed(conn, _SQLITE, fts5_query(words), ids, args.runs)
                    out.append(("SQLite (FTS5)", label, figures))
        finally:
            await engine.dispose()
    return out


async def bench_postgres(args: argparse.Namespace, rows: list[Any], ids: list[int]) -> list[Any]:
    """The table as it was before migration 0014 (0003's expression index) and the search of
    then; the table migrated as 0014 does it, and today's search."""
    name = f"quorum_search_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    out: list[Any] = []
    engine = create_async_engine(pg_url(name))
    try:
        raw = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
        try:
            await raw.execute(TABLE)
            await raw.copy_records_to_table("document_pages", records=rows)
            await raw.execute("CREATE INDEX ix_v ON document_pages (version_id)")
            await raw.execute(_migration("0003_annotations").PG_INDEX)
            await raw.execute("ANALYZE document_pages")
            before = await _searches(engine, "PostgreSQL, before 0014", FORMER_POSTGRES, args, ids)
            started = time.perf_counter()
            for statement in _migration("0014_page_search_vector").PG_UPGRADE:
                await raw.execute(statement)
            took = time.perf_counter() - started
            print(f"  PostgreSQL: migration 0014 took {took:.1f} s for {len(rows):,} pages")
            await raw.execute("ANALYZE document_pages")
        finally:
            await raw.close()
        after = await _searches(engine, "PostgreSQL", _POSTGRES, args, ids)
        for pair in zip(before, after, strict=True):
            out += pair
    finally:
        await engine.dispose()
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return out


async def _searches(
    engine: Any, stack: str, statement: Any, args: argparse.Namespace, ids: list[int]
) -> list[Any]:
    async with engine.connect() as conn:
        return [
            (stack, label, await timed(conn, statement, tsquery(words), ids, args.runs))
            for label, words in queries(ids[0])
        ]


async def run(args: argparse.Namespace) -> list[Any]:
    print(f"{args.versions:,} versions × {args.pages} pages × {args.words} words …", flush=True)
    rows = pages(args)
    ids = list(range(args.versions // 2, args.versions // 2 + args.meeting))
    out = await bench_sqlite(args, rows, ids)
    if not args.no_postgres:
        out += await bench_postgres(args, rows, ids)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=3000)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--words", type=int, default=350)
    parser.add_argument("--meeting", type=int, default=20, help="versions of the meeting searched")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print(f"\nmachine: {platform.machine()}, {platform.python_version()}; "
          f"{args.meeting} versions searched among {args.versions:,}")  # fmt: skip
    print("| stack | query | pages found | median ms | max ms |")
    print("|---|---|---|---|---|")
    for stack, label, f in results:
        print(f"| {stack} | {label} | {f['pages']} | {f['ms_median']:.1f} | {f['ms_max']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
