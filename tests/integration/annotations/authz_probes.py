"""Probes of the annotation routes for the authorisation walk (docs/AUTHORIZATION.md,
"Annotations").

Annotations are per user: each probe acts on a version of one of the world's shared documents
(the delegate is a named reader of the restricted and confidential ones, the display is not),
and the annotations it deletes are made fresh through the services, as their owner.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from meetings.domain.model import Visibility
from meetings.services import commands as c
from meetings.services.accounts.auth import actor_for_token
from meetings.services.annotations import sync as annotation_service
from meetings.services.annotations.sync import UpsertAnnotation
from meetings.services.context import Actor
from meetings.services.documents import library as documents
from meetings.services.documents.library import Upload
from meetings.services.sitting import meetings
from meetings.storage.tables import DocumentVersion
from tests.support.authz import Key, Probe, ProbeFactory
from tests.support.upload_pdfs import text_pdf
from tests.support.world import World

V = "/api/document-versions/{version_id}"


async def version_of(w: World, visibility: Visibility = Visibility.members) -> int:
    """The current version of the world's shared document of that visibility."""
    document_id = await w.shared_document(visibility)
    async with w.services.db.reading() as session:
        found = await session.scalar(
            select(col(DocumentVersion.id))
            .where(col(DocumentVersion.document_id) == document_id)
            .order_by(col(DocumentVersion.number).desc())
        )
    assert found is not None
    return int(found)


async def outsider_version(w: World) -> int:
    """A document of the outsider's own council (where the outsider may annotate)."""
    store: dict[str, int] = vars(w).setdefault("_annotation_probes", {})  # dies with the world
    if "outsider_version" not in store:
        create = c.CreateMeeting(council_id=w.outsider_council_id, title="Other sitting")
        meeting_id = int((await meetings.create_meeting(w.services, w.admin, create))["id"])
        await meetings.transition(w.services, w.admin, meeting_id, "publish")
        doc = await documents.upload_document(
            w.services,
            w.admin,
            meeting_id,
            Upload(text_pdf("Other council"), "other.pdf"),
            title="Other council",
            visibility=Visibility.members,
            allowed_user_ids=[],
        )
        store["outsider_version"] = int(doc["current_version"]["id"])
    return store["outsider_version"]


def payload(version_id: int) -> dict[str, Any]:
    """A note, as a tablet would send it (a fresh client-made UUID)."""
    return {
        "id": str(uuid.uuid4()),
        "document_version_id": version_id,
        "kind": "note",
        "page": 0,
        "rect": [72, 600, 96, 624],
        "text": "Ghi chú",
    }


async def actor(w: World, role: str) -> Actor:
    found = await actor_for_token(w.services, w.tokens[role])
    assert found is not None
    return found


async def annotation_of(w: World, role: str) -> str:
    """A fresh annotation owned by `role`, on a document that role may read."""
    version_id = await outsider_version(w) if role == "outsider" else await version_of(w)
    body = UpsertAnnotation(**payload(version_id))
    await annotation_service.upsert(w.services, await actor(w, role), body)
    return body.id


def on_version(suffix: str, visibility: Visibility = Visibility.members) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(f"/api/document-versions/{await version_of(w, visibility)}{suffix}")

    return probe


def fixed(path: str) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        return Probe(path)

    return probe


async def create(w: World, role: str) -> Probe:
    return Probe("/api/annotations", json=payload(await version_of(w)))


async def delete_delegates(w: World, role: str) -> Probe:
    return Probe(f"/api/annotations/{await annotation_of(w, 'delegate')}")


async def delete_own(w: World, role: str) -> Probe:
    if role == "anonymous":
        return await delete_delegates(w, role)
    return Probe(f"/api/annotations/{await annotation_of(w, role)}")


async def search(w: World, role: str) -> Probe:
    await w.shared_document(Visibility.members)
    return Probe(f"/api/meetings/{w.meeting_id}/search?q=probe")


def page_words(visibility: Visibility) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        document_id = await w.shared_document(visibility)
        return Probe(f"/api/documents/{document_id}/pages/0/words")

    return probe


def page_image(visibility: Visibility) -> ProbeFactory:
    async def probe(w: World, role: str) -> Probe:
        document_id = await w.shared_document(visibility)
        return Probe(f"/api/documents/{document_id}/pages/0/image?width=400", expect_json=False)

    return probe


PROBES: dict[Key, ProbeFactory] = {
    ("GET", V + "/annotations", ""): on_version("/annotations"),
    ("GET", V + "/annotations", "restricted"): on_version("/annotations", Visibility.restricted),
    ("GET", "/api/annotations/changes", ""): fixed("/api/annotations/changes?since=0"),
    ("GET", "/api/annotations/orphaned", ""): fixed("/api/annotations/orphaned"),
    ("POST", "/api/annotations", ""): create,
    ("DELETE", "/api/annotations/{annotation_id}", ""): delete_delegates,
    ("DELETE", "/api/annotations/{annotation_id}", "own"): delete_own,
    ("GET", V + "/annotated.pdf", ""): on_version("/annotated.pdf"),
    ("GET", V + "/annotations.jsonld", ""): on_version("/annotations.jsonld"),
    ("GET", "/api/meetings/{meeting_id}/search", ""): search,
    ("GET", "/api/documents/{document_id}/pages/{page}/image", ""): page_image(Visibility.members),
    ("GET", "/api/documents/{document_id}/pages/{page}/image", "confidential"): page_image(
        Visibility.confidential
    ),
    ("GET", "/api/documents/{document_id}/pages/{page}/words", ""): page_words(Visibility.members),
    ("GET", "/api/documents/{document_id}/pages/{page}/words", "confidential"): page_words(
        Visibility.confidential
    ),
}
