"""Generates the command and event tables of docs/PROTOCOL.md from the code.

`uv run python -m realtime.protocol_doc` rewrites the part of docs/PROTOCOL.md between the
GENERATED markers; tests/integration/platform/test_protocol_doc.py fails when it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from realtime.commands import sitting
from realtime.events import EVENT_SCHEMAS

DOC = Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md"
BEGIN = "<!-- GENERATED: python -m realtime.protocol_doc -->"
END = "<!-- END GENERATED -->"


def _type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[1])
    if "anyOf" in schema:
        return " \\| ".join(_type(s, defs) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type(schema.get('items', {}), defs)}]"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    return str(schema.get("type", "any"))


def fields(model: type[BaseModel]) -> str:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    defs = schema.get("$defs", {})
    parts = []
    for name, prop in schema.get("properties", {}).items():
        mark = "" if name in required else "?"
        parts.append(f"`{name}{mark}`: {_type(prop, defs)}")
    return ", ".join(parts) or "—"


def generate() -> str:
    lines = [
        BEGIN,
        "",
        "### Commands",
        "",
        "| command | payload (`?` optional) | idempotency key | what it does |",
        "|---|---|---|---|",
    ]
    for command in sitting.COMMANDS:
        key = (
            "yes" if command.idempotent and "idempotency_key" in command.model.model_fields else "—"
        )
        lines.append(f"| `{command.name}` | {fields(command.model)} | {key} | {command.summary} |")
    lines += ["", "### Event types (`event.data`)", "", "| type | data | when |", "|---|---|---|"]
    for kind, (model, when) in EVENT_SCHEMAS.items():
        lines.append(f"| `{kind}` | {fields(model)} | {when} |")
    lines += ["", END]
    return "\n".join(lines)


def render(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + generate() + tail


def main() -> int:
    DOC.write_text(render(DOC.read_text()))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
