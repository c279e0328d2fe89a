"""docs/PROTOCOL.md is current: generated tables match the code; every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.commands import annotations as annotation_commands
from realtime.commands import sitting
from realtime.commands import voting as voting_commands
from realtime.events import EVENT_SCHEMAS
from realtime.protocol_doc import DOC, render

DOCS = Path(DOC).parent


def test_generated_tables_are_current() -> None:
    text = DOC.read_text()
    assert render(text) == text, "run: uv run python -m realtime.protocol_doc"


def test_every_command_and_event_is_documented() -> None:
    text = DOC.read_text()
    for command in sitting.COMMANDS:
        assert f"`{command.name}`" in text
    for kind in EVENT_SCHEMAS:
        assert f"`{kind}`" in text
    others = {
        "VOTING.md": voting_commands.COMMANDS,
        "ANNOTATIONS.md": annotation_commands.COMMANDS,
    }
    missing = []
    for name, commands in others.items():
        for command in commands:
            where = [DOC, DOCS / name]
            if not (DOCS / name).exists() and command.name not in text:
                missing.append(f"{name} (not written yet): {command.name}")
                continue
            assert any(p.exists() and command.name in p.read_text() for p in where), command.name
    if missing:  # the owning subsystem documents its commands; flag until it has
        pytest.xfail("; ".join(missing[:5]))
