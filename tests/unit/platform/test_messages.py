"""The web app's words (docs/WEBAPP.md, "Adding a message").

- Each feature's catalogue (frontend/messages/<feature>/{vi,en}.json) has the same keys in both
  languages, none empty, each prefixed with its feature, with the same {placeholders}.
- Every `m.key(` used under frontend/src exists.
- No component says something of its own: the markup of every .svelte file under frontend/src,
  once its <script>, <style>, comments and {…} expressions are taken out, has no letters left
  (punctuation, digits and symbols such as "—" or "■" are allowed); attributes people read
  (aria-label, title, placeholder, alt …) are given by an expression, not written out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[3] / "frontend"
MESSAGES = FRONTEND / "messages"
SRC = FRONTEND / "src"
LOCALES = ("vi", "en")
PLACEHOLDER = re.compile(r"\{\s*(\w+)\s*\}")
READ_ATTRIBUTES = ("aria-label", "aria-description", "aria-roledescription", "aria-valuetext",
                   "title", "placeholder", "alt", "label")
LETTER = re.compile(r"[^\W\d_]")


def features() -> list[str]:
    return sorted(p.name for p in MESSAGES.iterdir() if p.is_dir())


def catalogue(feature: str, locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((MESSAGES / feature / f"{locale}.json").read_text("utf-8"))
    data.pop("$schema", None)
    return data


def components() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.svelte") if "paraglide" not in p.parts)


def test_features_are_the_compiled_ones() -> None:
    settings = json.loads((FRONTEND / "project.inlang" / "settings.json").read_text("utf-8"))
    patterns = settings["plugin.inlang.messageFormat"]["pathPattern"]
    listed = sorted(re.sub(r"^\./messages/([^/]+)/\{locale\}\.json$", r"\1", p) for p in patterns)
    assert listed == features()
    assert settings["baseLocale"] == "vi" and sorted(settings["locales"]) == sorted(LOCALES)


@pytest.mark.parametrize("feature", features())
def test_both_languages_say_everything(feature: str) -> None:
    vi, en = (catalogue(feature, locale) for locale in LOCALES)
    assert sorted(set(vi) - set(en)) == [], f"{feature}: only in vi.json"
    assert sorted(set(en) - set(vi)) == [], f"{feature}: only in en.json"
    for key in vi:
        assert key.startswith(f"{feature}_"), f"{feature}/{key}: prefix the key with {feature}_"
        for locale, text in (("vi", vi[key]), ("en", en[key])):
            assert isinstance(text, str) and text.strip(), f"{feature}/{locale}.json: {key} empty"
        assert set(PLACEHOLDER.findall(vi[key])) == set(PLACEHOLDER.findall(en[key])), (
            f"{feature}/{key}: the placeholders differ between vi and en"
        )


def without_comments(code: str) -> str:
    code = re.sub(r"/\*.*?\*/|<!--.*?-->", " ", code, flags=re.S)
    return re.sub(r"(?<![:'\"])//[^\n]*", " ", code)


def test_every_message_used_exists() -> None:
    known = {key for feature in features() for key in catalogue(feature, "vi")}
    used: dict[str, set[str]] = {}
    for path in [*components(), *SRC.rglob("*.ts")]:
        if "paraglide" in path.parts:
            continue
        for key in re.findall(r"\bm\.(\w+)\b", without_comments(path.read_text("utf-8"))):
            used.setdefault(key, set()).add(str(path.relative_to(FRONTEND)))
    missing = {key: sorted(files) for key, files in used.items() if key not in known}
    assert not missing, f"messages used but not in any catalogue: {missing}"


def strip_expressions(markup: str) -> str:
    """`markup` with each top-level {…} (Svelte expressions and blocks) taken out, braces inside
    the expression's strings and template literals included."""
    out: list[str] = []
    depth = 0
    quote = ""
    i = 0
    while i < len(markup):
        ch = markup[i]
        if depth == 0:
            if ch == "{":
                depth = 1
                out.append(" ")
            else:
                out.append(ch)
        elif quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    return "".join(out)


def hard_coded(source: str) -> list[str]:
    """Words written into a component's markup instead of coming from the catalogue."""
    markup = re.sub(r"<script\b.*?</script>", " ", source, flags=re.S)
    markup = re.sub(r"<style\b.*?</style>", " ", markup, flags=re.S)
    markup = re.sub(r"<!--.*?-->", " ", markup, flags=re.S)
    markup = strip_expressions(markup)
    found = []
    for tag in re.findall(r"<[^>]*>", markup):
        for name, value in re.findall(r'\s([\w:-]+)\s*=\s*"([^"]*)"', tag):
            if name in READ_ATTRIBUTES and LETTER.search(value):
                found.append(f'{name}="{value}"')
    text = re.sub(r"<[^>]*>", "\n", markup)
    found += [line.strip() for line in text.splitlines() if LETTER.search(line)]
    return found


def test_hard_coded_words_are_found() -> None:
    """The check itself: it finds text and read attributes, and lets expressions through."""
    assert hard_coded("<p>Hello</p>") == ["Hello"]
    assert hard_coded('<button aria-label="Close">×</button>') == ['aria-label="Close"']
    assert hard_coded("<h1>{m.x()}</h1><p>{a ? '}' : `{b}`} — 3</p>") == []
    assert hard_coded("{#if a}<b>{m.y({ n: 1 })}</b>{:else}<i>Nope</i>{/if}") == ["Nope"]
    assert hard_coded('<span class="x" aria-hidden="true">■ </span><!-- note -->') == []
    assert hard_coded("<script>const s = 'words';</script><style>p { color: red }</style>") == []


def test_no_component_has_words_of_its_own() -> None:
    offenders = {}
    for path in components():
        found = hard_coded(path.read_text("utf-8"))
        if found:
            offenders[str(path.relative_to(FRONTEND))] = found
    assert not offenders, f"words written into components (use messages): {offenders}"
