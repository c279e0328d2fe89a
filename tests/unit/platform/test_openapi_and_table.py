"""The OpenAPI document and the authorisation table's parser, without a server."""

from __future__ import annotations

import pytest

from meetings.http.app import CORE_APIS
from meetings.http.openapi import openapi
from tests.support.authz import parse_table


def test_openapi_lists_every_core_route_with_its_body() -> None:
    spec = openapi(CORE_APIS, "0")
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert ("POST", "/api/meetings/{meeting_id}/agenda") in ops
    assert len(ops) == len(CORE_APIS)
    login = spec["paths"]["/api/auth/login"]["post"]
    assert "security" not in login
    assert login["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("Login")
    upload = spec["paths"]["/api/meetings/{meeting_id}/documents"]["post"]
    assert "application/pdf" in upload["requestBody"]["content"]
    assert {"Error", "CreateItem", "MoveItem"} <= set(spec["components"]["schemas"])


def test_table_parser() -> None:
    text = """## Core
| method | path | case | admin | secretary | chair | delegate | display | outsider | anonymous |
|---|---|---|---|---|---|---|---|---|---|
| GET | `/api/x/{id}` | draft | 200 | 200 | 403 | 404 | 404 | 404 | 401 |
## Polls
"""
    (row,) = parse_table(text)
    assert (row.section, row.method, row.path, row.case) == ("Core", "GET", "/api/x/{id}", "draft")
    assert row.expected["chair"] == 403 and row.expected["anonymous"] == 401
    with pytest.raises(AssertionError, match="HTTP status"):
        parse_table(text.replace("| 403 |", "| yes |"))
    with pytest.raises(AssertionError, match="10 columns"):
        parse_table(text.replace("| 401 |", "|"))
