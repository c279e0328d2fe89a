"""Every role's token over a running server: the `world` of tests/integration/conftest.py
(docs/TESTING.md, "Both databases").

`world` adds to the seeded rehearsal council an administrator and an outsider (a delegate of
another council), logs every role in, and offers helpers that prepare fresh rows through the
service layer as the administrator, so each probe acts on its own objects.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from sqlalchemy import func, select

from meetings.domain.model import Role, Visibility
from meetings.services import commands as c
from meetings.services.accounts import auth, councils
from meetings.services.context import Actor, Services
from meetings.services.documents import library as documents
from meetings.services.documents.library import Upload
from meetings.services.sitting import agenda, meetings
from meetings.storage.tables import (
    AuditEntry,
    Document,
    DocumentPage,
    DocumentVersion,
    MeetingEvent,
    Membership,
    User,
)
from realtime.asgi import create_asgi_app
from tests.conftest import (
    PASSWORD,
    Running,
    Template,
    fresh_database,
    http_session,
    pg_admin,
    server_settings,
)
from tests.support.upload_pdfs import text_pdf

ROLES = ("admin", "secretary", "chair", "delegate", "display", "outsider", "anonymous")
USERNAMES = {
    "admin": "admin",
    "secretary": "secretary",
    "chair": "chair",
    "delegate": "delegate001",
    "display": "display",
    "outsider": "outsider",
}
_counter = itertools.count(1)
_hashes: list[str] = []


def _files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file())


@functools.cache
def _pdf(title: str) -> bytes:
    return text_pdf(title)


async def _hash(services: Services) -> str:
    if not _hashes:
        _hashes.append(await auth.hash_password(services, PASSWORD))
    return _hashes[0]


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}x{next(_counter)}"


@dataclass
class World:
    server: Running
    admin: Actor
    outsider_council_id: int
    tokens: dict[str, str | None] = field(default_factory=dict)
    shared_documents: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    @property
    def services(self) -> Any:
        return self.server.services

    @property
    def council_id(self) -> int:
        return self.server.council_id

    @property
    def meeting_id(self) -> int:
        return self.server.meeting_id

    async def http(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        return await self.server.http(method, path, token=self.tokens.get(role), **kwargs)

    async def new_user(self, role: Role | None = None, council_id: int | None = None) -> int:
        """A fresh account (its password is PASSWORD; the hash is made once: argon2 is slow)."""
        name = unique("u")
        password_hash = await _hash(self.services)
        async with self.services.uow() as uow:
            user = User(username=name, name=f"User {name}", password_hash=password_hash)
            uow.session.add(user)
            await uow.session.flush()
            assert user.id is not None
            if role is not None:
                uow.session.add(
                    Membership(council_id=council_id or self.council_id, user_id=user.id, role=role)
                )
            await uow.commit()
        return user.id

    async def member_id(self, user_id: int) -> int:
        async with self.services.db.reading() as session:
            found = await session.scalar(
                select(Membership.id).where(
                    Membership.user_id == user_id, Membership.council_id == self.council_id
                )
            )
        assert found is not None
        return int(found)

    async def new_meeting(self, *, publish: bool = False, open_: bool = False) -> int:
        out = await meetings.create_meeting(
            self.services, self.admin, c.CreateMeeting(council_id=self.council_id, title="Probe")
        )
        meeting_id = int(out["id"])
        if publish or open_:
            await meetings.transition(self.services, self.admin, meeting_id, "publish")
        if open_:
            await meetings.transition(self.services, self.admin, meeting_id, "open")
        return meeting_id

    async def new_item(self, meeting_id: int | None = None, parent_id: int | None = None) -> int:
        out = await agenda.create_item(
            self.services,
            self.admin,
            meeting_id or self.meeting_id,
            c.CreateItem(title=unique("Item "), parent_id=parent_id),
        )
        return int(out["id"])

    async def new_document(
        self,
        visibility: Visibility = Visibility.members,
        allowed: list[int] | None = None,
        title: str = "Probe document",
    ) -> int:
        out = await documents.upload_document(
            self.services,
            self.admin,
            self.meeting_id,
            Upload(_pdf(title), "probe.pdf"),
            title=title,
            visibility=visibility,
            allowed_user_ids=allowed or [],
        )
        return int(out["id"])

    async def shared_document(self, visibility: Visibility) -> int:
        """One document per visibility for probes that only read it (the delegate is named)."""
        if visibility.value not in self.shared_documents:
            self.shared_documents[visibility.value] = await self.new_document(
                visibility, allowed=[self.user_ids["delegate"]]
            )
        return self.shared_documents[visibility.value]

    async def shared_document_for_versions(self) -> int:
        return await self.shared_document(Visibility.members)

    async def counts(self) -> dict[str, int]:
        """Row counts of what a refused command must not leave behind, and the blob files."""
        out: dict[str, int] = {}
        async with self.services.db.reading() as session:
            for table in (Document, DocumentVersion, DocumentPage, MeetingEvent, AuditEntry):
                out[table.__tablename__] = int(
                    await session.scalar(select(func.count()).select_from(table)) or 0
                )
        out["blob_files"] = _files(self.services.blobs.root)
        return out


@asynccontextmanager
async def running_server(template: Template, folder: Path) -> AsyncIterator[Running]:
    """As the shared `server` fixture, but for a whole module: starting a server and logging
    every role in costs seconds, and these tests only compare what they themselves change."""
    url, pg_name = await fresh_database(template, folder)
    settings = server_settings(url, folder)
    app = create_asgi_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    uv = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(uv.serve())
    while not uv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = uv.servers[0].sockets[0].getsockname()[1]
    session = http_session()
    running = Running(
        f"http://127.0.0.1:{port}",
        settings,
        app.quorum_services,
        template.seeded["council_id"],
        template.seeded["meeting_id"],
        template.backend,
        session,
    )
    try:
        yield running
    finally:
        await session.close()
        uv.should_exit = True
        await task
        if pg_name:
            await pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def make_world(server: Running) -> World:
    services = server.services
    admin_user = await auth.create_user(
        services, None, "admin", "Quản trị viên", PASSWORD, is_admin=True
    )
    admin = Actor(admin_user.id or 0, admin_user.username, admin_user.name, is_admin=True)
    other = await councils.create_council(services, None, c.CreateCouncil(name="Other council"))
    outsider = await auth.create_user(services, None, "outsider", "Người ngoài", PASSWORD)
    assert other.id is not None and outsider.id is not None
    await councils.add_member(
        services, None, other.id, c.AddMember(user_id=outsider.id, role=Role.delegate)
    )
    w = World(server, admin, other.id)
    async with services.db.reading() as session:
        for role, username in USERNAMES.items():
            w.user_ids[role] = int(
                await session.scalar(select(User.id).where(User.username == username)) or 0
            )
    for role, username in USERNAMES.items():
        w.tokens[role] = await server.token(username)
    w.tokens["anonymous"] = None
    return w


async def quorum(world: World, *args: str) -> tuple[int, str, str]:
    """Run the `quorum` command against the server's database (without blocking the loop)."""
    env = os.environ | {
        "QUORUM_DATABASE_URL": world.server.settings.resolved_database_url,
        "QUORUM_DATA_DIR": str(world.server.settings.data_dir),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "meetings.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def raw_request(world: World, head: bytes, body_parts: list[bytes]) -> tuple[int, bytes]:
    """Send a request by hand; return the status and how many body bytes went out first."""
    url = urlsplit(world.server.base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head)
        await writer.drain()
        for part in body_parts:
            writer.write(part)
            await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=10)
        return int(line.split()[1]), await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()
