"""Each user's calendar feed of their meetings (docs/features/sitting.md, "Calendar feed").

A calendar application subscribes to a secret address, `{public_url}/api/calendar/{token}.ics`,
and fetches it without a login; so the token is not the login token but its own random value
(256 bits), made on request and stored as its sha256 only: the address is shown once, and a
new one replaces it (the old address then answers 404). The feed lists the meetings the user may
see from publication on: each with a UID stable for the meeting's life, its times in UTC, and a
SEQUENCE and LAST-MODIFIED that change with each change of it (from the meeting's event log), so
a calendar updates the event it holds. A meeting published then withdrawn (unpublished) stays as
CANCELLED, so calendars remove it instead of keeping a sitting that will not happen. A
deactivated account's feed answers 404 like an unknown one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from meetings.domain.errors import NotFound
from meetings.domain.ical import CalendarEvent, render_calendar
from meetings.domain.model import MeetingStatus, Role
from meetings.services.accounts.auth import load_actor
from meetings.services.context import Actor, Services
from meetings.services.loading import may_see_meeting
from meetings.services.sitting.events import MeetingStatusChanged, MeetingUpdated
from meetings.storage.tables import (
    AgendaItem,
    CalendarFeed,
    Council,
    Meeting,
    MeetingEvent,
    User,
    utcnow,
)

FEED_PREFIX = "qcal_"
DEFAULT_LENGTH = timedelta(hours=3)
"""A meeting's length when its agenda gives no durations (a half-day sitting)."""
CHANGES = (MeetingUpdated.TYPE, MeetingStatusChanged.TYPE)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(services: Services, token: str) -> str:
    return f"{services.settings.public_url.rstrip('/')}/api/calendar/{token}.ics"


async def feed_status(services: Services, actor: Actor) -> dict[str, Any]:
    """Whether the caller has a feed address (the address itself is shown only when made)."""
    async with services.db.reading() as session:
        feed = (
            await session.execute(
                select(CalendarFeed).where(col(CalendarFeed.user_id) == actor.user_id)
            )
        ).scalar_one_or_none()
    return {
        "active": feed is not None,
        "created_at": feed.created_at.isoformat().replace("+00:00", "Z") if feed else None,
    }


async def new_feed(services: Services, actor: Actor) -> dict[str, Any]:
    """A new secret address for the caller's feed; the previous one stops working."""
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    async with services.uow() as uow:
        feed = (
            await uow.session.execute(
                select(CalendarFeed)
                .where(col(CalendarFeed.user_id) == actor.user_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if feed is None:
            feed = CalendarFeed(user_id=actor.user_id, token_hash=_digest(token))
            uow.session.add(feed)
        else:
            feed.token_hash, feed.created_at = _digest(token), utcnow()
        await uow.audit(actor.user_id, "calendar.feed", f"user:{actor.user_id}")
        await uow.commit()
    return {"active": True, "url": feed_url(services, token)}


async def revoke_feed(services: Services, actor: Actor) -> None:
    async with services.uow() as uow:
        feed = (
            await uow.session.execute(
                select(CalendarFeed).where(col(CalendarFeed.user_id) == actor.user_id)
            )
        ).scalar_one_or_none()
        if feed is not None:
            await uow.session.delete(feed)
            await uow.audit(actor.user_id, "calendar.revoke", f"user:{actor.user_id}")
        await uow.commit()


def _page(meeting: Meeting, role: Role | None) -> str:
    if role in (Role.chair, Role.secretary):
        return f"/m/{meeting.id}/chair"
    if role == Role.display:
        return f"/m/{meeting.id}/display"
    return f"/m/{meeting.id}"


async def render_feed(services: Services, token: str) -> str:
    """The feed's text for a secret token; `not_found` for an unknown or ended one."""
    if not token.startswith(FEED_PREFIX) or len(token) > 100:
        raise NotFound("no such calendar")
    async with services.db.reading() as session:
        row = (
            await session.execute(
                select(CalendarFeed, User)
                .join(User, col(User.id) == col(CalendarFeed.user_id))
                .where(col(CalendarFeed.token_hash) == _digest(token))
            )
        ).first()
        if row is None or not row[1].is_active:
            raise NotFound("no such calendar")
        actor = await load_actor(session, row[1])
        query = select(Meeting).where(col(Meeting.starts_at).is_not(None))
        if not actor.is_admin:
            query = query.where(col(Meeting.council_id).in_(list(actor.roles)))
        meetings = list((await session.execute(query.order_by(col(Meeting.starts_at)))).scalars())
        ids = [m.id for m in meetings]
        changes: dict[int, list[datetime]] = defaultdict(list)
        for meeting_id, kind, at in (
            await session.execute(
                select(col(MeetingEvent.meeting_id), col(MeetingEvent.type), col(MeetingEvent.at))
                .where(col(MeetingEvent.meeting_id).in_(ids))
                .where(col(MeetingEvent.type).in_(CHANGES))
            )
        ).all():
            changes[meeting_id].append(at)
            if kind == MeetingStatusChanged.TYPE:
                changes[-meeting_id].append(at)  # withdrawn drafts were once published
        lengths = dict(
            (
                await session.execute(
                    select(col(AgendaItem.meeting_id), func.sum(AgendaItem.duration_minutes))
                    .where(col(AgendaItem.meeting_id).in_(ids))
                    .where(col(AgendaItem.parent_id).is_(None))
                    .group_by(col(AgendaItem.meeting_id))
                )
            ).all()
        )
        councils = {
            c.id: c.name
            for c in (
                await session.execute(
                    select(Council).where(col(Council.id).in_({m.council_id for m in meetings}))
                )
            ).scalars()
        }
    events = []
    base = services.settings.public_url.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "quorum"
    for m in meetings:
        assert m.id is not None and m.starts_at is not None
        withdrawn = m.status == MeetingStatus.draft
        if withdrawn and not changes.get(-m.id):
            continue  # a draft never published: not the members' business yet
        if not withdrawn and not may_see_meeting(actor, m):
            continue
        minutes = int(lengths.get(m.id) or 0)
        times = changes.get(m.id, [])
        events.append(
            CalendarEvent(
                uid=f"meeting-{m.id}@{host}",
                start=m.starts_at,
                end=m.starts_at + (timedelta(minutes=minutes) if minutes else DEFAULT_LENGTH),
                summary=m.title,
                stamp=max([m.created_at, *times]),
                sequence=len(times),
                location=m.location,
                description="\n".join(x for x in (councils.get(m.council_id), m.session_name) if x),
                url=base + _page(m, actor.role_in(m.council_id)),
                cancelled=withdrawn,
            )
        )
    return render_calendar(f"Quorum — {actor.name}", events)
