"""SQLModel tables: the database is the source of truth (docs/ARCHITECTURE.md, "Storage").

Times are aware UTC datetimes (sqlmodel's UTCDateTime); the API renders them as ISO 8601 with `Z`.
Ids made by the server are integers; ids made by clients (annotations) are strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

# the other subsystems' tables live beside this module; importing them here registers them
# with the metadata that Alembic and the tests compare against
from meetings.storage import tables_annotations, tables_archive, tables_voting  # noqa: F401
from meetings.storage.clock import utcnow as utcnow  # re-exported: rows and their times together


def as_utc(at: datetime | None) -> datetime | None:
    """Aware times are converted to UTC; naive ones are taken as UTC already."""
    if at is None:
        return None
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def pk(row: Any) -> int:
    """The id of a stored row (ids are None only until the row's first flush)."""
    value = row.id
    if value is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush the session first")
    return int(value)


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    password_hash: str = ""
    # set by the secretariat (a new account, a reset, an imported list): the web app asks the
    # user to choose their own; cleared when they do (docs/features/accounts.md, "Your password")
    temporary_password: bool = False
    is_admin: bool = False
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class AuthToken(SQLModel, table=True):
    __tablename__ = "auth_tokens"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    label: str = Field(default="session", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class CalendarFeed(SQLModel, table=True):
    """A user's secret calendar feed address (docs/features/sitting.md, "Calendar feed"): only
    the sha256 of its random token is kept; a new one replaces it, so the old address ends."""

    __tablename__ = "calendar_feeds"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, max_length=64)
    ip: str = Field(index=True, max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)
    ok: bool = False
    pending: bool = False
    """Reserved before the password check (meetings/services/accounts/login_guard.py): counts
    against its name and address until the check ends; only ended failures count for the address."""


class Council(SQLModel, table=True):
    __tablename__ = "councils"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    short_name: str = Field(default="", max_length=50)
    # quorum: present members must be > (or >= when not strict) num/den of all members
    quorum_num: int = 1
    quorum_den: int = 2
    quorum_strict: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("council_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="councils.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    role: str = Field(max_length=20)
    title: str = Field(default="", max_length=200)
    term_start: date | None = None
    term_end: date | None = None


class Meeting(SQLModel, table=True):
    __tablename__ = "meetings"
    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="councils.id", index=True)
    session_name: str = Field(default="", max_length=300)
    title: str = Field(max_length=300)
    location: str = Field(default="", max_length=300)
    starts_at: datetime | None = None
    status: str = Field(default="draft", max_length=20)
    last_seq: int = 0
    current_item_id: int | None = None
    quorum_num: int = 1
    quorum_den: int = 2
    quorum_strict: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class Participant(SQLModel, table=True):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    voting: bool = True
    attendance: str = Field(default="unknown", max_length=20)
    checked_in_at: datetime | None = None
    recorded_by: int | None = None
    recorded_how: str = Field(default="", max_length=20)
    invited_at: datetime | None = None


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_items"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="agenda_items.id")
    position: int = 0
    title: str = Field(max_length=500)
    description: str = Field(default="", max_length=10000)
    presenter: str = Field(default="", max_length=200)
    duration_minutes: int | None = None
    status: str = Field(default="pending", max_length=20)


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_items.id")
    title: str = Field(max_length=500)
    visibility: str = Field(default="members", max_length=20)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class DocumentVersion(SQLModel, table=True):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    number: int
    sha256: str = Field(max_length=64, index=True)
    size: int
    page_count: int
    page_sizes: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    filename: str = Field(max_length=255)
    uploaded_by: int | None = None
    uploaded_at: datetime = Field(default_factory=utcnow)
    note: str = Field(default="", max_length=1000)


class DocumentPage(SQLModel, table=True):
    __tablename__ = "document_pages"
    __table_args__ = (UniqueConstraint("version_id", "page_no"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="document_versions.id", index=True)
    page_no: int
    text: str = ""
    folded: str = ""


class DocumentAccess(SQLModel, table=True):
    __tablename__ = "document_access"
    __table_args__ = (UniqueConstraint("document_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)


class DocumentRead(SQLModel, table=True):
    """That a user opened a document (reading progress, docs/WEBAPP.md "Reader"): when first
    and last, never which pages."""

    __tablename__ = "document_reads"
    __table_args__ = (UniqueConstraint("document_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    first_opened_at: datetime = Field(default_factory=utcnow)
    last_opened_at: datetime = Field(default_factory=utcnow)


class MeetingEvent(SQLModel, table=True):
    __tablename__ = "meeting_events"
    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id")
    seq: int
    type: str = Field(max_length=60)
    at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any] = json_column()


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = None
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=100)
    data: dict[str, Any] = json_column()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """One row: the newest audit hash, locked while appending so the chain never forks."""

    __tablename__ = "audit_head"
    id: int | None = Field(default=None, primary_key=True)
    hash: str = Field(max_length=64)
    count: int = 0


class CommandResult(SQLModel, table=True):
    """A command's first result, by the caller's idempotency key: retries return it."""

    __tablename__ = "command_results"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    key: str = Field(max_length=100)
    command: str = Field(max_length=60)
    result: dict[str, Any] = json_column()
    created_at: datetime = Field(default_factory=utcnow)


class Speaker(SQLModel, table=True):
    __tablename__ = "speakers"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    item_id: int = Field(foreign_key="agenda_items.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    status: str = Field(default="waiting", max_length=20)
    position: int = 0
    requested_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    time_limit_s: int | None = None


class PresenceWorker(SQLModel, table=True):
    """A server process that reports presence; rows of workers silent too long are dropped."""

    __tablename__ = "presence_workers"
    worker_id: str = Field(primary_key=True, max_length=100)
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow, index=True)


class PresenceRow(SQLModel, table=True):
    """Devices of one user joined to one meeting on one worker (docs/PROTOCOL.md,
    "`update` (volatile, not stored)")."""

    __tablename__ = "presence"
    worker_id: str = Field(primary_key=True, max_length=100)
    meeting_id: int = Field(primary_key=True, index=True)
    user_id: int = Field(primary_key=True)
    devices: int = 1


class PresenceVersion(SQLModel, table=True):
    """Bumped (row locked) by every presence flush: orders presence updates across workers."""

    __tablename__ = "presence_versions"
    meeting_id: int = Field(primary_key=True)
    version: int = 0
