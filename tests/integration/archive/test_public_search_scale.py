"""The public search with 10,000 published resolutions (docs/features/archive.md, "Public (no
login)"): the answers are right (checked against a plain Python filter over the same rows),
the page and its count read the index `ix_archive_records_public_list` (migration 0009) and
not the table, and every search answers within a bound generous enough for a loaded 2-core
machine (1 s; the figures are printed with `-s`, not recorded: the machine is shared).
"""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import Select
from sqlmodel import col

from meetings.domain.text import fold
from meetings.services.archive import public
from meetings.storage.tables_archive import ArchiveRecord
from tests.conftest import Running
from tests.integration.archive.test_public_site import WORDS, insert_records

N = 10_000
BOUND_S = 1.0
INDEX = "ix_archive_records_public_list"


async def plan(server: Running, statement: Select[Any]) -> str:
    """The database's own plan for `statement` (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN)."""
    async with server.services.db.reading() as session:
        conn = await session.connection()
        compiled = statement.compile(dialect=conn.dialect)
        names = compiled.positiontup or []
        params = tuple(compiled.params[name] for name in names)
        prefix = "EXPLAIN QUERY PLAN " if server.backend == "sqlite" else "EXPLAIN "
        rows = (await conn.exec_driver_sql(prefix + str(compiled), params)).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def page_of(search: public.PublicSearch) -> Select[Any]:
    where = public.search_where(search)
    return public.newest_first(select(ArchiveRecord).where(*where)).limit(50).offset(0)


def count_of(search: public.PublicSearch) -> Select[Any]:
    return select(func.count(col(ArchiveRecord.id))).where(*public.search_where(search))


async def test_ten_thousand_resolutions(server: Running) -> None:
    rows = await insert_records(server, N, council_id=server.council_id)
    if server.backend == "postgres":
        async with server.services.db.reading() as session:
            await (await session.connection()).exec_driver_sql("ANALYZE archive_records")

    searches = {
        "": lambda r: True,
        "q=ngan+sach": lambda r: "ngan sach" in r["folded"],
        "q=Đầu+TƯ+2023": lambda r: "dau tu" in r["folded"] and "2023" in r["folded"],
        "number=123": lambda r: r["number"] == "123/NQ-HĐND",
        "date_from=2021-01-01&date_to=2021-06-30":
            lambda r: "2021-01-01" <= r["doc_date"].isoformat() <= "2021-06-30",
        f"council_id={server.council_id}&q=giao+duc": lambda r: "giao duc" in r["folded"],
        "q=nothing+like+this": lambda r: False,
    }  # fmt: skip
    timings: dict[str, float] = {}
    for query, keep in searches.items():
        expected = sorted((r for r in rows if keep(r)), key=lambda r: r["doc_date"], reverse=True)
        for offset in (0, 9_950):
            path = f"/api/public/resolutions?{query}&limit=50&offset={offset}"
            started = time.perf_counter()
            status, body, _ = await server.http("GET", path)
            timings[f"{query or '(all)'} @{offset}"] = took = time.perf_counter() - started
            assert status == 200, body
            assert body["total"] == len(expected), query
            got = [(e["date"], e["number"]) for e in body["resolutions"]]
            want = [(r["doc_date"].isoformat(), r["number"]) for r in expected]
            assert [d for d, _n in got] == [d for d, _n in want[offset : offset + 50]]
            assert took < BOUND_S, f"{path} took {took:.3f} s"
    if os.environ.get("QUORUM_PRINT_TIMINGS"):
        load = os.getloadavg()
        print(f"\n{server.backend}, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}:")
        for name, took in timings.items():
            print(f"  {took * 1000:7.1f} ms  {name}")

    # the plans: SQLite walks the index (covering for the count: the table is not read)
    words = public.PublicSearch(q="ngan sach")
    dates = public.PublicSearch(q="dau tu", date_from=rows[0]["doc_date"])
    for search in (public.PublicSearch(), words, dates, public.PublicSearch(number="12")):
        page, count = await plan(server, page_of(search)), await plan(server, count_of(search))
        assert INDEX in page, page
        if server.backend == "sqlite":
            assert "TEMP B-TREE" not in page, page  # ordered by the index, no sort
            assert f"COVERING INDEX {INDEX}" in count, count
        else:
            assert INDEX in count or "Index Only Scan" in count, count
    assert fold("Đầu TƯ") == "dau tu"
    assert len(WORDS) > 1
