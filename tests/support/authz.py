"""The authorisation table of docs/AUTHORIZATION.md: parsing it, and the app's own routes.

A table row is `| METHOD | /path | case | admin | secretary | chair | delegate | display |
outsider | anonymous |`; each role cell is the HTTP status the probe must get (2xx: allowed;
401/403/404: refused). Rows live under `## <section>` headings: `Core` and one per subsystem.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import Mount, Route

from meetings.config import Settings
from meetings.http.routes import annotations, archive, page_images
from meetings.http.routes import voting as voting_routes
from tests.support.world import ROLES, World

DOC = Path(__file__).resolve().parents[2] / "docs" / "AUTHORIZATION.md"
# page images are served beside the documents but belong to the annotations subsystem
SUBSYSTEMS = {
    "Polls": voting_routes.ROUTES,
    "Annotations": [*annotations.ROUTES, *page_images.ROUTES],
    "Archive": archive.ROUTES,
}
# where each subsystem's probes live (a module exporting PROBES, as authz_probes.py does)
PROBE_MODULES = {
    "Core": "tests.integration.platform.authz_probes",
    "Polls": "tests.integration.voting.authz_probes",
    "Annotations": "tests.integration.annotations.authz_probes",
    "Archive": "tests.integration.archive.authz_probes",
}
Key = tuple[str, str, str]  # method, path (as in OpenAPI: no converters), case


@dataclass
class Probe:
    """One request: a concrete path and what it sends; `token` overrides the role's token."""

    path: str
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    expect_json: bool = True


ProbeFactory = Callable[[World, str], Awaitable[Probe]]


@dataclass(frozen=True)
class Row:
    section: str
    method: str
    path: str
    case: str
    expected: dict[str, int]

    @property
    def key(self) -> Key:
        return (self.method, self.path, self.case)


_ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|")


def table_rows(text: str, row: re.Pattern[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, section, cells) of each line of `text` matching `row`."""
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            section = line[3:].strip()
        elif row.match(line):
            yield number, section, [x.strip().strip("`") for x in line.strip("| ").split("|")]


def parse_table(text: str | None = None) -> list[Row]:
    text = DOC.read_text(encoding="utf-8") if text is None else text
    rows: list[Row] = []
    for number, section, cells in table_rows(text, _ROW):
        if len(cells) != 3 + len(ROLES):
            raise AssertionError(f"docs/AUTHORIZATION.md line {number}: expected 10 columns")
        method, path, case, *statuses = cells
        try:
            expected = {role: int(s.split()[0]) for role, s in zip(ROLES, statuses, strict=True)}
        except (ValueError, IndexError):
            raise AssertionError(
                f"docs/AUTHORIZATION.md line {number}: a role cell is an HTTP status"
            ) from None
        rows.append(Row(section, method, path, case, expected))
    return rows


def plain(path: str) -> str:
    return re.sub(r"{(\w+):\w+}", r"{\1}", path)


async def app_routes(settings: Settings) -> set[tuple[str, str]]:
    """(method, path) of every route of the app as the composition root builds it."""
    from realtime.asgi import create_asgi_app  # the one place that sees every subsystem

    asgi = create_asgi_app(settings)
    await asgi.quorum_services.db.dispose()
    starlette = asgi.other_asgi_app
    out: set[tuple[str, str]] = set()
    for route in starlette.routes:
        if isinstance(route, Mount) or not isinstance(route, Route):
            continue  # the built frontend's static files
        if route.path == "/{path:path}":
            continue  # the single-page app's fallback (serves index.html to anyone)
        for method in route.methods or ():
            if method != "HEAD":
                out.add((method, plain(route.path)))
    return out


def section_of(method: str, path: str) -> str:
    for name, apis in SUBSYSTEMS.items():
        if any(api.method == method and plain(api.path) == path for api in apis):
            return name
    return "Core"
