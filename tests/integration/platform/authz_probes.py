"""Probes of the core routes for the authorisation walk (docs/AUTHORIZATION.md, "Core").

Each probe prepares fresh objects (as the administrator, through the services) so that an
allowed role gets a success and one role's request never changes what the next one sees.
"""

from __future__ import annotations

from meetings.domain.model import Role, Visibility
from meetings.services import commands as c
from meetings.services.sitting import calendar, meetings
from meetings.storage.tables import User
from tests.conftest import PASSWORD
from tests.support.authz import Key, Probe, ProbeFactory
from tests.support.upload_pdfs import text_pdf
from tests.support.world import USERNAMES, World, unique

M = "/api/meetings/{meeting_id}"
D = "/api/documents/{document_id}"
PDF = {"content-type": "application/pdf"}


async def login(w: World, role: str) -> Probe:
    username = USERNAMES.get(role, "delegate002")
    return Probe("/api/auth/login", json={"username": username, "password": PASSWORD})


async def logout(w: World, role: str) -> Probe:
    token = await w.server.token(USERNAMES[role]) if role != "anonymous" else None
    return Probe("/api/auth/logout", token=token)


async def own_password(w: World, role: str) -> Probe:
    """A fresh account of the role changes its own password (changing the shared account's
    would end the sessions the other probes use)."""
    body = {"current_password": PASSWORD, "new_password": PASSWORD + " mới"}
    if role == "anonymous":
        return Probe("/api/auth/password", json=body)
    council_role = None if role in ("outsider", "admin") else Role(role)
    user_id = await w.new_user(council_role)
    async with w.services.uow() as uow:
        user = await uow.session.get(User, user_id)
        assert user is not None
        user.is_admin = role == "admin"
        username = user.username
        await uow.commit()
    return Probe("/api/auth/password", json=body, token=await w.server.token(username))


async def create_user(w: World, role: str) -> Probe:
    name = unique("new")
    return Probe("/api/users", json={"username": name, "name": name, "password": PASSWORD})


async def members(w: World, role: str) -> Probe:
    return Probe(f"/api/councils/{w.council_id}/members")


async def add_member(w: World, role: str) -> Probe:
    user_id = await w.new_user()
    return Probe(
        f"/api/councils/{w.council_id}/members", json={"user_id": user_id, "role": "delegate"}
    )


async def one_member(w: World, role: str) -> Probe:
    member_id = await w.member_id(await w.new_user(Role.delegate))
    return Probe(f"/api/councils/{w.council_id}/members/{member_id}", json={"title": "Phó"})


async def create_account(w: World, role: str) -> Probe:
    name = unique("acct")
    return Probe(
        f"/api/councils/{w.council_id}/accounts",
        json={"username": name, "name": name, "role": "delegate"},
    )


async def import_list(w: World, role: str) -> Probe:
    name = unique("imp")
    data = f"name,username,role\nNgười {name},{name},delegate\n".encode()
    return Probe(
        f"/api/councils/{w.council_id}/members/import?confirm=1",
        data=data,
        headers={"content-type": "text/csv"},
    )


def member_account(suffix: str, json: object) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        member_id = await w.member_id(await w.new_user(Role.delegate))
        return Probe(f"/api/councils/{w.council_id}/members/{member_id}/{suffix}", json=json)

    return probe


async def calendar_feed(w: World, role: str) -> Probe:
    made = await calendar.new_feed(w.services, w.admin)
    return Probe(str(made["url"]).removeprefix(w.services.settings.public_url), expect_json=False)


async def create_meeting(w: World, role: str) -> Probe:
    return Probe("/api/meetings", json={"council_id": w.council_id, "title": "Phiên họp"})


