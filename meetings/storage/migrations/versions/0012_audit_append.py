"""PostgreSQL: quorum_audit_append, the audit chain extended at the commit in one statement

Revision ID: 0012
Revises: 0011

A unit of work's audit entries are linked at its commit (meetings/storage/uow.py). On
PostgreSQL this function does it where the head row lives: it locks the head, hashes each
entry's canonical JSON (computed by the application) after the previous hash exactly as
`uow.audit_hash` does (sha256 of the UTF-8 text, lower-case hex), inserts the entries and moves
the head. The head's lock then lasts one statement and the COMMIT, not a command's every trip
(docs/ARCHITECTURE.md, "Audit chain"). SQLite has one writer at a time: nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND = """
CREATE OR REPLACE FUNCTION quorum_audit_append(entries json, genesis text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    head_hash text;
    head_count integer;
    entry json;
    link text;
BEGIN
    SELECT hash, count INTO head_hash, head_count FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_head (id, hash, count) VALUES (1, genesis, 0)
            ON CONFLICT (id) DO NOTHING;
        SELECT hash, count INTO head_hash, head_count FROM audit_head WHERE id = 1 FOR UPDATE;
    END IF;
    FOR entry IN SELECT value FROM json_array_elements(entries) LOOP
        link := encode(sha256(convert_to(head_hash || (entry->>'canonical'), 'UTF8')), 'hex');
        INSERT INTO audit_log (at, actor_id, action, target, data, prev_hash, hash)
        VALUES (
            (entry->>'at')::timestamptz,
            (entry->>'actor_id')::integer,
            entry->>'action',
            entry->>'target',
            entry->'data',
            head_hash,
            link
        );
        head_hash := link;
        head_count := head_count + 1;
    END LOOP;
    UPDATE audit_head SET hash = head_hash, count = head_count WHERE id = 1;
    RETURN head_count;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS quorum_audit_append(json, text)")
