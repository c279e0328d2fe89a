"""The secretariat's agenda and documents pages follow what others change (docs/WEBAPP.md, "The
secretariat's meeting pages"): an item the chair adds and a document a colleague uploads appear
on an open page without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import PageFactory, WebApp
from tests.support.upload_pdfs import text_pdf

pytestmark = pytest.mark.browser


async def test_the_agenda_and_documents_pages_show_others_changes(
    fresh_webapp: WebApp, new_page: PageFactory, shot: Any
) -> None:
    app = fresh_webapp
    meeting = f"/desk/meetings/{app.meeting_id}"
    agenda = await new_page(app.secretary, app=app, path=f"{meeting}/agenda")
    documents = await new_page(app.secretary, app=app, path=f"{meeting}/documents")
    for page in (agenda, documents):
        await expect(page.locator("main[data-synced=true]")).to_be_visible()

    chair = await app.token(app.chair)
    status, item, _ = await app.http(
        "POST",
        f"/api/meetings/{app.meeting_id}/agenda",
        token=chair,
        json={"title": "Mục chủ tọa bổ sung giữa giờ"},
    )
    assert status == 201, item
    # in the editor, and in the delegates' preview beside it
    await expect(agenda.locator(f"[data-agenda-handle='{item['id']}']")).to_be_visible()
    await expect(
        agenda.locator("section.preview").get_by_text("Mục chủ tọa bổ sung giữa giờ")
    ).to_be_visible()

    status, doc, _ = await app.http(
        "POST",
        f"/api/meetings/{app.meeting_id}/documents?title=Tờ trình đồng nghiệp tải lên",
        token=await app.token(app.secretary),
        data=text_pdf("colleague"),
        headers={"content-type": "application/pdf"},
    )
    assert status == 201, doc
    await expect(documents.get_by_text("Tờ trình đồng nghiệp tải lên").first).to_be_visible()
    # the agenda the documents page groups by follows too
    status, _, _ = await app.http(
        "PATCH", f"/api/documents/{doc['id']}", token=chair, json={"agenda_item_id": item["id"]}
    )
    assert status == 200
    await expect(
        documents.get_by_role("region", name=f"{item['number']}. Mục chủ tọa bổ sung giữa giờ")
    ).to_be_visible()
    await shot(documents, "desk-documents-live")
    for page in (agenda, documents):
        assert not new_page.errors(page)
