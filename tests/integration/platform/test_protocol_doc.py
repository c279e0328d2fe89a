"""The protocol docs are current: the generated tables of docs/PROTOCOL.md and of each feature's
doc match the code; every command and every event of the catalogue is in its doc's table."""

from __future__ import annotations

import pytest

from meetings.services.events import CATALOGUE, FEATURES
from realtime.protocol_doc import BEGIN, END, FEATURE_DOCS, FeatureDoc, render


@pytest.mark.parametrize("doc", FEATURE_DOCS, ids=lambda d: d.path.name)
def test_generated_tables_are_current(doc: FeatureDoc) -> None:
    text = doc.path.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1, doc.path.name
    assert render(text, doc) == text, "run: uv run python -m realtime.protocol_doc"


def test_every_command_and_event_is_in_its_doc() -> None:
    documented = [feature for doc in FEATURE_DOCS for feature in doc.features]
    assert sorted(documented) == sorted(FEATURES)  # each feature has one home
    for doc in FEATURE_DOCS:
        generated = doc.path.read_text().split(BEGIN, 1)[1].split(END, 1)[0]
        for command in doc.commands:
            assert f"| `{command.name}` |" in generated, (doc.path.name, command.name)
        for model in doc.events():
            assert f"| `{model.TYPE}` |" in generated, (doc.path.name, model.TYPE)


def test_every_event_type_has_one_model() -> None:
    models = [model for models in FEATURES.values() for model in models]
    assert len({m.TYPE for m in models}) == len(models) == len(CATALOGUE)
