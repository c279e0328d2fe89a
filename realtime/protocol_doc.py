"""Generates the command and event tables of the protocol docs from the code.

`uv run python -m realtime.protocol_doc` rewrites, in docs/PROTOCOL.md (the sitting and the
documents) and in each feature's page (docs/features/voting.md, docs/features/annotations.md,
docs/features/archive.md), the part between the GENERATED markers: the feature's Socket.IO
commands (`realtime/commands/`), its stored and user events (the catalogue,
`meetings/services/events.py`) and the shapes nested in them.
tests/integration/platform/test_protocol_doc.py fails when one is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from meetings.domain.events import EventData, MeetingEventData
from meetings.services.events import FEATURES
from realtime.commands import annotations as annotation_commands
from realtime.commands import sitting
from realtime.commands import voting as voting_commands
from realtime.protocol import SocketCommand

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOC = DOCS / "PROTOCOL.md"
BEGIN = "<!-- GENERATED: python -m realtime.protocol_doc -->"
END = "<!-- END GENERATED -->"


@dataclass(frozen=True)
class FeatureDoc:
    """One doc's generated part: the commands and the catalogue features it documents."""

    path: Path
    commands: tuple[SocketCommand, ...]
    features: tuple[str, ...]

    def events(self) -> list[type[EventData]]:
        return [model for feature in self.features for model in FEATURES[feature]]


FEATURE_DOCS = (
    FeatureDoc(DOC, tuple(sitting.COMMANDS), ("sitting", "documents")),
    FeatureDoc(DOCS / "features/voting.md", tuple(voting_commands.COMMANDS), ("voting",)),
    FeatureDoc(
        DOCS / "features/annotations.md",
        tuple(annotation_commands.COMMANDS), ("annotations",),
    ),
    FeatureDoc(DOCS / "features/archive.md", (), ("archive",)),
)


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[1])
    if "anyOf" in schema:
        return " \\| ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type(schema.get('items', {}))}]"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    return str(schema.get("type", "any"))


def _fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    parts = []
    for name, prop in schema.get("properties", {}).items():
        mark = "" if name in required else "?"
        parts.append(f"`{name}{mark}`: {_type(prop)}")
    return ", ".join(parts) or "—"


def fields(model: type[BaseModel]) -> str:
    """A model's fields as the tables show them (`?`: optional, absent when not given)."""
    return _fields(model.model_json_schema())


def _commands(commands: tuple[SocketCommand, ...]) -> list[str]:
    """The commands table; an ack column when a command says what its ack carries."""
    acks = any(command.ack for command in commands)
    head = "| command | payload (`?` optional) | idempotency key | what it does |"
    lines = ["### Commands", "", head + (" ack (besides `ok`) |" if acks else "")]
    lines.append("|---|---|---|---|" + ("---|" if acks else ""))
    for command in commands:
        key = (
            "yes" if command.idempotent and "idempotency_key" in command.model.model_fields else "—"
        )
        row = f"| `{command.name}` | {fields(command.model)} | {key} | {command.summary} |"
        lines.append(row + (f" {command.ack or '—'} |" if acks else ""))
    return [*lines, ""]


def _events(title: str, models: Sequence[type[EventData]]) -> list[str]:
    lines = [title, "", "| type | data | when |", "|---|---|---|"]
    lines += [f"| `{m.TYPE}` | {fields(m)} | {m.WHEN} |" for m in models]
    return [*lines, ""]


def _shapes(models: Sequence[type[EventData]]) -> list[str]:
    """The objects nested in the events' data (named in the tables above), once each."""
    shapes: dict[str, dict[str, Any]] = {}
    for model in models:
        shapes.update(model.model_json_schema().get("$defs", {}))
    lines = ["### Shapes in event data", "", "| shape | fields |", "|---|---|"]
    lines += [f"| {name} | {_fields(schema)} |" for name, schema in sorted(shapes.items())]
    return [*lines, ""] if shapes else []


def generate(doc: FeatureDoc) -> str:
    models = doc.events()
    stored = [m for m in models if issubclass(m, MeetingEventData)]
    user = [m for m in models if not issubclass(m, MeetingEventData)]
    lines = [BEGIN, ""]
    if doc.commands:
        lines += _commands(doc.commands)
    lines += _events("### Event types (`event.data`)", stored)
    if user:
        lines += _events("### User events (`user_event` data)", user)
    lines += _shapes(models)
    return "\n".join([*lines, END])


def render(text: str, doc: FeatureDoc) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + generate(doc) + tail


def main() -> int:
    for doc in FEATURE_DOCS:
        doc.path.write_text(render(doc.path.read_text(), doc))
        print(f"wrote {doc.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
