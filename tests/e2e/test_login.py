"""Login and my meetings in the browser (docs/WEBAPP.md, "Login and my meetings").

The words are read from the message catalogue (frontend/messages/common), so a test says which
message must show, not its spelling.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import Page, Request, expect

from tests.e2e.conftest import FRONTEND, LOCALE_KEY, PageFactory, WebApp, format_violations
from tests.support.bundles import first_load, url_of

pytestmark = pytest.mark.browser

CATALOGUE = {
    locale: json.loads((FRONTEND / "messages" / "common" / f"{locale}.json").read_text("utf-8"))
    for locale in ("vi", "en")
}
VIEWPORTS = {"landscape": (1280, 800), "portrait": (800, 1280)}


def msg(locale: str, key: str, **params: str) -> str:
    text: str = CATALOGUE[locale][key]
    for name, value in params.items():
        text = text.replace("{" + name + "}", value)
    return text


def fixed_parts(locale: str) -> dict[str, str]:
    """Each message's longest literal run (the words around its {placeholders})."""
    parts = {}
    for key, text in CATALOGUE[locale].items():
        if key.startswith("$"):
            continue
        longest = max(re.split(r"\{[^}]*\}", text), key=len).strip(" :—")
        parts[key] = longest
    return parts


async def visible_text(page: Page) -> str:
    """The page's words but the live regions' (which say what just happened)."""
    text: str = await page.evaluate(
        "[...document.querySelectorAll('header, main')].map(e => e.innerText).join('\\n')"
    )
    return text


async def token_of(page: Page) -> str:
    cookies = await page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == "quorum_session")


async def fill_login(page: Page, username: str, password: str) -> None:
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.locator("form button[type=submit]").click()


async def login_until_busy(
    page: Page, locale: str, username: str, password: str, answers: list[int] | None = None
) -> None:
    """Logs in until the server answers `busy`. The flood keeps its login queue full, yet a login
    can land in the instant between one hash ending and the next caller taking the free place,
    and get in (it happened in one CI run): that page logs out and tries again."""
    for _ in range(8):
        await fill_login(page, username, password)
        waiting = page.get_by_test_id("login-waiting")
        signed_in = page.locator("li.meeting").first
        await expect(waiting.or_(signed_in)).to_be_visible(timeout=30_000)
        if await waiting.is_visible():
            return
        await page.get_by_role("button", name=msg(locale, "common_logout")).click()
        await page.wait_for_url(re.compile(r"/login$"))
        if answers is not None:
            answers.clear()  # the login that got in was answered before the logout was sent
    raise AssertionError("eight logins in a row got past a full login queue")


async def test_wrong_password_is_said_and_focus_returns_to_the_password(
    webapp: WebApp, new_page: PageFactory
) -> None:
    page = await new_page(None, path="/login")
    await fill_login(page, "visitor", "not-the-password")
    error = page.locator("#login-error")
    await expect(error).to_have_text(msg("vi", "common_login_bad_credentials"))
    await expect(error).to_have_attribute("role", "alert")
    await expect(page.locator("#password")).to_be_focused()
    await expect(page.locator("#password")).to_have_value("")
    await expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/login")
    # nothing typed: said before asking the server
    await page.locator("#username").fill("")
    await page.locator("form button[type=submit]").click()
    await expect(error).to_have_text(msg("vi", "common_login_missing"))
    assert not new_page.errors(page)


async def test_too_many_attempts_says_to_wait(
    webapp_factory: Any, new_page: PageFactory
) -> None:
    app: WebApp = await webapp_factory(login_attempts=2)
    page = await new_page(None, path="/login", app=app)
    for _ in range(2):
        await fill_login(page, "delegate003", "wrong-password")
        await expect(page.locator("#login-error")).to_have_attribute(
            "data-failure", "bad_credentials"
        )
    # the right password too is refused until the window passes (docs/API.md)
    await fill_login(page, "delegate003", app.password)
    error = page.locator("#login-error")
    await expect(error).to_have_attribute("data-failure", "rate_limited")
    said = (await error.inner_text()).strip()
    assert said in (
        msg("vi", "common_login_rate_limited"),
    ) or said.startswith(msg("vi", "common_login_rate_limited_until").split("{")[0]), said
    assert page.url.endswith("/login")


