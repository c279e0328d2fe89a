"""The secretariat's member accounts and member list import (docs/features/accounts.md,
"Member accounts", "Importing a member list"), over a real server and database (both
backends)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select

from meetings.storage.tables import AuditEntry, Council, Membership, User
from tests.conftest import PASSWORD, Running
from tests.integration.accounts.test_revocation import connect, until

CSV = {"content-type": "text/csv"}
XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def counts(server: Running) -> tuple[int, int, int]:
    async with server.services.db.reading() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(User)) or 0),
            int(await session.scalar(select(func.count()).select_from(Membership)) or 0),
            int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


async def members(server: Running, token: str) -> dict[str, Any]:
    status, body, _ = await server.http(
        "GET", f"/api/councils/{server.council_id}/members", token=token
    )
    assert status == 200
    return {m["username"]: m for m in body}


async def send_list(
    server: Running, token: str, data: Any, *, confirm: bool, headers: dict[str, str] = CSV
) -> tuple[int, Any]:
    path = f"/api/councils/{server.council_id}/members/import" + ("?confirm=1" if confirm else "")
    status, body, _ = await server.http("POST", path, token=token, data=data, headers=headers)
    return status, body


GOOD = (
    "\ufeffname,username,role,title,email\r\n"
    "Nguyễn Thị Hằng,hang.nt,delegate,Đại biểu HĐND tỉnh,hang@example.vn\r\n"
    "Trần Văn Đức,duc.tv,Đại biểu,,\r\n"
    "Lê Minh Châu,chau.lm,chủ tọa,Phó Chủ tịch,\r\n"
)


async def test_import_reports_every_bad_row_and_saves_nothing(server: Running) -> None:
    token = await server.token("secretary")
    bad = (
        "name,username,role,title,email\n"
        "Nguyễn Thị Hằng,hang.nt,delegate,,hang@example.vn\n"
        ",nameless,delegate,,\n"  # row 3: no name
        "Phạm Quốc Bảo,bao.pq,mayor,,\n"  # row 4: no such role
        "Hoàng Thu,hang.nt,delegate,,\n"  # row 5: username again
        "Đỗ An,an.do,delegate,,not-an-email\n"  # row 6: bad email
        "Someone Else,delegate001,delegate,,\n"  # row 7: another person's username
        "Vũ Lan,Bad Name!,delegate,,\n"  # row 8: not a username
    ).encode()
    before = await counts(server)
    status, report = await send_list(server, token, bad, confirm=False)
    assert status == 200, report
    assert report["saved"] is False
    found = {(p["row"], p["column"], p["code"]) for p in report["problems"]}
    assert found == {
        (3, "name", "missing_name"),
        (4, "role", "bad_role"),
        (5, "username", "duplicate_username"),
        (6, "email", "bad_email"),
        (7, "username", "already_member"),
        (8, "username", "bad_username"),
    }
    status, body = await send_list(server, token, bad, confirm=True)
    assert status == 422 and body["error"]["code"] == "import_refused"
    assert {(p["row"], p["code"]) for p in body["error"]["details"]} == {
        (r, code) for r, _, code in found
    }
    assert await counts(server) == before  # nothing saved, not even an audit entry


async def test_import_creates_accounts_and_adds_existing_people(server: Running) -> None:
    token = await server.token("secretary")
    # an account that exists outside this council: the same person joins with it
    status, _, _ = await server.http(
        "POST",
        f"/api/councils/{server.council_id}/accounts",
        token=token,
        json={"username": "probe.x", "name": "Probe", "role": "delegate"},
    )
    assert status == 201
    async with server.services.uow() as uow:  # an account in no council yet
        uow.session.add(User(username="chau.lm", name="LÊ MINH CHÂU", password_hash="x"))
        await uow.commit()
    status, preview = await send_list(server, token, GOOD.encode(), confirm=False)
    assert status == 200 and preview["problems"] == []
    assert [(r["row"], r["action"], r["role"]) for r in preview["rows"]] == [
        (2, "create", "delegate"),
        (3, "create", "delegate"),
        (4, "add", "chair"),
    ]
    assert "hang.nt" not in await members(server, token)  # a preview saves nothing
    status, saved = await send_list(server, token, GOOD.encode(), confirm=True)
    assert status == 201, saved
    assert saved["created"] == 2 and saved["added"] == 1
    accounts = {a["username"]: a["password"] for a in saved["accounts"]}
    assert set(accounts) == {"hang.nt", "duc.tv"}
    listed = await members(server, token)
    assert listed["hang.nt"]["name"] == "Nguyễn Thị Hằng"
    assert listed["hang.nt"]["title"] == "Đại biểu HĐND tỉnh"
    assert listed["hang.nt"]["email"] == "hang@example.vn"
    assert listed["chau.lm"]["role"] == "chair"
    # the handed-out password works
    assert await server.token("hang.nt", accounts["hang.nt"])
    # the same list again: every row is now a member
    status, again = await send_list(server, token, GOOD.encode(), confirm=False)
    assert {p["code"] for p in again["problems"]} == {"already_member"}


async def test_import_reads_xlsx_and_refuses_other_files(server: Running) -> None:
    token = await server.token("secretary")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ và tên", "Tên đăng nhập", "Vai trò", "Chức vụ", "Email"])
    sheet.append(["Ngô Bảo Ngọc", "ngoc.nb", "delegate", "Ủy viên", None])
    sheet.append([None, None, None, None, None])
    sheet.append(["Phan Văn Khải", "khai.pv", "thư ký", None, "khai@example.vn"])
    out = io.BytesIO()
    book.save(out)
    status, report = await send_list(server, token, out.getvalue(), confirm=True, headers=XLSX)
    assert status == 201, report
    assert [(r["row"], r["username"], r["role"]) for r in report["rows"]] == [
        (2, "ngoc.nb", "delegate"),
        (4, "khai.pv", "secretary"),
    ]
    pdf = {"content-type": "application/pdf"}
    status, body = await send_list(server, token, b"%PDF-1.7", confirm=False, headers=pdf)
    assert status == 415 and body["error"]["code"] == "bad_file"
    latin1 = "name,username,role\nTrần,tran,delegate\n".encode("cp1258", errors="replace")
    status, body = await send_list(server, token, latin1 + b"\xff\xfe", confirm=False)
    assert status == 415 and body["error"]["code"] == "bad_file"
    status, body = await send_list(server, token, b"full name,email\nA,a@b.vn\n", confirm=False)
    assert status == 422 and body["error"]["code"] == "bad_header"
    status, body = await send_list(
        server, token, io.BytesIO(b"x" * (2 * 1024 * 1024 + 1)), confirm=False
    )
    assert status == 413
    delegate = await server.token("delegate001")
    status, body = await send_list(server, delegate, GOOD.encode(), confirm=False)
    assert status == 403


async def _member_id(server: Running, token: str, username: str) -> int:
    return int((await members(server, token))[username]["id"])


async def test_reset_password_and_deactivate_end_sessions(server: Running) -> None:
    token = await server.token("secretary")
    council = server.council_id
    member = await _member_id(server, token, "delegate002")
    victim = await server.token("delegate002")
    tablet, notices = await connect(server, victim)
    await tablet.join(server.meeting_id)
    status, body, _ = await server.http(
        "POST", f"/api/councils/{council}/members/{member}/password", token=token, json={}
    )
    assert status == 200 and len(body["password"]) >= 12
    await until(lambda: not tablet.sio.connected, 2.0, "the reset member's socket is closed")
    assert notices and notices[0][0] == "session_ended"
    status, _, _ = await server.http("GET", "/api/auth/me", token=victim)
    assert status == 401
    fresh = await server.token("delegate002", body["password"])
    # deactivation: the new session ends too, and login is refused until reactivated
    tablet, notices = await connect(server, fresh)
    status, body, _ = await server.http(
        "POST",
        f"/api/councils/{council}/members/{member}/active",
        token=token,
        json={"active": False},
    )
    assert status == 200 and body["is_active"] is False
    await until(lambda: not tablet.sio.connected, 2.0, "the deactivated member's socket is closed")
    status, _, _ = await server.http("GET", "/api/auth/me", token=fresh)
    assert status == 401
    status, _, _ = await server.http(
        "POST", "/api/auth/login", json={"username": "delegate002", "password": PASSWORD}
    )
    assert status == 401
    status, body, _ = await server.http(
        "POST",
        f"/api/councils/{council}/members/{member}/active",
        token=token,
        json={"active": True},
    )
    assert status == 200 and body["is_active"] is True
    status, body, _ = await server.http(
        "POST",
        f"/api/councils/{council}/members/{member}/password",
        token=token,
        json={"password": "tam-thoi-2026"},
    )
    assert status == 200 and body["password"] == "tam-thoi-2026"
    assert await server.token("delegate002", "tam-thoi-2026")


async def test_edit_account_and_the_limits_of_the_secretariat(server: Running) -> None:
    token = await server.token("secretary")
    council = server.council_id
    member = await _member_id(server, token, "delegate003")
    path = f"/api/councils/{council}/members/{member}/account"
    status, body, _ = await server.http(
        "PATCH",
        path,
        token=token,
        json={"name": "Đinh Thị Mai", "username": "mai.dt", "email": "mai@example.vn"},
    )
    assert status == 200, body
    assert (body["name"], body["username"], body["email"]) == (
        "Đinh Thị Mai",
        "mai.dt",
        "mai@example.vn",
    )
    status, body, _ = await server.http("PATCH", path, token=token, json={"username": "chair"})
    assert status == 409 and body["error"]["code"] == "username_taken"
    status, body, _ = await server.http("PATCH", path, token=token, json={"email": "nope"})
    assert status == 422 and body["error"]["code"] == "bad_email"
    # an account that also sits on a council this secretariat does not keep: administrators'
    async with server.services.uow() as uow:
        from_council = await uow.session.scalar(
            select(Membership.user_id).where(Membership.id == member)
        )
        assert from_council is not None
        second = Council(name="Hội đồng khác")
        uow.session.add(second)
        await uow.session.flush()
        assert second.id is not None
        uow.session.add(Membership(council_id=second.id, user_id=from_council, role="delegate"))
        await uow.commit()
    status, body, _ = await server.http(
        "POST",
        f"/api/councils/{council}/members/{member}/active",
        token=token,
        json={"active": False},
    )
    assert status == 403 and body["error"]["code"] == "other_councils"
    # your own account: not from the members list
    me = await _member_id(server, token, "secretary")
    status, body, _ = await server.http(
        "POST", f"/api/councils/{council}/members/{me}/active", token=token, json={"active": False}
    )
    assert status == 409 and body["error"]["code"] == "own_account"
    # a new member's account with a temporary password
    status, body, _ = await server.http(
        "POST",
        f"/api/councils/{council}/accounts",
        token=token,
        json={"username": "new.member", "name": "Thành viên mới", "role": "delegate"},
    )
    assert status == 201 and body["role"] == "delegate"
    assert await server.token("new.member", body["password"])
