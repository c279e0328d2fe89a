"""`column IN (a list)` with ONE SQL text whatever the list's length (docs/ARCHITECTURE.md,
"Storage").

SQLAlchemy's `in_` with a list renders a new SQL text at every execution (one placeholder per
element), so the statements that run most under a province's load, the ballot batch's reads and
the vote progress, each cost a rendering of their text in Python, then SQLite prepares that text
anew (its statement cache is keyed by the text) and PostgreSQL's driver prepares it anew too
(asyncpg's cache as well). Profiled, the rendering alone was 3 % of a worker's CPU in the
province benchmark. Here the list is one parameter: on SQLite a JSON array read with
`json_each`, on PostgreSQL an array compared with `= ANY`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Integer, String, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine


class JsonList(TypeDecorator[list[Any]]):
    """A list bound as its JSON text (SQLite's `json_each` reads it)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value), separators=(",", ":"))


def in_list(
    column: Any, name: str, dialect: str, item: type[TypeEngine[Any]] = Integer
) -> ColumnElement[bool]:
    """`column` is one of the values of the list bound as `name` (pass a Python list of ints,
    or of strings with `item=String`) in statements for `dialect` ("sqlite" or "postgresql")."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item)))  # type: ignore[no-any-return]
    values: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam(name, type_=JsonList()))
    )
    return column.in_(values)  # type: ignore[no-any-return]