async def test_rest_rate_limit_shows_until_when(
    webapp_factory: Any, new_page: PageFactory
) -> None:
    """The REST limiter's 429 carries Retry-After: the page says until when to wait."""
    app: WebApp = await webapp_factory(http_rate=0.02, http_burst=2)
    page = await new_page(None, path="/login", app=app, locale="en")
    error = page.locator("#login-error")
    for _ in range(4):
        await fill_login(page, "visitor", "wrong-password")
        await expect(error).not_to_have_attribute("data-failure", "")
        if await error.get_attribute("data-failure") == "rate_limited":
            break
    await expect(error).to_have_attribute("data-failure", "rate_limited")
    before, _ = msg("en", "common_login_rate_limited_until").split("{time}")
    await expect(error).to_contain_text(before)
    assert re.search(r"\d\d:\d\d:\d\d", await error.inner_text())


async def test_server_down_is_said(fresh_webapp: WebApp, new_page: PageFactory) -> None:
    page = await new_page(None, path="/login", app=fresh_webapp)
    await page.locator("#username").wait_for()
    await fresh_webapp.stop()
    await fill_login(page, "chair", fresh_webapp.password)
    error = page.locator("#login-error")
    await expect(error).to_have_text(msg("vi", "common_login_server_down"))
    await expect(error).to_have_attribute("data-failure", "server_down")


async def test_login_lists_the_rehearsal_meeting_and_links_by_role(
    webapp: WebApp, new_page: PageFactory
) -> None:
    page = await new_page(None, path="/login")
    await fill_login(page, webapp.delegates[0], webapp.password)
    await page.wait_for_url(webapp.url("/"))
    card = page.locator(f'li.meeting[data-meeting-id="{webapp.meeting_id}"]')
    await expect(card.get_by_role("link")).to_have_text("Phiên diễn tập")
    await expect(card.get_by_role("link")).to_have_attribute("href", f"/m/{webapp.meeting_id}")
    await expect(card).to_contain_text(msg("vi", "common_your_role",
                                           role=msg("vi", "common_role_delegate")))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg("vi", "common_meetings_title")
    )
    expected = {
        webapp.chair: f"/m/{webapp.meeting_id}/chair",
        webapp.secretary: f"/m/{webapp.meeting_id}/chair",
        webapp.display: f"/m/{webapp.meeting_id}/display",
    }
    for username, href in expected.items():
        other = await new_page(username)
        link = other.locator(f'li.meeting[data-meeting-id="{webapp.meeting_id}"] h2 a')
        await expect(link).to_have_attribute("href", href)
    assert not new_page.errors(page)


async def test_login_goes_to_next(webapp: WebApp, new_page: PageFactory) -> None:
    page = await new_page(None, path="/login?next=%2F%3Fshown%3D1")
    await fill_login(page, webapp.chair, webapp.password)
    await page.wait_for_url(webapp.url("/?shown=1"))
    # never off the site
    page = await new_page(None, path="/login?next=%2F%2Fexample.org%2F")
    await fill_login(page, webapp.chair, webapp.password)
    await page.wait_for_url(webapp.url("/"))


async def test_language_switch_changes_every_word_and_is_kept(
    webapp: WebApp, new_page: PageFactory
) -> None:
    page = await new_page(webapp.delegates[1])
    await page.locator("li.meeting").first.wait_for()
    vietnamese = await visible_text(page)
    assert await page.evaluate("document.documentElement.lang") == "vi"

    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg("en", "common_meetings_title")
    )
    assert await page.evaluate("document.documentElement.lang") == "en"
    english = await visible_text(page)
    leftovers = [
        part for key, part in fixed_parts("vi").items()
        if len(part) >= 4 and part != fixed_parts("en")[key] and part in english
    ]
    assert not leftovers, f"Vietnamese left on the English page: {leftovers}"
    assert "Chủ Nhật" not in english and "tháng" not in english  # the date too
    await expect(page.get_by_role("button", name="English")).to_have_attribute(
        "aria-pressed", "true"
    )
    # said in the polite live region, in the new language
    await expect(page.locator("[data-live=polite]")).to_have_text(
        msg("en", "common_switched_language")
    )

    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg("en", "common_meetings_title")
    )
    assert await page.evaluate(f"localStorage.getItem('{LOCALE_KEY}')") == "en"

    await page.get_by_role("button", name="Tiếng Việt").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg("vi", "common_meetings_title")
    )
    # the same words as before the round trip; a status in the header may still be settling
    # (connecting, the outbox), so the comparison is given a few seconds to agree
    for _ in range(50):
        if await visible_text(page) == vietnamese:
            break
        await asyncio.sleep(0.1)
    assert await visible_text(page) == vietnamese
    assert not new_page.errors(page)


