"""The Starlette application factory (docs/ARCHITECTURE.md, "HTTP").

`create_app` composes the app from lists: routes, middleware, exception handlers, lifespan.
The services container lives in lifespan state; the lifespan checks the schema before serving.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from meetings.http.api import Api, build_routes
from meetings.http.errors import EXCEPTION_HANDLERS
from meetings.http.headers import SecurityHeaders
from meetings.http.openapi import openapi
from meetings.http.ratelimit import RateLimit
from meetings.http.routes import accounts, calendar, councils, documents, public_site
from meetings.http.routes import sitting as sitting_routes
from meetings.http.uploads import reset_spool
from meetings.http.webapp import webapp_routes
from meetings.services.context import Services
from meetings.storage.migrate import check_schema

Hook = Callable[[Services], Awaitable[None]]

CORE_APIS: list[Api] = [
    *accounts.ROUTES,
    *councils.ROUTES,
    *calendar.ROUTES,
    *sitting_routes.ROUTES,
    *documents.ROUTES,
]


def create_app(
    services: Services,
    *,
    apis: Sequence[Api] = (),
    on_start: Sequence[Hook] = (),
    on_stop: Sequence[Hook] = (),
    frontend_dir: Path | None = None,
) -> Starlette:
    """The HTTP app. `apis` adds routes of other subsystems; hooks run inside the lifespan."""
    all_apis = [*CORE_APIS, *apis]
    spec = openapi(all_apis, version("quorum"))
    ready = {"value": False}

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(spec)

    async def healthz(_request: Request) -> Response:
        if not ready["value"]:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await check_schema(services.db.write_engine)
        reset_spool(services.settings.data_dir)
        for hook in on_start:
            await hook(services)
        ready["value"] = True
        try:
            yield {"services": services}
        finally:
            ready["value"] = False
            for hook in on_stop:
                await hook(services)
            await services.db.dispose()

    routes: list[BaseRoute] = [
        *build_routes(all_apis),
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if frontend_dir is not None:
        routes += webapp_routes(frontend_dir, public_site.page_status(services))
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(RateLimit, settings=services.settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
