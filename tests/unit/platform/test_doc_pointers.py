"""Every pointer to the docs names a doc and headings that exist (issue #15, "Docs you can trust").

A pointer is a Markdown file named in code (docstrings, comments, strings) or in the docs, maybe
followed by quoted section names: `docs/features/voting.md, "Secrecy"`, or several after one
file, or a Markdown link with an anchor. A section exists when a heading of that file, at any
level, has exactly that text; an anchor, when one of its headings has that GitHub slug. Docs may
live in folders under docs/, so paths are read as written, never shortened to a file name.

Where a named file is looked for: a Markdown link from its own folder (as a renderer does); any
other mention from the folder of the doc that says it, then the repository root, then docs/.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CODE = (
    "meetings/**/*.py",
    "realtime/**/*.py",
    "tests/**/*.py",
    "frontend/src/**/*.ts",
    "frontend/src/**/*.js",
    "frontend/src/**/*.svelte",
    "frontend/src/**/*.css",
)
DOCS = ("README.md", "docs/**/*.md")

SECTION = r'"([^"\s][^"]{0,200}?)"'
SECTIONS = rf"((?:\s*,\s*|\s*\(\s*|\s+){SECTION}(?:\s*,\s*{SECTION})*)?"
MENTION = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w-]+\.md)(?:#([\w-]+))?" + SECTIONS)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)" + SECTIONS)
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
# A comment that goes on over lines starts each of them with #, // or *: dropped so that a
# pointer wrapped over two comment lines reads as one.
COMMENT_LEAD = re.compile(r"^[ \t]*(?:#+|//+|\*(?!/))[ \t]?", re.MULTILINE)
FENCE = re.compile(r"^ {0,3}(```|~~~)")
ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


@dataclass(frozen=True)
class Pointer:
    """Where a pointer was written and what it names."""

    source: Path
    line: int
    path: str
    anchor: str | None
    sections: tuple[str, ...]
    is_link: bool

    def target(self) -> str:
        doc = self.path if self.anchor is None else f"{self.path}#{self.anchor}"
        return ", ".join([doc, *(f'"{s}"' for s in self.sections)])


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _blank(text: str, match: re.Match[str]) -> str:
    """The text with the match replaced by spaces, so that offsets and lines stay put."""
    gap = re.sub(r"[^\n]", " ", match.group(0))
    return text[: match.start()] + gap + text[match.end() :]


def _sections(tail: str | None) -> tuple[str, ...]:
    """The quoted section names after a file, each wrapped line joined back with one space."""
    return tuple(" ".join(s.split()) for s in re.findall(SECTION, tail or ""))


def links(source: Path, text: str) -> tuple[list[Pointer], str]:
    """Markdown links to files of the repository, and the text without them."""
    found = []
    for match in reversed(list(LINK.finditer(text))):
        target, tail = match.group(1), match.group(2)
        if not URL.match(target) and not target.startswith("mailto:"):
            path, _, anchor = target.partition("#")
            line = _line(text, match.start())
            found.append(Pointer(source, line, path, anchor or None, _sections(tail), True))
        text = _blank(text, match)
    return found[::-1], text


def mentions(source: Path, text: str) -> list[Pointer]:
    """Markdown files named in prose, with the sections quoted after them."""
    for match in reversed(list(URL.finditer(text))):
        text = _blank(text, match)
    found = []
    for match in MENTION.finditer(text):
        path, anchor, tail = match.group(1, 2, 3)
        line = _line(text, match.start())
        found.append(Pointer(source, line, path, anchor, _sections(tail), False))
    return found


def pointers_in(source: Path, text: str) -> list[Pointer]:
    """A doc's links are read first and blanked, so that their paths are not read again as prose;
    code is read with its comment leads dropped."""
    if source.suffix == ".md":
        found, text = links(source, text)
        return found + mentions(source, text)
    return mentions(source, COMMENT_LEAD.sub("", text))


@functools.cache
def headings(doc: Path) -> tuple[str, ...]:
    """The text of every heading of a Markdown file (ATX and setext), outside code blocks."""
    found, fenced, previous = [], False, ""
    for line in doc.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (atx := ATX.match(line)):
            found.append(atx.group(1))
        elif not fenced and SETEXT.match(line) and previous.strip() and "|" not in previous:
            found.append(previous.strip())
        previous = "" if fenced else line
    return tuple(" ".join(h.split()) for h in found)


def slugs(doc: Path) -> set[str]:
    """The anchors GitHub gives the headings of a doc (a repeated one gains -1, -2, ...)."""
    seen: dict[str, int] = {}
    for heading in headings(doc):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def resolve(root: Path, pointer: Pointer) -> Path | None:
    """The file a pointer names, or None when there is none."""
    here = pointer.source.parent
    if pointer.is_link and not pointer.path:
        return pointer.source
    if pointer.is_link:
        places = [here]
    elif pointer.source.suffix == ".md":
        places = [here, root, root / "docs"]
    else:
        places = [root, root / "docs"]
    return next((p / pointer.path for p in places if (p / pointer.path).exists()), None)


def problem(root: Path, pointer: Pointer) -> str | None:
    """What is wrong with a pointer, or None when everything it names exists."""
    doc = resolve(root, pointer)
    if doc is None:
        return "no such file"
    if pointer.anchor is not None and doc.suffix == ".md" and pointer.anchor not in slugs(doc):
        return "no heading has this anchor"
    missing = [s for s in pointer.sections if s not in headings(doc)]
    if missing:
        return "no heading " + ", ".join(f'"{s}"' for s in missing)
    return None


def sources(root: Path) -> list[Path]:
    """The files whose pointers are checked, minus this one: its examples name made-up docs."""
    files = {p for pattern in (*CODE, *DOCS) for p in root.glob(pattern)}
    files = {p for p in files if "node_modules" not in p.parts}
    return sorted(files - {Path(__file__).resolve()})


def broken(root: Path) -> list[str]:
    """Every pointer whose doc or section is missing, as `file:line -> target (why)`."""
    found = []
    for source in sources(root):
        for pointer in pointers_in(source, source.read_text(encoding="utf-8")):
            if why := problem(root, pointer):
                where = f"{source.relative_to(root)}:{pointer.line}"
                found.append(f"{where} -> {pointer.target()} ({why})")
    return found


def test_every_pointer_names_a_doc_and_headings_that_exist() -> None:
    found = broken(ROOT)
    assert not found, "pointers to docs or sections that do not exist:\n" + "\n".join(found)


def test_the_repository_has_pointers_of_every_kind() -> None:
    """Guards the scan itself: a pattern that matched nothing would let every pointer rot."""
    pointers = [p for s in sources(ROOT) for p in pointers_in(s, s.read_text(encoding="utf-8"))]
    assert any(p.sections and p.source.suffix == ".py" for p in pointers)
    assert any(p.sections and p.source.suffix == ".md" for p in pointers)
    assert any(p.is_link and p.anchor for p in pointers)


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


FEATURE_DOC = "# Voting\n\n## Casting\n\nText.\n\nTallying\n--------\n\n```\n# Not a heading\n```\n"


def test_pointers_into_a_folder_of_docs_are_checked_heading_by_heading(tmp_path: Path) -> None:
    code = (
        '"""Casting (docs/features/voting.md, "Casting", "Tallying"; docs/features/voting.md,\n'
        '"Not a heading")."""\n'
        "# see docs/features/voting.md,\n"
        '# "Casting", "Counting"\n'
        "# and docs/features/gone.md\n"
    )
    script = '/**\n * Ballots (docs/features/voting.md,\n * "Tallying", "Recount").\n */\n'
    _tree(tmp_path, {"docs/features/voting.md": FEATURE_DOC, "meetings/ballots.py": code})
    _tree(tmp_path, {"frontend/src/lib/ballot.ts": script})
    assert broken(tmp_path) == [
        'frontend/src/lib/ballot.ts:2 -> docs/features/voting.md, "Tallying", "Recount" '
        '(no heading "Recount")',
        'meetings/ballots.py:1 -> docs/features/voting.md, "Not a heading" '
        '(no heading "Not a heading")',
        'meetings/ballots.py:3 -> docs/features/voting.md, "Casting", "Counting" '
        '(no heading "Counting")',
        "meetings/ballots.py:5 -> docs/features/gone.md (no such file)",
    ]


def test_links_and_mentions_in_the_docs_are_read_from_where_they_stand(tmp_path: Path) -> None:
    doc = (
        "See [casting](features/voting.md#casting), [tally](features/voting.md#tallying),\n"
        "[x](voting.md#casting), [y](features/voting.md#counting), [z](#overview).\n"
        'Also features/voting.md, "Casting" and README.md, "Setup"; [rules](features/voting.md)\n'
        '("Counting").\n'
        "## Overview\n"
    )
    _tree(tmp_path, {"docs/features/voting.md": FEATURE_DOC, "docs/INDEX.md": doc})
    _tree(tmp_path, {"README.md": "# Quorum\n\n## Setup\n", "docs/features/x.md": "[v](voting.md)"})
    assert broken(tmp_path) == [
        "docs/INDEX.md:2 -> voting.md#casting (no such file)",
        "docs/INDEX.md:2 -> features/voting.md#counting (no heading has this anchor)",
        'docs/INDEX.md:3 -> features/voting.md, "Counting" (no heading "Counting")',
    ]
