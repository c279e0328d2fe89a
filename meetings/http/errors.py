"""Errors as JSON with a stable code (docs/API.md, "Errors").

A client's mistake is a 4xx with `{"error": {"code", "message"}}`; anything unexpected is
logged with its traceback and answered as `internal` without details.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from meetings.domain.errors import DomainError

log = logging.getLogger("quorum.http")

HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def error_response(status: int, code: str, message: str, details: object = None) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


async def domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    if isinstance(exc.details, dict) and isinstance(exc.details.get("retry_after_s"), int):
        response.headers["retry-after"] = str(exc.details["retry_after_s"])
    return response


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail), None
    )


async def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "an unexpected error happened; it has been logged")


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: internal_error,
}
