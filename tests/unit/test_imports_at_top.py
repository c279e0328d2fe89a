"""No import hides inside a function (issue #15, "One home per feature").

Imports inside functions were how modules dodged import cycles; with the cycles gone (the
import-linter contracts in pyproject.toml keep them gone) every import of `meetings` and
`realtime` is at module level, where the contracts see it. The CLI (`meetings/cli*.py`) may
import lazily for its start-up time; an optional dependency is imported at module level in a
`try` (docs/ARCHITECTURE.md, "Imports").
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAZY_ALLOWED = ("meetings/cli.py", "meetings/cli_archive.py")


def function_level_imports(source: str) -> list[tuple[str, int]]:
    """(function name, line) of every import statement inside a function or lambda."""
    found = []
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            name = getattr(fn, "name", "<lambda>")
            found += [
                (name, node.lineno)
                for node in ast.walk(fn)
                if isinstance(node, ast.Import | ast.ImportFrom)
            ]
    return found


def test_the_scan_finds_an_import_in_a_function() -> None:
    source = "import os\n\nasync def f():\n    if os:\n        from a import b\n    return b\n"
    assert function_level_imports(source) == [("f", 5)]


def test_no_function_level_import_outside_the_cli() -> None:
    found = []
    for path in sorted([*ROOT.glob("meetings/**/*.py"), *ROOT.glob("realtime/**/*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name in LAZY_ALLOWED:
            continue
        found += [f"{name}:{line} in {fn}" for fn, line in function_level_imports(path.read_text())]
    assert found == [], "imports inside functions (move them to the top of the module)"