async def test_ended_session_returns_to_login_with_a_message(
    webapp: WebApp, new_page: PageFactory
) -> None:
    page = await new_page(webapp.delegates[2])
    await page.locator("li.meeting").first.wait_for()
    # signed out elsewhere: the page's own token revoked from another client
    status, _, _ = await webapp.http("POST", "/api/auth/logout", token=await token_of(page))
    assert status == 200
    deep = f"/m/{webapp.meeting_id}"
    await page.goto(deep)
    await page.wait_for_url(re.compile(r"/login\?"))
    assert "expired=1" in page.url and "next=%2Fm%2F" in page.url
    await expect(page.get_by_test_id("login-expired")).to_have_text(
        msg("vi", "common_login_expired")
    )
    # signing in again goes back where the user was
    await fill_login(page, webapp.delegates[2], webapp.password)
    await page.wait_for_url(webapp.url(deep))
    assert not new_page.errors(page)


async def test_ended_session_noticed_by_an_api_call(
    webapp: WebApp, new_page: PageFactory
) -> None:
    """The page is open when the session ends: its next API call (the list refreshed when the
    tablet wakes) takes it to the login page, with the message."""
    page = await new_page(webapp.delegates[3])
    await page.locator("li.meeting").first.wait_for()
    status, _, _ = await webapp.http("POST", "/api/auth/logout", token=await token_of(page))
    assert status == 200
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await page.wait_for_url(re.compile(r"/login\?expired=1$"))
    await expect(page.get_by_test_id("login-expired")).to_have_text(
        msg("vi", "common_login_expired")
    )
    assert not new_page.errors(page)


async def test_logout_then_a_plain_login(webapp: WebApp, new_page: PageFactory) -> None:
    page = await new_page(webapp.delegates[4])
    await page.get_by_role("button", name=msg("vi", "common_logout")).click()
    await page.wait_for_url(re.compile(r"/login$"))
    await expect(page.get_by_test_id("login-expired")).to_have_count(0)
    # the token is revoked and the cookies are gone: a later visit is a plain login, no message
    assert not [c for c in await page.context.cookies() if c["name"].startswith("quorum_")]
    await page.goto("/")
    await page.wait_for_url(re.compile(r"/login$"))
    await expect(page.locator("#username")).to_be_visible()
    await expect(page.get_by_test_id("login-expired")).to_have_count(0)


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
async def test_views_pass_axe_and_are_pictured(
    webapp: WebApp, new_page: PageFactory, axe: Any, shot: Any, locale: str, orientation: str
) -> None:
    size = VIEWPORTS[orientation]
    page = await new_page(None, size, locale, path="/login?expired=1")
    await page.locator("#username").wait_for()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg(locale, "common_login_title")
    )
    await shot(page, f"login-{locale}-{orientation}")
    violations = await axe(page)
    assert not violations, format_violations(violations)

    await fill_login(page, "visitor", "wrong-password")
    await expect(page.locator("#login-error")).to_have_text(
        msg(locale, "common_login_bad_credentials")
    )
    await shot(page, f"login-error-{locale}-{orientation}")
    violations = await axe(page)
    assert not violations, format_violations(violations)

    page = await new_page(webapp.delegates[0], size, locale)
    await page.locator("li.meeting").first.wait_for()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        msg(locale, "common_meetings_title")
    )
    await shot(page, f"meetings-{locale}-{orientation}")
    violations = await axe(page)
    assert not violations, format_violations(violations)
    assert not new_page.errors(page)


