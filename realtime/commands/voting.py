"""Socket.IO commands of the polls subsystem (docs/features/voting.md, "Wire format").

`ballot.cast` handles its idempotency key itself (in the ballot's own batch transaction, see
`services.voting.ballot_box`), so it is registered with `idempotent=False`; the other commands
use the namespace's `once`.
"""

from __future__ import annotations

from typing import Any

from meetings.services.context import Actor
from meetings.services.voting import ballot_box, polls
from meetings.services.voting.commands import CancelPoll, CastBallot, CreatePoll, PollRef
from realtime.protocol import Ctx, SocketCommand


async def create(ctx: Ctx, actor: Actor, cmd: CreatePoll) -> dict[str, Any]:
    return await polls.create_poll(ctx.services, actor, cmd)


async def open_(ctx: Ctx, actor: Actor, cmd: PollRef) -> dict[str, Any]:
    return await polls.open_poll(ctx.services, actor, cmd.poll_id)


async def close(ctx: Ctx, actor: Actor, cmd: PollRef) -> dict[str, Any]:
    return await polls.close_poll(ctx.services, actor, cmd.poll_id)


async def publish(ctx: Ctx, actor: Actor, cmd: PollRef) -> dict[str, Any]:
    return await polls.publish_poll(ctx.services, actor, cmd.poll_id)


async def cancel(ctx: Ctx, actor: Actor, cmd: CancelPoll) -> dict[str, Any]:
    return await polls.cancel_poll(ctx.services, actor, cmd)


async def cast(ctx: Ctx, actor: Actor, cmd: CastBallot) -> dict[str, Any]:
    return await ballot_box.cast(ctx.services, actor, cmd)


COMMANDS: list[SocketCommand] = [
    SocketCommand(
        "poll.create",
        CreatePoll,
        create,
        "Create a poll in draft (chair, secretariat)",
        ack="`poll_id`, `poll`",
    ),
    SocketCommand(
        "poll.open", PollRef, open_, "Open a poll; needs a quorum (chair)", ack="`poll`"
    ),
    SocketCommand(
        "poll.close",
        PollRef,
        close,
        "Close a poll and count it (chair)",
        ack="`poll` (with `result`)",
    ),
    SocketCommand(
        "poll.publish",
        PollRef,
        publish,
        "Publish a closed poll's result (chair)",
        ack="`poll` (with `result`, and `votes` for open polls)",
    ),
    SocketCommand(
        "poll.cancel", CancelPoll, cancel, "Cancel a poll with a reason (chair)", ack="`poll`"
    ),
    SocketCommand(
        "ballot.cast",
        CastBallot,
        cast,
        "Cast or change a ballot; acked after commit (secret polls: with a receipt); its "
        "`idempotency_key` is kept in the ballot's own transaction",
        idempotent=False,
        ack="`poll_id`, `secret`, `changed`, `replayed?`; open polls: `choice`; secret: `receipt`",
    ),
]
