"""QUORUM_DATABASE_URL in the spellings operators write (README.md, "Configuration"):
`sqlite:///…`, `postgresql://…` and `postgres://…` work as the async drivers' URLs do; anything
else stops the command with one line saying what to write, not a SQLAlchemy traceback."""

from __future__ import annotations

from pathlib import Path

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
