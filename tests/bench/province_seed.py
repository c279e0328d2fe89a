"""Seeding a province for `tests.bench.bench_province` (docs/PERFORMANCE.md, "A province on one
server"): S councils (the province's own and its districts' and communes'), each with a chair
`p{k}-chair` and P delegates `p{k}-d001`…, and one published sitting each whose participants are
the council's members; session tokens minted straight into the database, as
`tests.integration.voting.rig.mint_tokens` does (thousands of argon2 logins would take minutes
on the 2-core machine, and logging in is not what the benchmark measures).

Bench-only: the public `quorum demo --delegates N` of docs/PROTOCOL.md stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from meetings.config import Settings
from meetings.domain.model import Role
from meetings.services import commands as c
from meetings.services.accounts import auth, councils
from meetings.services.accounts.auth import new_token, token_digest
from meetings.services.assembly import create_services
from meetings.services.sitting import meetings
from meetings.services.sitting.events import MeetingStatusChanged
from meetings.storage.migrate import upgrade
from meetings.storage.tables import AuthToken, Meeting, Membership, User, pk, utcnow


@dataclass
class Sitting:
    council_id: int
    meeting_id: int
    chair_token: str
    delegate_tokens: list[str] = field(default_factory=list)


async def seed_province(
    data_dir: Path, sittings: int, tablets: int, password: str, database_url: str = ""
) -> list[Sitting]:
    """S councils of P delegates with a published sitting each; answers them with tokens."""
    settings = Settings(data_dir=data_dir, database_url=database_url).prepare()
    services = create_services(settings)
    out: list[Sitting] = []
    try:
        password_hash = await auth.hash_password(services, password)
        starts = datetime.now(UTC).replace(microsecond=0)
        for k in range(1, sittings + 1):
            council = await councils.create_council(
                services, None, c.CreateCouncil(name=f"Hội đồng nhân dân số {k} (bench)")
            )
            people = [(f"p{k}-chair", Role.chair)] + [
                (f"p{k}-d{i:03d}", Role.delegate) for i in range(1, tablets + 1)
            ]
            tokens: list[str] = []
            async with services.uow() as uow:
                users = [
                    User(username=name, name=f"Đại biểu {name}", password_hash=password_hash)
                    for name, _ in people
                ]
                uow.session.add_all(users)
                await uow.session.flush()
                for user, (_, role) in zip(users, people, strict=True):
                    uow.session.add(
                        Membership(council_id=pk(council), user_id=pk(user), role=role.value)
                    )
                    token = new_token()
                    tokens.append(token)
                    uow.session.add(
                        AuthToken(
                            token_hash=token_digest(token),
                            user_id=pk(user),
                            label="bench",
                            expires_at=utcnow() + timedelta(days=1),
                        )
                    )
                await uow.commit()
            created = await meetings.create_meeting(
                services,
                None,
                c.CreateMeeting(
                    council_id=pk(council),
                    title=f"Phiên họp {k}",
                    session_name="Kỳ họp bench",
                    location="Hội trường",
                    starts_at=starts,
                ),
            )
            meeting_id = int(created["id"])
            async with services.uow() as uow:
                meeting = await uow.session.get(Meeting, meeting_id)
                assert meeting is not None
                meeting.status = "published"
                await uow.emit(
                    meeting_id,
                    MeetingStatusChanged(status="published", opened_at=None, closed_at=None),
                )
                await uow.commit()
            out.append(Sitting(pk(council), meeting_id, tokens[0], tokens[1:]))
    finally:
        await services.db.dispose()
    return out


def migrate(data_dir: Path, database_url: str = "") -> None:
    """The schema, as `quorum demo` prepares it (blocking)."""
    upgrade(Settings(data_dir=data_dir, database_url=database_url).prepare().resolved_database_url)
