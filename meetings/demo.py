"""Seeding a demo or rehearsal council (README.md, "Two commands", "The `quorum` command";
docs/PROTOCOL.md, "Stable names").

`seed_demo` makes a provincial People's Council with Vietnamese names, 40 delegates, a published
sitting with six agenda items and generated Vietnamese PDFs. `seed_rehearsal` makes `chair`,
`secretary`, `display` and `delegate001`… for load tests. Both are idempotent: a second run
finds the council and only reports the accounts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio
from sqlalchemy import select
from sqlmodel import col

from meetings.demo_archive import seed_archive  # a past sitting, signed and archived
from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from meetings.domain.model import Role, Visibility
from meetings.services import commands as c
from meetings.services.accounts import auth, councils
from meetings.services.context import Services
from meetings.services.documents import library as documents
from meetings.services.sitting import agenda, meetings
from meetings.services.sitting.events import MeetingStatusChanged
from meetings.storage.tables import Council, Meeting, Membership, User, pk

DEMO_COUNCIL = "Hội đồng nhân dân tỉnh Bình Minh (demo)"
REHEARSAL_COUNCIL = "Hội đồng diễn tập (rehearsal)"

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Thanh", "Ngọc", "Đức", "Hữu", "Thu", "Xuân", "Công"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hoa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Trung",
    "Tuấn",
    "Vân",
    "Việt",
    "Yến",
    "Đạt",
]

AGENDA = [
    ("Khai mạc kỳ họp", "Chủ tọa kỳ họp", 15, None),
    (
        "Báo cáo tình hình kinh tế – xã hội năm 2026",
        "Ủy ban nhân dân tỉnh",
        40,
        "Báo cáo kinh tế – xã hội năm 2026",
    ),
    (
        "Tờ trình dự toán ngân sách địa phương năm 2027",
        "Sở Tài chính",
        45,
        "Tờ trình dự toán ngân sách năm 2027",
    ),
    (
        "Dự thảo Nghị quyết về đầu tư nâng cấp tuyến đường tỉnh 741",
        "Sở Xây dựng",
        30,
        "Dự thảo Nghị quyết đường tỉnh 741",
    ),
    ("Thảo luận tại hội trường", "Các đại biểu", 90, None),
    ("Bế mạc kỳ họp", "Chủ tọa kỳ họp", 15, None),
]


@dataclass
class SeedReport:
    council_id: int
    meeting_id: int
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, name, role
    password: str = ""
    created: bool = True


def vietnamese_names(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        if name not in seen or len(seen) > 4000:
            seen.add(name)
            names.append(name)
    return names


async def _existing(services: Services, council_name: str) -> SeedReport | None:
    async with services.db.reading() as session:
        council = (
            await session.execute(select(Council).where(col(Council.name) == council_name))
        ).scalar_one_or_none()
        if council is None:
            return None
        meeting_id = await session.scalar(
            select(col(Meeting.id))
            .where(col(Meeting.council_id) == council.id)
            .order_by(col(Meeting.id).desc())
            .limit(1)
        )
        rows = await session.execute(
            select(User, Membership)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(col(Membership.council_id) == council.id)
            .order_by(col(User.username))
        )
        accounts = [(u.username, u.name, m.role) for u, m in rows.all()]
    return SeedReport(pk(council), meeting_id or 0, accounts, created=False)


async def _bulk_users(
    services: Services,
    people: list[tuple[str, str, Role, str]],
    password: str,
    council_id: int,
    progress: Callable[[str], None],
) -> None:
    """Accounts sharing one argon2 hash of one password (2,000 hashes would take minutes)."""
    password_hash = await auth.hash_password(services, password)
    async with services.uow() as uow:
        for index, (username, name, role, title) in enumerate(people, start=1):
            user = User(username=username, name=name, password_hash=password_hash)
            uow.session.add(user)
            await uow.session.flush()
            uow.session.add(
                Membership(council_id=council_id, user_id=pk(user), role=role.value, title=title)
            )
            if index % 500 == 0:
                progress(f"  {index}/{len(people)} accounts")
        await uow.audit(None, "demo.accounts", f"council:{council_id}", {"count": len(people)})
        await uow.commit()


async def _meeting(
    services: Services, council_id: int, title: str, session_name: str, starts_at: datetime
) -> int:
    m = await meetings.create_meeting(
        services,
        None,
        c.CreateMeeting(
            council_id=council_id,
            title=title,
            session_name=session_name,
            location="Hội trường Hội đồng nhân dân tỉnh",
            starts_at=starts_at,
        ),
    )
    return int(m["id"])


async def _publish(services: Services, meeting_id: int) -> None:
    async with services.uow() as uow:
        meeting = await uow.session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.status = "published"
        await uow.emit(
            meeting_id, MeetingStatusChanged(status="published", opened_at=None, closed_at=None)
        )
        await uow.commit()


async def seed_demo(
    services: Services, password: str, progress: Callable[[str], None] = print
) -> SeedReport:
    found = await _existing(services, DEMO_COUNCIL)
    if found is not None:
        found.password = password
        return found
    council = await councils.create_council(
        services,
        None,
        c.CreateCouncil(
            name=DEMO_COUNCIL,
            short_name="HĐND tỉnh",
            quorum_num=2,
            quorum_den=3,
            quorum_strict=False,
        ),
    )
    assert council.id is not None
    names = vietnamese_names(44)
    people = [
        ("chutich", names[0], Role.chair, "Chủ tịch Hội đồng nhân dân tỉnh"),
        ("thuky", names[1], Role.secretary, "Chánh Văn phòng"),
        ("manhinh", "Màn hình hội trường", Role.display, ""),
    ] + [(f"daibieu{i:02d}", names[i + 2], Role.delegate, "Đại biểu") for i in range(1, 41)]
    progress(f"Creating {len(people)} accounts …")
    await _bulk_users(services, people, password, council.id, progress)
    progress("Creating the sitting, its agenda and documents …")
    meeting_id = await _meeting(
        services,
        council.id,
        "Kỳ họp thứ 12 – Phiên khai mạc",
        "Kỳ họp thứ 12, Hội đồng nhân dân tỉnh khóa X",
        datetime.now(UTC).replace(microsecond=0) + timedelta(days=1),
    )
    for index, (title, presenter, minutes, doc_title) in enumerate(AGENDA):
        item = await agenda.create_item(
            services,
            None,
            meeting_id,
            c.CreateItem(title=title, presenter=presenter, duration_minutes=minutes),
        )
        if doc_title:
            pages = 300 if index == 2 else 12
            pdf = await anyio.to_thread.run_sync(
                partial(
                    generate_agenda_document,
                    doc_title,
                    vietnamese_paragraphs(40, seed=index),
                    pages=pages,
                )
            )
            await documents.upload_document(
                services,
                None,
                meeting_id,
                documents.Upload(pdf, f"{doc_title}.pdf"),
                title=doc_title,
                visibility=Visibility.members,
                agenda_item_id=int(item["id"]),
            )
            progress(f"  {doc_title} ({pages} pages)")
    await _publish(services, meeting_id)

    await seed_archive(services, council.id, progress)
    report = SeedReport(
        council.id, meeting_id, [(u, n, r.value) for u, n, r, _ in people], password
    )
    return report


async def seed_rehearsal(
    services: Services, delegates: int, password: str, progress: Callable[[str], None] = print
) -> SeedReport:
    found = await _existing(services, REHEARSAL_COUNCIL)
    if found is not None:
        found.password = password
        return found
    auth.check_password_strength(password)
    council = await councils.create_council(services, None, c.CreateCouncil(name=REHEARSAL_COUNCIL))
    assert council.id is not None
    names = vietnamese_names(delegates, seed=11)
    people = [
        ("chair", "Chủ tọa diễn tập", Role.chair, "Chủ tọa"),
        ("secretary", "Thư ký diễn tập", Role.secretary, "Thư ký"),
        ("display", "Màn hình hội trường", Role.display, ""),
    ] + [
        (f"delegate{i:03d}", names[i - 1], Role.delegate, "Đại biểu")
        for i in range(1, delegates + 1)
    ]
    progress(f"Creating {len(people)} rehearsal accounts …")
    await _bulk_users(services, people, password, council.id, progress)
    meeting_id = await _meeting(
        services, council.id, "Phiên diễn tập", "Diễn tập", datetime.now(UTC).replace(microsecond=0)
    )
    for title in ("Khai mạc", "Biểu quyết thử", "Thảo luận", "Bế mạc"):
        await agenda.create_item(services, None, meeting_id, c.CreateItem(title=title))
    await _publish(services, meeting_id)
    return SeedReport(council.id, meeting_id, [(u, n, r.value) for u, n, r, _ in people], password)
