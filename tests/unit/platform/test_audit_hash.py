"""The audit chain's link function: deterministic, order-independent keys, sensitive to content."""

from __future__ import annotations

from datetime import UTC, datetime

from meetings.storage.audit import AuditReport
from meetings.storage.tables import AuditEntry, pk
from meetings.storage.uow import GENESIS_HASH, audit_hash, audit_payload


def entry(**changes: object) -> AuditEntry:
    fields: dict[str, object] = {
        "at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        "actor_id": 7,
        "action": "meeting.open",
        "target": "meeting:3",
        "data": {"b": 1, "a": "Hội đồng"},
        "prev_hash": GENESIS_HASH,
        "hash": "",
    }
    fields.update(changes)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def test_hash_is_deterministic_and_ignores_key_order() -> None:
    one = audit_hash(GENESIS_HASH, audit_payload(entry()))
    two = audit_hash(GENESIS_HASH, audit_payload(entry(data={"a": "Hội đồng", "b": 1})))
    assert one == two and len(one) == 64


def test_every_field_and_the_previous_hash_change_the_link() -> None:
    base = audit_hash(GENESIS_HASH, audit_payload(entry()))
    variants = [
        entry(actor_id=8),
        entry(action="meeting.close"),
        entry(target="meeting:4"),
        entry(data={"b": 2, "a": "Hội đồng"}),
        entry(at=datetime(2026, 11, 23, 9, 0, 1, tzinfo=UTC)),
    ]
    hashes = {audit_hash(GENESIS_HASH, audit_payload(v)) for v in variants}
    assert base not in hashes and len(hashes) == len(variants)
    assert audit_hash("1" * 64, audit_payload(entry())) != base


def test_report_summary() -> None:
    assert "intact: 3" in AuditReport(True, 3).summary()
    broken = AuditReport(False, 2, 9, "its content does not match its hash").summary()
    assert "entry 9" in broken and "2 good" in broken


def test_pk_refuses_unflushed_rows() -> None:
    import pytest

    with pytest.raises(RuntimeError, match="flush"):
        pk(entry())
    assert pk(entry(id=5)) == 5
