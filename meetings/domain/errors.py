"""One error hierarchy with stable codes (docs/ARCHITECTURE.md, "Errors").

Every refusal the system gives a client is a `DomainError` with a stable `code`. The HTTP layer maps
it once to a status, the Socket.IO layer once to an error ack. Codes are part of the protocol
(docs/PROTOCOL.md lists them); messages are for people and may change.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a stable machine-readable code and a human message."""

    code: str = "invalid"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    """The request is malformed or a field fails validation."""

    code = "invalid"
    status = 422


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401


class Forbidden(DomainError):
    """The caller is known but their role or membership does not allow this."""

    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    """Well formed, but the current state forbids it (illegal transition, duplicate)."""

    code = "conflict"
    status = 409


class PayloadTooLarge(DomainError):
    code = "too_large"
    status = 413


class UnsupportedMedia(DomainError):
    code = "unsupported_media"
    status = 415


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


class Unavailable(DomainError):
    """The server cannot take this request now (a resource is saturated); try again soon."""

    code = "busy"
    status = 503