async def meeting(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{w.meeting_id}")


async def update_meeting(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{w.meeting_id}", json={"location": "Hội trường"})


async def publish(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{await w.new_meeting()}/transition", json={"action": "publish"})


async def open_(w: World, role: str) -> Probe:
    meeting_id = await w.new_meeting(publish=True)
    return Probe(f"/api/meetings/{meeting_id}/transition", json={"action": "open"})


async def draft_meeting(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{await w.new_meeting()}")


def under_meeting(suffix: str, json: object = None) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(f"/api/meetings/{w.meeting_id}{suffix}", json=json)

    return probe


async def add_participant(w: World, role: str) -> Probe:
    user_id = await w.new_user(Role.delegate)
    return Probe(f"/api/meetings/{w.meeting_id}/participants", json={"user_id": user_id})


async def remove_participant(w: World, role: str) -> Probe:
    user_id = await w.new_user(Role.delegate)
    await meetings.add_participant(
        w.services, w.admin, w.meeting_id, c.AddParticipant(user_id=user_id)
    )
    return Probe(f"/api/meetings/{w.meeting_id}/participants/{user_id}")


async def attendance(w: World, role: str) -> Probe:
    return Probe(
        f"/api/meetings/{w.meeting_id}/attendance",
        json={"user_id": w.user_ids["delegate"], "attendance": "excused"},
    )


async def create_item(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{w.meeting_id}/agenda", json={"title": "Nội dung mới"})


async def update_item(w: World, role: str) -> Probe:
    item = await w.new_item()
    return Probe(f"/api/meetings/{w.meeting_id}/agenda/{item}", json={"presenter": "Thư ký"})


async def move_item(w: World, role: str) -> Probe:
    item = await w.new_item()
    return Probe(f"/api/meetings/{w.meeting_id}/agenda/{item}/move", json={"position": 0})


async def delete_item(w: World, role: str) -> Probe:
    return Probe(f"/api/meetings/{w.meeting_id}/agenda/{await w.new_item()}")


async def upload(w: World, role: str) -> Probe:
    return Probe(
        f"/api/meetings/{w.meeting_id}/documents?title=Tờ+trình",
        data=text_pdf("upload"),
        headers=PDF,
    )


async def upload_version(w: World, role: str) -> Probe:
    document_id = await w.shared_document(Visibility.members)
    return Probe(f"/api/documents/{document_id}/versions", data=text_pdf("v2"), headers=PDF)


async def update_document(w: World, role: str) -> Probe:
    document_id = await w.shared_document(Visibility.members)
    return Probe(f"/api/documents/{document_id}", json={"title": "Tên mới"})


async def delete_document(w: World, role: str) -> Probe:
    return Probe(f"/api/documents/{await w.new_document()}")


def download(visibility: Visibility) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        document_id = await w.shared_document(visibility)
        return Probe(f"/api/documents/{document_id}/file", expect_json=False)

    return probe


def opened(visibility: Visibility) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        document_id = await w.shared_document(visibility)
        return Probe(f"/api/documents/{document_id}/opened")

    return probe


def fixed(path: str, expect_json: bool = True) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(path, expect_json=expect_json)

    return probe


PROBES: dict[Key, ProbeFactory] = {
    ("GET", "/healthz", ""): fixed("/healthz"),
    ("GET", "/api/openapi.json", ""): fixed("/api/openapi.json"),
    ("POST", "/api/auth/login", ""): login,
    ("POST", "/api/auth/logout", ""): logout,
    ("GET", "/api/auth/me", ""): fixed("/api/auth/me"),
    ("POST", "/api/auth/password", ""): own_password,
    ("GET", "/api/users", ""): fixed("/api/users"),
    ("POST", "/api/users", ""): create_user,
    ("GET", "/api/councils", ""): fixed("/api/councils"),
    ("POST", "/api/councils", ""): lambda w, r: _council(),
    ("GET", "/api/councils/{council_id}/members", ""): members,
    ("POST", "/api/councils/{council_id}/members", ""): add_member,
    ("PATCH", "/api/councils/{council_id}/members/{member_id}", ""): one_member,
    ("DELETE", "/api/councils/{council_id}/members/{member_id}", ""): one_member,
    ("POST", "/api/councils/{council_id}/accounts", ""): create_account,
    ("POST", "/api/councils/{council_id}/members/import", ""): import_list,
    ("PATCH", "/api/councils/{council_id}/members/{member_id}/account", ""): member_account(
        "account", {"name": "Tên mới"}
    ),
    ("POST", "/api/councils/{council_id}/members/{member_id}/password", ""): member_account(
        "password", {}
    ),
    ("POST", "/api/councils/{council_id}/members/{member_id}/active", ""): member_account(
        "active", {"active": False}
    ),
    ("GET", "/api/calendar/feed", ""): fixed("/api/calendar/feed"),
    ("POST", "/api/calendar/feed", ""): fixed("/api/calendar/feed"),
    ("DELETE", "/api/calendar/feed", ""): fixed("/api/calendar/feed"),
    ("GET", "/api/calendar/{token}.ics", ""): calendar_feed,
    ("GET", "/api/meetings", ""): fixed("/api/meetings"),
    ("POST", "/api/meetings", ""): create_meeting,
    ("GET", M, ""): meeting,
    ("GET", M, "draft"): draft_meeting,
    ("PATCH", M, ""): update_meeting,
    ("POST", M + "/transition", "publish"): publish,
    ("POST", M + "/transition", "open"): open_,
    ("GET", M + "/snapshot", ""): under_meeting("/snapshot"),
    ("GET", M + "/events", ""): under_meeting("/events?since_seq=1"),
    ("GET", M + "/participants", ""): under_meeting("/participants"),
    ("POST", M + "/participants", ""): add_participant,
    ("DELETE", M + "/participants/{user_id}", ""): remove_participant,
    ("POST", M + "/invitations", ""): under_meeting("/invitations"),
    ("POST", M + "/check-in", ""): under_meeting("/check-in"),
    ("POST", M + "/attendance", ""): attendance,
    ("GET", M + "/agenda", ""): under_meeting("/agenda"),
    ("POST", M + "/agenda", ""): create_item,
    ("PATCH", M + "/agenda/{item_id}", ""): update_item,
    ("POST", M + "/agenda/{item_id}/move", ""): move_item,
    ("DELETE", M + "/agenda/{item_id}", ""): delete_item,
    ("GET", M + "/documents", ""): under_meeting("/documents"),
    ("POST", M + "/documents", ""): upload,
    ("POST", D + "/versions", ""): upload_version,
    ("PATCH", D, ""): update_document,
    ("DELETE", D, ""): delete_document,
    ("GET", D + "/file", ""): download(Visibility.members),
    ("GET", D + "/file", "public"): download(Visibility.public),
    ("GET", D + "/file", "restricted"): download(Visibility.restricted),
    ("GET", D + "/file", "confidential"): download(Visibility.confidential),
    ("POST", D + "/opened", ""): opened(Visibility.members),
    ("POST", D + "/opened", "confidential"): opened(Visibility.confidential),
    ("GET", M + "/reading", ""): under_meeting("/reading"),
    ("GET", M + "/reading/totals", ""): under_meeting("/reading/totals"),
}


async def _council() -> Probe:
    return Probe("/api/councils", json={"name": unique("Hội đồng ")})
