"""Socket.IO commands of the annotations subsystem (docs/features/annotations.md, "Sync").

`annotation.upsert` and `annotation.delete` are public API (docs/PROTOCOL.md, "Stable
names"); `annotation.sync` fetches the caller's changes after a cursor. The sending socket
is left out of the `annotation_changed` user event: its ack carries the result.
"""

from __future__ import annotations

from typing import Any

from meetings.services.annotations import sync as service
from meetings.services.annotations.sync import DeleteAnnotation, SyncAnnotations, UpsertAnnotation
from meetings.services.context import Actor
from realtime.protocol import Ctx, SocketCommand


async def upsert(ctx: Ctx, actor: Actor, cmd: UpsertAnnotation) -> dict[str, Any]:
    return await service.upsert(ctx.services, actor, cmd, ctx.sid)


async def delete(ctx: Ctx, actor: Actor, cmd: DeleteAnnotation) -> dict[str, Any]:
    return await service.delete(ctx.services, actor, cmd.annotation_id, ctx.sid)


async def sync(ctx: Ctx, actor: Actor, cmd: SyncAnnotations) -> dict[str, Any]:
    return await service.changes_since(ctx.services, actor, cmd.since, cmd.limit)


COMMANDS: list[SocketCommand] = [
    SocketCommand(
        "annotation.upsert",
        UpsertAnnotation,
        upsert,
        "Create or change one of the caller's annotations (base_version: optimistic)",
        ack="`annotation`, `cursor`",
    ),
    SocketCommand(
        "annotation.delete",
        DeleteAnnotation,
        delete,
        "Delete an annotation (a tombstone)",
        ack="`annotation` (the tombstone), `cursor`",
    ),
    SocketCommand(
        "annotation.sync",
        SyncAnnotations,
        sync,
        "The caller's annotation changes after cursor `since`",
        idempotent=False,
        ack="`annotations` (oldest first, tombstones included), `cursor`, `more`",
    ),
]
