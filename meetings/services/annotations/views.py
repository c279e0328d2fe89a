"""How a stored annotation is shown: to its owner, to the meeting, to the domain
(docs/features/annotations.md).

Shared by the sync commands (`sync`), the group-commit writer (`writer`) and carrying to new
versions (`carry`), which all answer with the same shapes.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from meetings.domain.annotations import Annotation, AnnotationKind, TextQuote
from meetings.domain.events import iso
from meetings.services.annotations.events import AnnotationShared
from meetings.services.documents.access import NAMED
from meetings.storage.tables import Document, pk
from meetings.storage.tables_annotations import AnnotationRow


def annotation_data(a: Annotation) -> dict[str, Any]:
    return {
        "color": a.color,
        "opacity": a.opacity,
        "quads": [list(q) for q in a.quads],
        "strokes": [[list(p) for p in s] for s in a.strokes],
        "rect": list(a.rect) if a.rect is not None else None,
        "text": a.text,
        "anchor": asdict(a.anchor) if a.anchor is not None else None,
    }


def annotation_public(row: AnnotationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "document_id": row.document_id,
        "document_version_id": row.version_id,
        "kind": row.kind,
        "page": row.page,
        **row.data,
        "shared": row.shared,
        "version": row.version,
        "deleted": row.deleted,
        "status": row.status,
        "carried_from": row.carried_from,
        "cursor": row.seq,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def to_domain(row: AnnotationRow) -> Annotation:
    """A stored row as the domain model (export); geometry was validated when stored."""
    d = row.data
    anchor = d.get("anchor")
    return Annotation(
        id=row.id,
        document_version_id=str(row.version_id),
        kind=AnnotationKind(row.kind),
        page=row.page,
        color=d.get("color") or "#ffd400",
        opacity=float(d.get("opacity") or 1.0),
        quads=tuple(tuple(q) for q in d.get("quads") or ()),
        strokes=tuple(tuple(tuple(p) for p in s) for s in d.get("strokes") or ()),
        rect=tuple(d["rect"]) if d.get("rect") else None,
        text=d.get("text") or "",
        anchor=TextQuote(**anchor) if anchor else None,
        shared=row.shared,
        version=row.version,
        deleted=row.deleted,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def meeting_body(doc: Document, row: AnnotationRow, public: dict[str, Any]) -> AnnotationShared:
    if doc.visibility in NAMED:  # only those who may read it refetch
        return AnnotationShared(annotation_id=row.id, document_id=pk(doc), restricted=True)
    return AnnotationShared(annotation_id=row.id, document_id=pk(doc), annotation=public)