async def test_first_load_fetches_what_the_budget_measures(
    webapp: WebApp, new_page: PageFactory
) -> None:
    """The JS budget (tests/integration/platform/test_webapp_serving.py) counts exactly what
    chromium fetches for the login page and then my meetings."""
    page = await new_page(None, path=None)
    fetched: set[str] = set()
    page.on("request", lambda r: fetched.add(urlsplit(r.url).path)
            if urlsplit(r.url).path.endswith(".js") else None)
    await page.goto("/login")
    await fill_login(page, webapp.delegates[0], webapp.password)
    await page.locator("li.meeting").first.wait_for()
    measured = {url_of(p, webapp.dist) for p in first_load(["/login", "/"], webapp.dist)}
    assert fetched == measured, (sorted(fetched - measured), sorted(measured - fetched))


async def test_a_sitting_under_way_and_an_empty_list(
    fresh_webapp: WebApp, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    app = fresh_webapp
    chair = await app.token(app.chair)
    status, body, _ = await app.http("POST", f"/api/meetings/{app.meeting_id}/transition",
                                     token=chair, json={"action": "open"})
    assert status == 200, body

    async def newcomer(services: Any) -> None:
        from meetings.services.accounts import auth

        await auth.create_user(services, None, "newcomer", "Người mới", app.password)

    await app.in_server(newcomer)
    for locale in ("vi", "en"):
        page = await new_page(app.delegates[0], locale=locale, app=app)
        card = page.locator(f'li.meeting[data-meeting-id="{app.meeting_id}"]')
        await expect(card.locator(".status")).to_contain_text(msg(locale, "common_status_open"))
        await shot(page, f"meetings-open-{locale}-landscape")
        violations = await axe(page)
        assert not violations, format_violations(violations)

        page = await new_page("newcomer", locale=locale, app=app)
        await expect(page.get_by_test_id("meetings-empty")).to_have_text(
            msg(locale, "common_meetings_empty")
        )
        await shot(page, f"meetings-empty-{locale}-landscape")
        assert not new_page.errors(page)


async def test_by_keyboard_alone(webapp: WebApp, new_page: PageFactory) -> None:
    page = await new_page(None, path="/login", touch=False)
    await expect(page.locator("#username")).to_be_focused()
    await page.keyboard.type(webapp.delegates[5])
    await page.keyboard.press("Tab")
    await page.keyboard.type(webapp.password)
    await page.keyboard.press("Enter")
    await page.wait_for_url(webapp.url("/"))
    await page.locator("li.meeting").first.wait_for()
    # the first Tab reaches "skip to main content", which moves the focus past the header
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=msg("vi", "common_skip_to_content"))
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.tagName") == "MAIN"
    await page.keyboard.press("Tab")
    await expect(page.locator(f'li.meeting[data-meeting-id="{webapp.meeting_id}"] h2 a')
                 ).to_be_focused()
    await page.keyboard.press("Enter")
    await page.wait_for_url(webapp.url(f"/m/{webapp.meeting_id}"))


async def test_server_unreachable_at_start_then_try_again(
    webapp: WebApp, new_page: PageFactory
) -> None:
    """The first "who am I" gets no answer: the page says so and offers to try again; once the
    server answers (no session here), the login page."""
    page = await new_page(None, path=None)

    async def no_answer(route: Any) -> None:
        await route.abort("internetdisconnected")

    await page.route("**/api/auth/me", no_answer)  # the network, not our server, fails
    await page.goto("/")
    await expect(page.locator("main [role=alert]")).to_have_text(msg("vi", "common_unreachable"))
    await page.unroute("**/api/auth/me")
    await page.get_by_role("button", name=msg("vi", "common_retry")).click()
    await page.wait_for_url(re.compile(r"/login$"))
    await expect(page.locator("#username")).to_be_visible()


