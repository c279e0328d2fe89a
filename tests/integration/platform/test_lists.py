"""`in_list` (meetings/storage/lists.py): a list parameter with one SQL text whatever its
length, on SQLite (`json_each`) and PostgreSQL (`= ANY`), answering as `IN (...)` does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, select
from sqlmodel import col

from meetings.storage.lists import in_list
from meetings.storage.tables import User
from tests.conftest import Running


async def test_a_list_of_any_length_is_one_statement_with_the_answers_of_in(
    server: Running,
) -> None:
    db = server.services.db
    executed: list[str] = []

    def trace(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        executed.append(statement)

    engine = db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", trace)
    try:
        async with db.reading() as session:
            dialect = session.get_bind().dialect.name
            users = (await session.execute(select(col(User.id), col(User.username)))).all()
            ids = sorted(int(u[0]) for u in users)
            by_id = select(col(User.id)).where(in_list(col(User.id), "ids", dialect))
            executed.clear()
            for chosen in ([], ids[:1], ids[:3], ids[::2], ids, [*ids, 10**9]):
                got = (await session.execute(by_id, {"ids": chosen})).scalars().all()
                assert sorted(got) == [i for i in ids if i in chosen]
            assert len(executed) == 6 and len(set(executed)) == 1

            names = [str(u[1]) for u in users[:2]]
            by_name = select(col(User.username)).where(
                in_list(col(User.username), "names", dialect, String)
            )
            odd = ["Nguyễn Thị Ánh", "o'brien", '"quoted"', "[1,2]", ""]
            got = (await session.execute(by_name, {"names": [*names, *odd]})).scalars().all()
            assert sorted(got) == sorted(names)
    finally:
        event.remove(engine, "before_cursor_execute", trace)
