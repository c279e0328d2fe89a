"""Councils and members (docs/API.md, "Resources")."""

from __future__ import annotations

from typing import Any

from meetings.http.api import Api, Call
from meetings.services import commands as c
from meetings.services.accounts import councils


async def list_councils(call: Call) -> list[dict[str, Any]]:
    return await councils.list_councils(call.services, call.me)


async def create_council(call: Call) -> dict[str, Any]:
    return councils.council_public(await councils.create_council(call.services, call.me, call.body))


async def list_members(call: Call) -> list[dict[str, Any]]:
    return await councils.list_members(call.services, call.me, call.int_param("council_id"))


async def add_member(call: Call) -> dict[str, Any]:
    return await councils.add_member(
        call.services, call.me, call.int_param("council_id"), call.body
    )


async def update_member(call: Call) -> dict[str, Any]:
    return await councils.update_member(
        call.services, call.me, call.int_param("council_id"), call.int_param("member_id"), call.body
    )


async def remove_member(call: Call) -> None:
    await councils.remove_member(
        call.services, call.me, call.int_param("council_id"), call.int_param("member_id")
    )


ROUTES = [
    Api("GET", "/api/councils", list_councils, "Councils the caller belongs to", tag="councils"),
    Api(
        "POST",
        "/api/councils",
        create_council,
        "Create a council (administrators)",
        body=c.CreateCouncil,
        status=201,
        tag="councils",
    ),
    Api(
        "GET",
        "/api/councils/{council_id:int}/members",
        list_members,
        "Members with roles and terms",
        tag="councils",
    ),
    Api(
        "POST",
        "/api/councils/{council_id:int}/members",
        add_member,
        "Add a member (secretariat)",
        body=c.AddMember,
        status=201,
        tag="councils",
    ),
    Api(
        "PATCH",
        "/api/councils/{council_id:int}/members/{member_id:int}",
        update_member,
        "Change a member's role, title or term (secretariat)",
        body=c.UpdateMember,
        tag="councils",
    ),
    Api(
        "DELETE",
        "/api/councils/{council_id:int}/members/{member_id:int}",
        remove_member,
        "Remove a member (secretariat)",
        tag="councils",
    ),
]
