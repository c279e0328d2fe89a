"""Worker signals in one process (`realtime.manager.DirectEmitManager.signal`); across
workers through Redis: tests/integration/platform/test_scaleout.py."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from realtime.manager import DirectEmitManager


async def test_a_signal_runs_its_handler_sync_or_async() -> None:
    manager = DirectEmitManager()
    got: list[Any] = []

    async def later(data: Any) -> None:
        got.append(("async", data))

    manager.on_signal("now", lambda data: got.append(("sync", data)))
    manager.on_signal("later", later)
    await manager.signal("now", 7)
    await manager.signal("later", {"poll_id": 3})
    await manager.signal("nobody-listens", 1)  # ignored
    assert got == [("sync", 7), ("async", {"poll_id": 3})]


async def test_a_failing_handler_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    manager = DirectEmitManager()

    def broken(_data: Any) -> None:
        raise ValueError("boom")

    manager.on_signal("x", broken)
    with caplog.at_level(logging.ERROR, logger="quorum.fanout"):
        await manager.signal("x", None)
    assert "signal x failed" in caplog.text
