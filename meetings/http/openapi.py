"""OpenAPI 3.1 document built from the route table (docs/API.md)."""

from __future__ import annotations

import re
from typing import Any

from meetings.http.api import Api

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message"],
        }
    },
}


def _path(path: str) -> tuple[str, list[str]]:
    params = re.findall(r"{(\w+)(?::\w+)?}", path)
    return re.sub(r"{(\w+):\w+}", r"{\1}", path), params


def openapi(apis: list[Api], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for api in apis:
        path, params = _path(api.path)
        op: dict[str, Any] = {
            "summary": api.summary,
            "operationId": f"{api.method.lower()}_{api.handler.__name__}",
            "tags": [api.tag],
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
                for p in params
            ]
            + [
                {"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
                for q in api.query
            ],
            "responses": {
                str(api.status): {"description": "success"},
                "default": {
                    "description": "error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if api.auth:
            op["security"] = [{"bearer": []}, {"cookie": []}]
        if api.body is not None:
            name = api.body.__name__
            schema = api.body.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
        elif api.raw_body:
            op["requestBody"] = {
                "required": True,
                "content": {api.raw_body: {"schema": {"type": "string", "format": "binary"}}},
            }
        paths.setdefault(path, {})[api.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Quorum API",
            "version": version,
            "description": "Paperless council meetings. Realtime protocol: docs/PROTOCOL.md.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "quorum_session"},
            },
        },
    }
