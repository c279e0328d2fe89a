"""Councils and members (docs/API.md, "Resources")."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from meetings.domain.errors import PayloadTooLarge, UnsupportedMedia
from meetings.http.api import Api, Call
from meetings.services import commands as c
from meetings.services.accounts import councils, member_import, members
from meetings.services.accounts.member_list import MAX_FILE_BYTES, XLSX_TYPE


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


async def create_member(call: Call) -> dict[str, Any]:
    return await members.create_member(
        call.services, call.me, call.int_param("council_id"), call.body
    )


async def update_account(call: Call) -> dict[str, Any]:
    return await members.update_account(
        call.services, call.me, call.int_param("council_id"), call.int_param("member_id"), call.body
    )


async def reset_password(call: Call) -> dict[str, Any]:
    body: c.ResetPassword = call.body
    return await members.reset_password(
        call.services,
        call.me,
        call.int_param("council_id"),
        call.int_param("member_id"),
        body.password,
    )


async def set_active(call: Call) -> dict[str, Any]:
    body: c.SetActive = call.body
    return await members.set_member_active(
        call.services,
        call.me,
        call.int_param("council_id"),
        call.int_param("member_id"),
        body.active,
    )


LIST_TYPES = (
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",  # what Windows browsers call a .csv file
    XLSX_TYPE,
    "application/octet-stream",
)


async def _list_body(call: Call) -> bytes:
    request = call.request
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    filename = request.query_params.get("filename", "").lower()
    if content_type not in LIST_TYPES or (
        filename and not filename.endswith((".csv", ".xlsx", ".txt"))
    ):
        raise UnsupportedMedia(
            "a member list is a CSV file (UTF-8) or an Excel workbook (.xlsx)", code="bad_file"
        )
    too_large = PayloadTooLarge(f"a member list has at most {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        raise too_large
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_FILE_BYTES:
            raise too_large
    return data


async def import_list(call: Call) -> JSONResponse:
    council_id = call.int_param("council_id")
    confirm = call.request.query_params.get("confirm", "") in ("1", "true")
    await member_import.check_caller(call.services, call.me, council_id)  # before the body
    data = await _list_body(call)
    report = await member_import.import_members(
        call.services, call.me, council_id, data, confirm=confirm
    )
    return JSONResponse(report.model_dump(), status_code=201 if report.saved else 200)


MEMBER = "/api/councils/{council_id:int}/members/{member_id:int}"
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
    Api(
        "POST",
        "/api/councils/{council_id:int}/accounts",
        create_member,
        "Create a member's account with a temporary password, shown once (secretariat)",
        body=c.CreateMemberAccount,
        status=201,
        tag="councils",
    ),
    Api(
        "POST",
        "/api/councils/{council_id:int}/members/import",
        import_list,
        "Preview (or with ?confirm=1 save, all or nothing) a CSV or XLSX member list (secretariat)",
        tag="councils",
        raw_body="text/csv",
        query=("confirm", "filename"),
    ),
    Api(
        "PATCH",
        MEMBER + "/account",
        update_account,
        "Change a member's name, username or email (secretariat)",
        body=c.UpdateAccount,
        tag="councils",
    ),
    Api(
        "POST",
        MEMBER + "/password",
        reset_password,
        "Set a temporary password, shown once; the member's sessions end (secretariat)",
        body=c.ResetPassword,
        tag="councils",
    ),
    Api(
        "POST",
        MEMBER + "/active",
        set_active,
        "Deactivate (sessions end, login refused) or reactivate a member's account (secretariat)",
        body=c.SetActive,
        tag="councils",
    ),
]
