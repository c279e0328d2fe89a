"""`quorum serve` serving the built web app (docs/WEBAPP.md, "Structure").

Over the real frontend/dist that `make test` builds before pytest: pages fall back to
index.html under the CSP, hashed files are cached for good, unknown API paths stay JSON, every
file the bundles name exists, the service worker precaches the app shell and nothing else, and
the first load stays within the JavaScript budget.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import Running, need
from tests.support.bundles import (
    DIST,
    all_references,
    file_of,
    first_load,
    gzipped_size,
    index_refs,
    route_nodes,
    stylesheet_refs,
    url_of,
)

BUDGET = 150 * 1024  # JavaScript of a first load, gzipped (issue 11, "Performance")
PAGES = ["/", "/login", "/login?expired=1", "/m/1", "/m/1/chair", "/m/1/display", "/no/such/page"]

# serving does not depend on the database: one backend is enough
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def built() -> None:
    need("The built web app (frontend/dist)", (DIST / "index.html").is_file(), "run make frontend")


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@SQLITE
async def test_pages_fall_back_to_index_under_the_csp(server: Running) -> None:
    index = (DIST / "index.html").read_bytes()
    for path in PAGES:
        status, body, headers = await server.http("GET", path)
        assert status == 200, path
        assert body == index, path
        assert headers["content-type"].startswith("text/html"), path
        assert "no-cache" in headers["cache-control"], path
        csp = directives(headers["content-security-policy"])
        assert csp["script-src"] == ["'self'"], path
        assert "'unsafe-eval'" not in headers["content-security-policy"], path


def test_index_has_no_inline_script() -> None:
    html = (DIST / "index.html").read_text("utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "index.html starts no script"
    for attributes, body in scripts:
        assert 'src="/_app/immutable/' in attributes and not body.strip(), attributes
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "an inline event handler"
    assert "javascript:" not in html


@SQLITE
async def test_hashed_files_are_cached_for_good(server: Running) -> None:
    html = (DIST / "index.html").read_text("utf-8")
    refs = index_refs(html) + stylesheet_refs(html)
    assert any("/entry/start." in r for r in refs) and any(r.endswith(".css") for r in refs)
    for ref in refs:
        status, body, headers = await server.http("GET", ref)
        assert status == 200, ref
        assert body == file_of(ref).read_bytes(), ref
        assert headers["cache-control"] == "public, max-age=31536000, immutable", ref
    status, _, headers = await server.http("GET", "/_app/version.json")
    assert status == 200 and "immutable" not in headers.get("cache-control", "")
    status, _, headers = await server.http("GET", "/_app/immutable/chunks/no-such-file.js")
    assert status == 404 and "immutable" not in headers.get("cache-control", "")


def precached() -> list[str]:
    """The URLs the built service worker precaches (docs/WEBAPP.md, "Offline briefcase")."""
    worker = (DIST / "service-worker.js").read_text("utf-8")
    urls = ["/" + u for u in re.findall(r'"url":"([^"]+)"', worker)]
    urls += re.findall(r'"(/_app/immutable/boot-[0-9a-f]+\.js)"', worker)
    return urls


@SQLITE
async def test_the_service_worker_precaches_the_shell_only(server: Running) -> None:
    status, body, headers = await server.http("GET", "/service-worker.js")
    assert status == 200
    assert "javascript" in headers["content-type"]
    assert headers["cache-control"] == "no-cache"  # a new build must reach the tablets
    assert "service-worker-allowed" not in headers  # its scope is its own folder, /
    urls = precached()
    html = (DIST / "index.html").read_text("utf-8")
    boot = re.search(r'src="(/_app/immutable/boot-[0-9a-f]+\.js)"', html)
    assert boot and boot[1] in urls, "the start-up script moved out of index.html is not precached"
    assert "/index.html" in urls and any("/entry/start." in u for u in urls)
    assert any(u.endswith(".woff2") for u in urls) and any("pdf.worker" in u for u in urls)
    assert not [u for u in urls if u.startswith("/api/")], "documents are never precached"
    for url in urls:
        status, _, _ = await server.http("GET", url)
        assert status == 200, url
    status, body, headers = await server.http("GET", "/manifest.webmanifest")
    assert status == 200 and headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(body)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        status, _, headers = await server.http("GET", icon["src"])
        assert status == 200 and headers["content-type"] == "image/png", icon


@SQLITE
async def test_unknown_api_paths_are_json_404(server: Running) -> None:
    for path in ["/api/unknown", "/api/unknown/deeper?x=1", "/api", "/api/"]:
        status, body, headers = await server.http("GET", path)
        assert status == 404, path
        assert headers["content-type"].startswith("application/json"), path
        assert body["error"]["code"] == "not_found", path
    status, body, headers = await server.http("POST", "/api/unknown", json={})
    assert 400 <= status < 500 and headers["content-type"].startswith("application/json")


@SQLITE
async def test_every_file_the_bundles_name_exists(server: Running) -> None:
    scripts = sorted((DIST / "_app" / "immutable").rglob("*.js"))
    missing = {
        (url_of(script), url_of(ref) if ref.is_relative_to(DIST) else str(ref))
        for script in scripts
        for ref in all_references(script)
        if not ref.is_file()
    }
    assert not missing, f"named but not built: {sorted(missing)}"
    routes, nodes = route_nodes()
    assert {"/", "/login"} <= set(routes) and 0 in nodes
    for path in first_load(list(routes)):
        status, _, _ = await server.http("GET", url_of(path))
        assert status == 200, url_of(path)


def test_first_load_is_within_the_javascript_budget(record_property: pytest.RecordProperty) -> None:
    """Login then my meetings: index.html's scripts, the layout and both pages, gzipped."""
    files = first_load(["/login", "/"])
    size = gzipped_size(files)
    record_property("first_load_js_gzip_bytes", size)
    print(f"first load (login + my meetings): {len(files)} JS files, {size / 1024:.1f} KB gzipped")
    assert size <= BUDGET, f"{size / 1024:.1f} KB gzipped > {BUDGET // 1024} KB"
    # the measure is not empty: it holds the start-up script, kit's entries and both pages
    names = {url_of(p) for p in files}
    assert any("/boot-" in n for n in names) and any("/entry/app." in n for n in names)
    routes, nodes = route_nodes()
    assert {url_of(nodes[routes[r][0]]) for r in ("/", "/login")} <= names


@pytest.mark.parametrize(
    "path", [["/login", "/", "/m/[id]"], ["/login", "/", "/m/[id]/chair"], ["/m/[id]/display"]]
)
def test_each_role_s_way_in_is_within_the_budget(
    path: list[str], record_property: pytest.RecordProperty
) -> None:
    """A delegate's way to the sitting view (before any reader), the chair's to the console,
    and the hall display's page, each counted whole."""
    files = first_load(path)
    size = gzipped_size(files)
    record_property("js_gzip_bytes", size)
    print(f"{' → '.join(path)}: {len(files)} JS files, {size / 1024:.1f} KB gzipped")
    assert size <= BUDGET, f"{size / 1024:.1f} KB gzipped > {BUDGET // 1024} KB"
