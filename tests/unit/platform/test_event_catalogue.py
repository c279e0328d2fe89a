"""The event catalogue keeps the wire format: every payload the services emitted before the
models existed (emitted_events.json) comes out of its model byte for byte, keys in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from meetings.domain.events import MeetingEventData, UserEventData
from meetings.services.documents.events import DocumentAdded
from meetings.services.events import CATALOGUE
from meetings.services.sitting.events import MeetingStatusChanged

SAMPLES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "emitted_events.json").read_text(encoding="utf-8")
)["events"]


def exact(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s["type"])
def test_each_emitted_payload_round_trips(sample: dict[str, Any]) -> None:
    model = CATALOGUE[sample["type"]]
    audience = MeetingEventData if sample["audience"] == "meeting" else UserEventData
    assert issubclass(model, audience)
    assert exact(model.model_validate(sample["data"]).wire()) == exact(sample["data"])


def test_every_event_type_has_a_sample() -> None:
    assert {s["type"] for s in SAMPLES} == set(CATALOGUE)


def test_an_optional_field_not_given_stays_absent() -> None:
    """A restricted document is only named: no `document: null` on the wire."""
    assert DocumentAdded(document_id=3, restricted=True).wire() == {
        "document_id": 3,
        "restricted": True,
    }


def test_a_field_the_model_does_not_name_is_refused() -> None:
    with pytest.raises(ValidationError):
        MeetingStatusChanged.model_validate(
            {"status": "open", "opened_at": None, "closed_at": None, "extra": 1}
        )
