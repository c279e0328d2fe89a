"""Tables of the polls subsystem (docs/features/voting.md, "Exactly once", "Secrecy").

Open polls keep one `PollVote` per delegate (who voted what is public by design). Secret polls
keep who has voted (`PollParticipation`) apart from what was voted (`PollBallot`): a ballot has
a random key, a receipt code and the choice, and nothing else: no voter, no time, no sequence.
Both secret tables are SQLite `WITHOUT ROWID` tables so no hidden rowid records insertion order
(see docs/features/voting.md, "Secrecy" for PostgreSQL's physical order and the residual risks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from meetings.storage.clock import utcnow


class Poll(SQLModel, table=True):
    __tablename__ = "polls"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_items.id")
    title: str = Field(max_length=500)
    description: str = Field(default="", max_length=10000)
    kind: str = Field(max_length=20)
    secret: bool = False
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    show_running: bool = False
    """Open polls only: the running tally is pushed while the poll is open."""
    duration_s: int | None = None
    status: str = Field(default="draft", max_length=20)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closes_at: datetime | None = Field(default=None, index=True)
    closed_at: datetime | None = None
    published_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = Field(default="", max_length=1000)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class PollVote(SQLModel, table=True):
    """An open poll's ballot: one row per delegate (unique), replaced when changed."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    choice: Any = Field(default=None, sa_column=Column(JSON, nullable=False))
    cast_at: datetime = Field(default_factory=utcnow)


class PollParticipation(SQLModel, table=True):
    """A secret poll's "has voted": the primary key is the one-ballot-per-delegate guard."""

    __tablename__ = "poll_participation"
    __table_args__ = {"sqlite_with_rowid": False}
    poll_id: int = Field(foreign_key="polls.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)


class PollBallot(SQLModel, table=True):
    """A secret poll's anonymous ballot: random key, receipt, choice. Nothing else."""

    __tablename__ = "poll_ballots"
    __table_args__ = (
        UniqueConstraint("poll_id", "receipt"),
        {"sqlite_with_rowid": False},
    )
    id: str = Field(primary_key=True, max_length=32)
    poll_id: int = Field(foreign_key="polls.id", index=True)
    receipt: str = Field(max_length=40)
    choice: Any = Field(default=None, sa_column=Column(JSON, nullable=False))
