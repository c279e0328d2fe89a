"""Schema migrations with Alembic (docs/OPERATIONS.md, "Database").

`quorum db upgrade` brings a database to the newest schema. The server checks the schema at
start-up and refuses to run on an unmigrated database or one migrated by a newer Quorum.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this version of Quorum expects."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def upgrade(url: str, revision: str = "head") -> None:
    """Blocking (runs its own event loop): call from the CLI or a worker thread."""
    command.upgrade(alembic_config(url), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        has_table = await conn.run_sync(lambda c: inspect(c).has_table("alembic_version"))
        if not has_table:
            return None
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


async def check_schema(engine: AsyncEngine) -> None:
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaMismatch("the database has no Quorum schema yet: run `quorum db upgrade` first")
    if current not in known_revisions():
        raise SchemaMismatch(
            f"the database was migrated by a newer Quorum (revision {current}); "
            "upgrade Quorum, or restore a backup made for this version"
        )
    raise SchemaMismatch(
        f"the database schema is at {current}, this Quorum needs {head}: run `quorum db upgrade`"
    )
