"""Walk docs/AUTHORIZATION.md: every route of the app × every role, against a real server.

Nothing unlisted: a route the app serves that the table lacks fails (naming the route and its
section), as does a row naming a route the app does not serve or a row without a probe.
Set QUORUM_AUTHZ_PRINT=1 to print the observed table (to draft rows for a new route).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path

import pytest

from meetings.config import Settings
from tests.support.authz import (
    PROBE_MODULES,
    SUBSYSTEMS,
    Key,
    ProbeFactory,
    Row,
    app_routes,
    parse_table,
    section_of,
)
from tests.support.world import ROLES, World

SECTIONS = ["Core", *SUBSYSTEMS]


def _probes(section: str) -> dict[Key, ProbeFactory]:
    try:
        module = importlib.import_module(PROBE_MODULES[section])
    except ModuleNotFoundError:
        return {}
    probes: dict[Key, ProbeFactory] = module.PROBES
    return probes


def _coverage(settings: Settings, section: str) -> list[Row]:
    rows = [r for r in parse_table() if r.section == section]
    mine = {r for r in asyncio.run(app_routes(settings)) if section_of(*r) == section}
    listed = {(r.method, r.path) for r in rows}
    problems = [
        f"{m} {p} is served but not listed in docs/AUTHORIZATION.md under '## {section}'"
        for m, p in sorted(mine - listed)
    ]
    problems += [
        f"{m} {p} is listed under '## {section}' but the app does not serve it"
        for m, p in sorted(listed - mine)
    ]
    probes = _probes(section)
    problems += [
        f"no probe for {r.method} {r.path} {r.case!r} in {PROBE_MODULES[section]}.PROBES"
        for r in rows
        if r.key not in probes
    ]
    assert not problems, "\n".join(problems)
    return rows


async def _walk(world: World, rows: list[Row], section: str) -> None:
    probes = _probes(section)
    wrong: list[str] = []
    observed: list[str] = []
    for row in rows:
        got: dict[str, int] = {}
        for role in ROLES:
            probe = await probes[row.key](world, role)
            token = probe.token if probe.token is not None else world.tokens[role]
            kwargs: dict[str, object] = {"headers": probe.headers}
            if probe.json is not None:
                kwargs["json"] = probe.json
            if probe.data is not None:
                kwargs["data"] = probe.data
            status, body, _ = await world.server.http(row.method, probe.path, token=token, **kwargs)
            got[role] = status
            if status >= 500:
                wrong.append(f"{row.method} {probe.path} as {role}: {status} {body!r:.200}")
            elif status != row.expected[role]:
                wrong.append(
                    f"{row.method} {row.path} {row.case!r} as {role}: expected "
                    f"{row.expected[role]}, got {status} {body!r:.200}"
                )
            elif status >= 400:
                assert isinstance(body, dict) and "code" in body.get("error", {}), body
        observed.append(
            f"| {row.method} | `{row.path}` | {row.case} | "
            + " | ".join(str(got[r]) for r in ROLES)
            + " |"
        )
    if os.environ.get("QUORUM_AUTHZ_PRINT"):
        print("\n".join(observed))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("section", SECTIONS)
def test_nothing_unlisted(section: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="test").prepare()
    _coverage(settings, section)


# a walk per section that has rows (a section still empty has nothing to walk)
WALKED = [s for s in SECTIONS if any(r.section == s for r in parse_table())]


@pytest.mark.parametrize("section", WALKED)
async def test_every_route_for_every_role(fresh_world: World, section: str) -> None:
    await _walk(fresh_world, [r for r in parse_table() if r.section == section], section)


async def test_table_parses_and_has_no_duplicates() -> None:
    rows = parse_table()
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)), "a (method, path, case) appears twice"
    assert {r.section for r in rows} <= set(SECTIONS)
    for row in rows:
        for role, status in row.expected.items():
            assert 200 <= status < 300 or status in (401, 403, 404, 409), (row, role)
        assert row.expected["anonymous"] in (200, 401), row
