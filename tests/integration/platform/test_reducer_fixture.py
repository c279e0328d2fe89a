"""The web app's reducer fixture (frontend/src/lib/realtime/fixtures/sitting.json) is current,
and Python's reference reducers agree with a fresh snapshot (polls and ballots included) and a
fresh annotation sync over the same scripted sitting.

The TypeScript side (`reducer.fixture.test.ts`) replays the same file through `applyEvent`.
Regenerate with `uv run python -m tests.support.reducer_fixture` when the server's events or
snapshot change on purpose.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.reducer_fixture import (
    FIXTURE,
    comparable,
    disagreements,
    generate,
    mask_times,
    python_replay,
)


def committed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_committed_fixture_is_consistent() -> None:
    viewers = committed()["viewers"]
    assert set(viewers) == {"chair", "delegate001"}
    assert not disagreements(viewers)
    for viewer in viewers.values():
        kinds = {step["event"]["type"] for step in viewer["steps"] if "event" in step}
        assert kinds >= {
            "attendance_changed", "participant_removed", "participant_added", "meeting_updated",
            "agenda_changed", "meeting_status_changed", "current_item_changed",
            "speakers_changed", "document_added", "document_version_added",
            "document_updated", "document_removed", "poll_created", "poll_opened",
            "poll_closed", "poll_published", "poll_cancelled", "annotation_shared",
            "annotation_unshared",
        }
        assert comparable(viewer["after"])["seq"] == viewer["after"]["meeting"]["seq"]
        # the reference reducer today, not only as it was when the file was recorded
        replayed = comparable(python_replay(viewer["before"], viewer["steps"]))
        assert replayed == comparable(viewer["after"])
    delegate = viewers["delegate001"]["annotations"]
    assert {e["type"] for e in delegate["user_events"]} == {
        "annotation_changed", "annotations_carried",
    }
    assert delegate["after"]["annotations"], "the store to converge on is not empty"


@pytest.mark.slow
async def test_fixture_is_current_and_apply_event_agrees() -> None:
    fresh = await generate()  # raises when apply_event disagrees with the fresh snapshot
    stale = mask_times(committed()) != mask_times(fresh)
    assert not stale, (
        "frontend/src/lib/realtime/fixtures/sitting.json is stale: "
        "run `uv run python -m tests.support.reducer_fixture` and commit it"
    )
