"""Agenda items: ordered, nested, and the chair's current item (docs/features/sitting.md, "Agenda").

Every change emits `agenda_changed` with the whole agenda (it is small), so a client that
applies it always converges, whatever it missed before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from meetings.domain.errors import Conflict, InvalidInput
from meetings.domain.events import iso
from meetings.domain.model import EDITABLE_MEETING, ItemStatus, MeetingStatus, agenda_numbers
from meetings.services import commands as c
from meetings.services.context import Actor, Services
from meetings.services.loading import get_item, get_meeting
from meetings.services.sitting.events import AgendaChanged, CurrentItemChanged, SpeakersChanged
from meetings.storage.tables import AgendaItem, Document, Meeting, Speaker, pk, utcnow
from meetings.storage.tables_archive import Resolution
from meetings.storage.tables_voting import Poll
from meetings.storage.uow import UnitOfWork

MAX_DEPTH = 3


async def agenda_of(session: AsyncSession, meeting_id: int) -> list[dict[str, Any]]:
    items = (
        (
            await session.execute(
                select(AgendaItem)
                .where(col(AgendaItem.meeting_id) == meeting_id)
                .order_by(col(AgendaItem.parent_id), col(AgendaItem.position), col(AgendaItem.id))
            )
        )
        .scalars()
        .all()
    )
    numbers = agenda_numbers(
        [(str(i.id), str(i.parent_id) if i.parent_id else None, i.position) for i in items]
    )
    out = [
        {
            "id": i.id,
            "parent_id": i.parent_id,
            "position": i.position,
            "number": numbers.get(str(i.id), ""),
            "title": i.title,
            "description": i.description,
            "presenter": i.presenter,
            "duration_minutes": i.duration_minutes,
            "status": i.status,
        }
        for i in items
    ]
    out.sort(key=lambda row: [int(part) for part in str(row["number"]).split(".") if part])
    return out


async def _siblings(
    session: AsyncSession, meeting_id: int, parent_id: int | None
) -> list[AgendaItem]:
    query = select(AgendaItem).where(col(AgendaItem.meeting_id) == meeting_id)
    query = query.where(
        col(AgendaItem.parent_id).is_(None)
        if parent_id is None
        else col(AgendaItem.parent_id) == parent_id
    )
    return list(
        (
            await session.execute(query.order_by(col(AgendaItem.position), col(AgendaItem.id)))
        ).scalars()
    )


async def _place(
    session: AsyncSession,
    meeting_id: int,
    item: AgendaItem,
    parent_id: int | None,
    position: int | None,
) -> None:
    """Put `item` among `parent_id`'s children at `position` and renumber the siblings 0..n."""
    siblings = [s for s in await _siblings(session, meeting_id, parent_id) if s.id != item.id]
    index = len(siblings) if position is None else min(position, len(siblings))
    siblings.insert(index, item)
    item.parent_id = parent_id
    for i, sibling in enumerate(siblings):
        sibling.position = i


async def _editable(uow: UnitOfWork, actor: Actor, meeting_id: int) -> Meeting:
    meeting = await get_meeting(uow.session, actor, meeting_id, lock=True)
    actor.require_staff(meeting.council_id)
    if meeting.status not in EDITABLE_MEETING:
        raise Conflict(
            f"the agenda of a {meeting.status} meeting cannot change", code="meeting_locked"
        )
    return meeting


async def _check_parent(
    uow: UnitOfWork, meeting: Meeting, parent_id: int | None, moving: AgendaItem | None = None
) -> None:
    """The parent exists in this meeting, is not `moving` or below it, and `moving` with its
    whole subtree still fits within MAX_DEPTH levels under it."""
    if parent_id is None:
        return
    await get_item(uow.session, meeting, parent_id)
    rows = await uow.session.execute(
        select(col(AgendaItem.id), col(AgendaItem.parent_id)).where(
            col(AgendaItem.meeting_id) == meeting.id
        )
    )
    parents: dict[int, int | None] = {pk(row): row.parent_id for row in rows.all()}
    depth, node = 0, parents.get(parent_id)  # levels above the parent
    chain = {parent_id}
    while node is not None:
        chain.add(node)
        depth += 1
        node = parents.get(node)
    if moving is not None and moving.id in chain:
        raise InvalidInput("an item cannot move under itself or its sub-items", code="cycle")
    height = 0  # levels below `moving`
    if moving is not None:
        frontier = {moving.id}
        while frontier:
            frontier = {i for i, p in parents.items() if p in frontier}
            height += 1 if frontier else 0
    if depth + 1 + height >= MAX_DEPTH:
        raise InvalidInput(f"agenda items nest at most {MAX_DEPTH} levels deep", code="too_deep")


async def _changed(uow: UnitOfWork, meeting_id: int) -> list[dict[str, Any]]:
    await uow.session.flush()
    agenda = await agenda_of(uow.session, meeting_id)
    await uow.emit(meeting_id, AgendaChanged.model_validate({"items": agenda}))
    return agenda


async def list_agenda(services: Services, actor: Actor, meeting_id: int) -> list[dict[str, Any]]:
    async with services.db.reading() as session:
        await get_meeting(session, actor, meeting_id)
        return await agenda_of(session, meeting_id)


