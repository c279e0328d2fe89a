"""What a browser downloads from frontend/dist on a first load (docs/WEBAPP.md, "The tests").

Read from the build output, not guessed:
- index.html's scripts and `modulepreload` links (the start-up script, SvelteKit's `start` and
  `app` entries, the root layout's chunks);
- the route's page node: `app.js` maps each route id to its node numbers
  (`{"/":[2],"/login":[3],…}`) and imports `nodes/<n>.<hash>.js` on demand;
- everything those files import statically (`import … from"./x.js"`, `import"./x.js"`),
  transitively. Dynamic `import()`s are left out: they load later (the other routes, the reader).
The root layout and the root error page (nodes 0 and 1) are loaded at every start.
tests/e2e/test_login.py checks that this is exactly what chromium fetches. Sizes are gzip
level 6, what a compressing reverse proxy sends.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
IMMUTABLE = "/_app/immutable/"

STATIC_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}/[^"']+\.js)["']""")
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["']([^"']+\.js)["']\s*\)""")
MAPPED_DEP = re.compile(r'"(/_app/immutable/[^"]+\.(?:js|css))"')
ROUTE_TABLE = re.compile(r'\{"/"\s*:\s*\[[^{}]*\}')
NODE_FILE = re.compile(r"""import\(["']\.\./nodes/(\d+)\.[^"']+\.js["']\)""")


def index_refs(html: str) -> list[str]:
    """URL paths of the scripts and preloaded modules index.html names."""
    refs = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    refs += re.findall(r'<link[^>]*\bhref="([^"]+\.js)"[^>]*rel="modulepreload"', html)
    refs += re.findall(r'<link[^>]*rel="modulepreload"[^>]*\bhref="([^"]+\.js)"', html)
    return sorted(set(refs))


def stylesheet_refs(html: str) -> list[str]:
    return re.findall(r'<link[^>]*\bhref="([^"]+\.css)"', html)


def file_of(url_path: str, dist: Path = DIST) -> Path:
    return dist / url_path.lstrip("/")


def url_of(path: Path, dist: Path = DIST) -> str:
    return "/" + path.relative_to(dist).as_posix()


def static_imports(path: Path) -> set[Path]:
    text = path.read_text("utf-8")
    return {(path.parent / ref).resolve() for ref in STATIC_IMPORT.findall(text)}


def all_references(path: Path, dist: Path = DIST) -> set[Path]:
    """Every file a JS file may load: static and dynamic imports and Vite's preload lists."""
    text = path.read_text("utf-8")
    refs = {(path.parent / ref).resolve() for ref in STATIC_IMPORT.findall(text)}
    for ref in DYNAMIC_IMPORT.findall(text):
        refs.add(file_of(ref, dist) if ref.startswith("/") else (path.parent / ref).resolve())
    refs |= {file_of(ref, dist) for ref in MAPPED_DEP.findall(text)}
    return refs


def closure(start: set[Path]) -> set[Path]:
    seen: set[Path] = set()
    todo = [p.resolve() for p in start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix == ".js" and path.is_file():
            todo.extend(static_imports(path) - seen)
    return seen


def route_nodes(dist: Path = DIST) -> tuple[dict[str, list[int]], dict[int, Path]]:
    """SvelteKit's route table (route id → node numbers) and each node's file."""
    apps = list((dist / "_app" / "immutable" / "entry").glob("app.*.js"))
    assert len(apps) == 1, f"expected one app entry, found {apps}"
    text = apps[0].read_text("utf-8")
    table = ROUTE_TABLE.search(text)
    assert table, "the route table was not found in app.js"
    routes = {k: [int(n) for n in v if isinstance(n, int)] for k, v in json.loads(table[0]).items()}
    nodes = {}
    for number in NODE_FILE.findall(text):
        found = list((dist / "_app" / "immutable" / "nodes").glob(f"{number}.*.js"))
        assert len(found) == 1, f"node {number}: {found}"
        nodes[int(number)] = found[0].resolve()
    return routes, nodes


def first_load(route_ids: list[str], dist: Path = DIST) -> set[Path]:
    """The JS files a browser needs to show these routes, starting from index.html."""
    html = (dist / "index.html").read_text("utf-8")
    start = {file_of(ref, dist) for ref in index_refs(html)}
    for boot in list(start):
        text = boot.read_text("utf-8")
        start |= {file_of(ref, dist) for ref in DYNAMIC_IMPORT.findall(text)
                  if ref.startswith(IMMUTABLE)}
    routes, nodes = route_nodes(dist)
    start |= {nodes[0], nodes[1]}  # the root layout and error page, loaded at every start
    for route in route_ids:
        start |= {nodes[n] for n in routes[route]}
    return {p for p in closure(start) if p.suffix == ".js"}


def gzipped_size(paths: set[Path]) -> int:
    return sum(len(gzip.compress(p.read_bytes(), compresslevel=6)) for p in paths)