@asynccontextmanager
async def flood(app: WebApp, clients: int = 16) -> AsyncIterator[dict[int, int]]:
    """Logins through the API from `clients` callers at once, each again as soon as answered,
    until the block ends: with one hashing thread and a queue of one the server answers every
    other login `503 busy` (docs/OPERATIONS.md, "A hall logging in at once")."""
    stop = asyncio.Event()
    statuses: dict[int, int] = {}

    async def caller(http: aiohttp.ClientSession, i: int) -> None:
        names = [*app.delegates[3:], app.chair, app.secretary, app.display]  # not the pages'
        name = names[i % len(names)]
        body = {"username": name, "password": app.password}
        while not stop.is_set():
            async with http.post(app.url("/api/auth/login"), json=body) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                await response.read()
            await asyncio.sleep(0.005)

    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.create_task(caller(http, i)) for i in range(clients)]
        try:
            yield statuses
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def test_a_busy_server_is_waited_out_and_the_page_logs_in_by_itself(
    webapp_factory: Any, new_page: PageFactory, axe: Any, shot: Any
) -> None:
    """A hall logging in at once, for real: the server's login queue is made tiny and flooded
    through the API. The page says in words that many are signing in and that it will try again
    by itself in N s (said once to screen readers, counted down on screen), keeps the name and
    password in memory only, can be stopped, and logs in by itself once the flood is over."""
    app: WebApp = await webapp_factory(
        password_workers=1, login_queue=1, password_time_cost=6, http_rate=0
    )
    pages: list[tuple[Page, list[int]]] = []
    async with flood(app) as statuses:
        for n, (locale, orientation) in enumerate((("vi", "portrait"), ("en", "landscape"))):
            page = await new_page(None, VIEWPORTS[orientation], locale, path="/login", app=app)
            answers: list[int] = []

            async def answered(request: Request, answers: list[int] = answers) -> None:
                if request.url.endswith("/api/auth/login"):
                    response = await request.response()
                    answers.append(response.status if response else 0)

            page.on("requestfinished", answered)
            await login_until_busy(page, locale, app.delegates[n], app.password, answers)
            waiting = page.get_by_test_id("login-waiting")
            before, after = msg(locale, "common_login_server_busy").split("{seconds}")
            await expect(waiting).to_contain_text(before)
            await expect(waiting).to_contain_text(re.compile(re.escape(before) + r"\d+"))
            assert after.strip() in await waiting.inner_text()
            # said once, politely, in words; the countdown itself is no live region
            announce = page.get_by_test_id("login-announce")
            await expect(announce).to_have_attribute("role", "status")
            await expect(announce).to_contain_text(
                msg(locale, "common_login_server_busy_announce").split("{seconds}")[0]
            )
            assert await waiting.get_attribute("role") is None
            assert await waiting.get_attribute("aria-live") is None
            await expect(page.locator("#login-error")).to_have_attribute("data-failure", "")
            # the typed name and password: in the form, nowhere in storage
            await expect(page.locator("#password")).to_have_value(app.password)
            stored = await page.evaluate(
                "JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])"
            )
            assert app.password not in stored and app.delegates[n] not in stored, stored
            await shot(page, f"login-busy-{locale}-{orientation}")
            violations = await axe(page)
            assert not violations, format_violations(violations)
            assert 503 in answers, answers
            pages.append((page, answers))

        # stopped by the user: no more tries, the form as typed, focus on the button
        page = await new_page(None, (1280, 800), "en", path="/login", app=app)
        stopped: list[str] = []
        page.on("request", lambda r: stopped.append(r.url) if "/api/auth/login" in r.url else None)
        await login_until_busy(page, "en", app.delegates[2], app.password)
        await page.get_by_role("button", name=msg("en", "common_login_busy_cancel")).click()
        await expect(page.get_by_test_id("login-waiting")).to_have_count(0)
        await expect(page.locator("form button[type=submit]")).to_be_focused()
        await expect(page.locator("form button[type=submit]")).to_be_enabled()
        await expect(page.locator("#username")).to_have_value(app.delegates[2])
        await expect(page.locator("#password")).to_have_value(app.password)
        tries = len(stopped)
        await page.wait_for_timeout(3000)  # longer than any wait the flood's 503s ask for
        assert len(stopped) == tries, stopped
        assert "/login" in page.url
        assert statuses.get(503, 0) > 0 and statuses.get(200, 0) > 0, statuses

    # the flood is over: each waiting page logs in by itself, nobody tapped again
    for page, answers in pages:
        await page.locator("li.meeting").first.wait_for()
        assert "/login" not in page.url
        assert answers[0] == 503 and answers[-1] == 200, answers
        assert set(answers) == {503, 200}, answers
        assert not new_page.errors(page)
