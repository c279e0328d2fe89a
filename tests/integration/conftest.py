"""Fixtures shared by the integration tests of several features (docs/TESTING.md, "Both
databases"): `world` and `fresh_world`, every role logged in (tests/support/world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Template
from tests.support.world import World, make_world, running_server


@pytest.fixture(scope="module")
async def world(
    template: Template, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """Every role logged in to one server per module and backend."""
    async with running_server(template, tmp_path_factory.mktemp("world")) as server:
        yield await make_world(server)


@pytest.fixture
async def fresh_world(template: Template, tmp_path: Path) -> AsyncIterator[World]:
    """A world of its own, for tests whose probes count members or participants."""
    async with running_server(template, tmp_path) as server:
        yield await make_world(server)