async def create_item(
    services: Services, actor: Actor | None, meeting_id: int, cmd: c.CreateItem
) -> dict[str, Any]:
    async with services.uow() as uow:
        if actor is None:  # local CLI (demo seeding)
            meeting = await uow.session.get(Meeting, meeting_id)
            assert meeting is not None
        else:
            meeting = await _editable(uow, actor, meeting_id)
        await _check_parent(uow, meeting, cmd.parent_id)
        item = AgendaItem(
            meeting_id=meeting_id, **cmd.model_dump(exclude={"parent_id", "position"})
        )
        uow.session.add(item)
        await uow.session.flush()
        await _place(uow.session, meeting_id, item, cmd.parent_id, cmd.position)
        agenda = await _changed(uow, meeting_id)
        await uow.commit()
        return next(row for row in agenda if row["id"] == item.id)


async def update_item(
    services: Services, actor: Actor, meeting_id: int, item_id: int, cmd: c.UpdateItem
) -> dict[str, Any]:
    async with services.uow() as uow:
        meeting = await _editable(uow, actor, meeting_id)
        item = await get_item(uow.session, meeting, item_id)
        for key, value in cmd.model_dump(exclude_unset=True).items():
            setattr(item, key, value)
        agenda = await _changed(uow, meeting_id)
        await uow.commit()
        return next(row for row in agenda if row["id"] == item.id)


async def move_item(
    services: Services, actor: Actor, meeting_id: int, item_id: int, cmd: c.MoveItem
) -> list[dict[str, Any]]:
    async with services.uow() as uow:
        meeting = await _editable(uow, actor, meeting_id)
        item = await get_item(uow.session, meeting, item_id)
        await _check_parent(uow, meeting, cmd.parent_id, moving=item)
        old_parent = item.parent_id
        await _place(uow.session, meeting_id, item, cmd.parent_id, cmd.position)
        if old_parent != cmd.parent_id:
            for i, sibling in enumerate(await _siblings(uow.session, meeting_id, old_parent)):
                if sibling.id != item.id:
                    sibling.position = i
        agenda = await _changed(uow, meeting_id)
        await uow.commit()
        return agenda


async def delete_item(services: Services, actor: Actor, meeting_id: int, item_id: int) -> None:
    async with services.uow() as uow:
        meeting = await _editable(uow, actor, meeting_id)
        item = await get_item(uow.session, meeting, item_id)
        if await _siblings(uow.session, meeting_id, item.id):
            raise Conflict("delete or move the item's sub-items first", code="has_children")
        if meeting.current_item_id == item.id:
            raise Conflict("the current item cannot be deleted", code="current_item")
        await _release(uow, meeting_id, item_id)
        await uow.session.delete(item)
        await uow.session.flush()
        for i, sibling in enumerate(await _siblings(uow.session, meeting_id, item.parent_id)):
            sibling.position = i
        await _changed(uow, meeting_id)
        await uow.audit(actor.user_id, "agenda.delete", f"item:{item_id}", {"title": item.title})
        await uow.commit()


async def _release(uow: UnitOfWork, meeting_id: int, item_id: int) -> None:
    """Refuse (409 `item_in_use`) while a poll, resolution, document or speaker request that
    is not withdrawn refers to the item; withdrawn requests go with it, and deleted documents
    are detached (docs/API.md, "Resources")."""
    session = uow.session
    polls = (await session.execute(select(Poll).where(col(Poll.agenda_item_id) == item_id))).all()
    resolutions = (
        await session.execute(select(Resolution).where(col(Resolution.agenda_item_id) == item_id))
    ).all()
    documents = list(
        (
            await session.execute(select(Document).where(col(Document.agenda_item_id) == item_id))
        ).scalars()
    )
    speakers = list(
        (await session.execute(select(Speaker).where(col(Speaker.item_id) == item_id))).scalars()
    )
    live_documents = [d for d in documents if d.deleted_at is None]
    requests = [s for s in speakers if s.status != "withdrawn"]
    refs = {
        "polls": len(polls),
        "resolutions": len(resolutions),
        "documents": len(live_documents),
        "speaker_requests": len(requests),
    }
    if any(refs.values()):
        named = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in refs.items() if n)
        raise Conflict(
            f"the item is referred to by {named}; move or remove them first",
            code="item_in_use",
            details={what: n for what, n in refs.items() if n},
        )
    for document in documents:
        document.agenda_item_id = None
    for speaker in speakers:
        await session.delete(speaker)
    if speakers:
        await session.flush()
        data = {"item_id": item_id, "speakers": [], "server_time": iso(utcnow())}
        await uow.emit(meeting_id, SpeakersChanged.model_validate(data))


async def set_current(services: Services, actor: Actor, cmd: c.SetCurrentItem) -> dict[str, Any]:
    """The chair moves the sitting to an item (or to none); the previous one is marked done."""
    async with services.uow() as uow:
        meeting = await get_meeting(uow.session, actor, cmd.meeting_id, lock=True)
        actor.require_chair(meeting.council_id)
        if meeting.status != MeetingStatus.open:
            raise Conflict(
                "open the sitting before moving through the agenda", code="meeting_not_open"
            )
        if cmd.item_id is not None:
            item = await get_item(uow.session, meeting, cmd.item_id)
        if meeting.current_item_id == cmd.item_id:
            return {"item_id": cmd.item_id, "unchanged": True}
        previous_id = meeting.current_item_id
        if previous_id is not None:
            previous = await uow.session.get(AgendaItem, previous_id)
            if previous is not None:
                previous.status = ItemStatus.done.value
        if cmd.item_id is not None:
            item.status = ItemStatus.current.value
        meeting.current_item_id = cmd.item_id
        # one event says it all: the previous item is done, the new one current (clients set
        # both statuses); the whole agenda is not re-sent to every tablet on each move
        await uow.emit(
            pk(meeting), CurrentItemChanged(item_id=cmd.item_id, previous_item_id=previous_id)
        )
        await uow.commit()
        return {"item_id": cmd.item_id}
