"""Declarative API routes: one table drives routing, validation and OpenAPI (docs/API.md).

Each `Api` names its method, path, handler, request model and who may call it. `build_routes`
wraps each handler: authenticate, check CSRF on cookie mutations, parse the body into its
model, call, render JSON. Handlers hold no business rules; they call one service function.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from meetings.domain.errors import InvalidInput, NotFound, PayloadTooLarge, Unauthenticated
from meetings.http.auth import authenticate, bearer_token
from meetings.services.context import Actor, Services

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects a JSON body or command payload may have. The deepest
legitimate one (an annotation's shapes) is under 8; unbounded nesting made the parser and the
validators recurse until Python gave up (a 500 over HTTP, a lost ack over Socket.IO)."""
MAX_INT = 2**31 - 1
"""Integer columns are 32-bit on PostgreSQL: larger ids and numbers are refused at the edge."""


@dataclass
class Call:
    request: Request
    services: Services
    actor: Actor | None
    body: Any = None

    @property
    def me(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated("log in first")
        return self.actor

    def int_param(self, name: str) -> int:
        """A path id; one no row can have (past the databases' 32-bit integers) is not found."""
        value = int(self.request.path_params[name])
        if not 0 < value <= MAX_INT:
            raise NotFound(f"no {name.removesuffix('_id').replace('_', ' ')} {value}")
        return value

    def query_int(self, name: str) -> int | None:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(
                f"query parameter {name!r} must be a whole number", code="bad_query"
            ) from None
        if not 0 <= value <= MAX_INT:
            raise InvalidInput(f"query parameter {name!r} is out of range", code="bad_query")
        return value


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Api:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    auth: bool = True
    status: int = 200
    tag: str = "api"
    raw_body: str | None = None  # content type of a streamed body (PDF uploads)
    query: tuple[str, ...] = field(default_factory=tuple)
    ticket: bool = False
    """Also reached with a bearer credential that is not a login token (a remote signing
    session's ticket): the handler checks it and answers 401 itself when it is no good."""


async def read_json(request: Request) -> Any:
    too_large = PayloadTooLarge(f"a JSON body has at most {MAX_JSON_BYTES // 1024} KiB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise too_large
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON_BYTES:
            raise too_large
    if not raw:
        raise InvalidInput("a JSON body is required", code="invalid_json")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
    except RecursionError:
        raise InvalidInput(TOO_DEEP, code="invalid_json") from None
    check_json(data, raw)
    return data


def _nul_error(where: list[Any]) -> InvalidInput:
    field = ".".join(str(part) for part in where) or "(body)"
    return InvalidInput(
        "text may not contain the NUL character",
        code="validation",
        details=[{"field": field, "problem": "contains a NUL character (\\u0000)"}],
    )


TOO_DEEP = f"JSON may nest at most {MAX_JSON_DEPTH} levels of arrays and objects"


def check_json(value: Any, encoded: str | bytes | None = None) -> None:
    """Refuse, before any model or database sees it, what JSON allows but Quorum does not:
    nesting deeper than `MAX_JSON_DEPTH`, and the NUL character in any string or key
    (PostgreSQL cannot store it in text, and no name, title or note needs it).

    `encoded` is the value's JSON text when the caller has it: NUL can only be written there as
    the escape `\\u0000`, so one substring test spares the walk that names the field. A walk
    that builds every field's path cost 3 ms for an ink stroke of 200 points; these cost tens
    of microseconds."""
    if type(value) is not dict and type(value) is not list:
        if isinstance(value, str) and "\x00" in value:
            raise _nul_error([])
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidInput(TOO_DEEP, code="invalid_json")
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
    if isinstance(encoded, bytes):
        found = b"\\u0000" in encoded
    else:
        found = encoded is None or "\\u0000" in encoded
    if found:
        _find_nul(value)


def _find_nul(value: Any) -> None:
    """The slow walk: raise naming the first field whose text or key holds NUL."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul_error(where)
            continue
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            if isinstance(key, str) and "\x00" in key:
                raise _nul_error([*where, key.replace("\x00", "\\u0000")])
            if isinstance(child, str | dict | list):
                stack.append((child, [*where, key]))


def check_text(name: str, value: str) -> None:
    """A query or path parameter: no NUL character (see `check_json`)."""
    if "\x00" in value or "\x00" in name:
        raise _nul_error([name.replace("\x00", "\\u0000")])


def parse_body(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        raise InvalidInput(
            "some fields are missing or invalid", code="validation", details=details
        ) from None


def _endpoint(api: Api) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        services: Services = request.state.services
        for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
            if isinstance(value, str):
                check_text(name, value)
        # public routes (login) need no CSRF token: they act on no one's session
        actor = await authenticate(request, services, mutation=api.auth and api.method != "GET")
        if api.auth and actor is None and not (api.ticket and bearer_token(request)):
            raise Unauthenticated("log in first")
        call = Call(request, services, actor)
        if api.body is not None:
            call.body = parse_body(api.body, await read_json(request))
        result = await api.handler(call)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result, status_code=api.status)

    endpoint.__name__ = api.handler.__name__
    return endpoint


def build_routes(apis: list[Api]) -> list[Route]:
    return [Route(api.path, _endpoint(api), methods=[api.method]) for api in apis]
