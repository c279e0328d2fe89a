"""After-commit handlers: run per signal type in order, report merged, failures skipped
(docs/ARCHITECTURE.md, "After commit")."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from meetings.domain.signals import BallotsCounted, VersionStored
from meetings.storage.after_commit import AfterCommit

STORED = VersionStored(document_id=1, version_id=2, number=2, sha256="ab" * 32)


async def test_handlers_of_the_signals_type_run_in_order_and_their_reports_merge() -> None:
    registry = AfterCommit()
    seen: list[str] = []

    async def first(signal: VersionStored) -> None:
        seen.append(f"first {signal.version_id}")

    async def second(signal: VersionStored) -> dict[str, Any]:
        seen.append("second")
        return {"annotations": {"carried": 0}}

    async def other(signal: BallotsCounted) -> dict[str, Any]:
        seen.append("ballots")
        return {"unexpected": True}

    registry.on(VersionStored, first)
    registry.on(VersionStored, second)
    registry.on(BallotsCounted, other)
    assert await registry.run([STORED]) == {"annotations": {"carried": 0}}
    assert seen == ["first 2", "second"]


async def test_a_failing_handler_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = AfterCommit()

    async def broken(signal: VersionStored) -> None:
        raise RuntimeError("renderer away")

    async def carry(signal: VersionStored) -> dict[str, Any]:
        return {"annotations": {"carried": 3}}

    registry.on(VersionStored, broken)
    registry.on(VersionStored, carry)
    with caplog.at_level(logging.ERROR, logger="meetings.storage.after_commit"):
        assert await registry.run([STORED]) == {"annotations": {"carried": 3}}
    assert "renderer away" in caplog.text


async def test_a_signal_nobody_handles_reports_nothing() -> None:
    assert await AfterCommit().run([BallotsCounted((7,))]) == {}
