"""Serving the built web app (docs/WEBAPP.md, "Structure").

`frontend/dist` is a static single-page app: hashed bundles under `/_app/immutable/` (cached for a
year: a new build gets new names), a few root files (icons, the font files), and `index.html`,
which every other page path falls back to so that a reload on `/m/12/chair` works. Paths under
`/api/` never fall back: an unknown API path is a JSON 404, not a 200 with a page in it. A
`page_status` callback may give a page path another status (the public pages of documents that
are not published answer 404 with the app, which says "not found", so that search engines and
link checkers see it too).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from meetings.http.errors import error_response

IMMUTABLE = b"public, max-age=31536000, immutable"
NOT_BUILT = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Quorum</title>
<body style="font:18px/1.5 sans-serif;max-width:40em;margin:3em auto">
<h1>Quorum</h1>
<p>Ứng dụng web chưa được build. Chạy <code>make run</code> (hoặc <code>make frontend</code>).</p>
<p>The web app is not built yet. Run <code>make run</code> (or <code>make frontend</code>).</p>
<p>API: <a href="/api/openapi.json">/api/openapi.json</a></p></body></html>"""


class CacheForever:
    """Adds a year-long immutable cache header to everything the wrapped app answers with 200."""

    def __init__(self, app: StaticFiles) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [*message.get("headers", []), (b"cache-control", IMMUTABLE)]
            await send(message)

        await self.app(scope, receive, send_cached)


def _root_files(dist: Path) -> dict[str, Path]:
    """The build's top-level files other than index.html (favicon, manifest, robots.txt)."""
    return {p.name: p for p in dist.iterdir() if p.is_file() and p.name != "index.html"}


PageStatus = Callable[[str], Awaitable[int]]
"""The HTTP status of an app page path (without its leading slash): 200, or 404 for a page of
something that does not exist."""


def webapp_routes(dist: Path, page_status: PageStatus | None = None) -> list[BaseRoute]:
    """Routes that serve the app in `dist`, or a page saying how to build it when it is absent."""
    index = dist / "index.html"
    if not index.is_file():

        async def not_built(request: Request) -> Response:
            if request.url.path.startswith("/api/"):
                return _api_not_found()
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"cache-control": "no-store"})

        return [Route("/{path:path}", not_built, methods=["GET"])]

    root_files = _root_files(dist)

    async def page(request: Request) -> Response:
        path = request.path_params["path"]
        if path == "api" or path.startswith("api/"):
            return _api_not_found()
        if path in root_files:
            return FileResponse(root_files[path], headers={"cache-control": "no-cache"})
        status = await page_status(path) if page_status is not None else 200
        return FileResponse(index, status_code=status, headers={"cache-control": "no-cache"})

    routes: list[BaseRoute] = []
    immutable = dist / "_app" / "immutable"
    if immutable.is_dir():
        routes.append(Mount("/_app/immutable", CacheForever(StaticFiles(directory=immutable))))
    if (dist / "_app").is_dir():
        routes.append(Mount("/_app", StaticFiles(directory=dist / "_app")))
    routes.append(Route("/{path:path}", page, methods=["GET"]))
    return routes


def _api_not_found() -> Response:
    return error_response(404, "not_found", "no such API route")
