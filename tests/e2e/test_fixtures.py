"""The shared browser-test fixtures work under the app's CSP (tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import Error as PlaywrightError

from tests.e2e.conftest import WebApp, format_violations

pytestmark = pytest.mark.browser


async def test_page_axe_and_screenshot(webapp: WebApp, new_page, axe, shot) -> None:
    page = await new_page(webapp.chair, path="/")
    assert await page.evaluate("document.documentElement.lang") in ("vi", "en")
    assert not new_page.errors(page)
    # the CSP refuses inline scripts, so axe cannot be added with a <script> tag ...
    with pytest.raises(PlaywrightError):
        await page.add_script_tag(content="window.__inline = 1")
    assert await page.evaluate("typeof window.__inline") == "undefined"
    # ... and the fixture evaluates it through the DevTools protocol instead
    violations = await axe(page)
    assert isinstance(violations, list), format_violations(violations)
    path = await shot(page, "fixtures-home")
    assert path.stat().st_size > 1000
    assert any("Content Security Policy" in e for e in new_page.errors(page))


async def test_server_reachable_in_both_ways(webapp: WebApp) -> None:
    status, me, _ = await webapp.http("GET", "/api/auth/me", token=await webapp.token("chair"))
    assert status == 200 and me["username"] == "chair"

    async def meeting_title(services) -> str:
        from meetings.storage.tables import Meeting

        async with services.db.reading() as session:
            meeting = await session.get(Meeting, webapp.meeting_id)
            return str(meeting.title)

    assert await webapp.in_server(meeting_title) == "Phiên diễn tập"
