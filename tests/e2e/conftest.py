"""Browser tests of the web app: shared fixtures (docs/WEBAPP.md, "The tests").

- `webapp` (session): a real uvicorn server on a loopback port, in a thread of its own, over a
  SQLite copy of a council seeded by `seed_rehearsal`, serving the built `frontend/dist` (a copy
  taken when the session starts, `webapp.dist`: rebuilding during a run does not disturb it). It is
  a `Running` (tests/conftest.py: `token`, `http`, `client`) with the rehearsal accounts
  (`chair`, `secretary`, `display`, `delegates`, `password`) and `meeting_id`, `council_id`.
  Its state is shared by every test of the session: a test that needs a pristine sitting takes
  `fresh_webapp` (the same, started for that test only; about a second), or
  `await webapp_factory(**settings)` for one with some settings changed. `await app.stop()`
  stops a server (the browser then finds it down).
- `browser` (session): Debian's chromium through Python Playwright (never `playwright install`).
- `new_page(username, viewport=(1280, 800), locale="vi", touch=True, path="/")`: a page in a fresh
  context, logged in as `username` through the API (the session and CSRF cookies land in the
  context) — or through the login form with `login="ui"`, or not at all with `username=None` —
  then opened at `path`. `new_page.errors(page)` lists the page's uncaught errors and console
  errors (a CSP refusal shows there; refused HTTP requests do not).
- `login_ui(page, username, password)`: logs in through the login form.
- `axe(page)`: runs axe-core (frontend/node_modules/axe-core) over the page and returns its
  serious and critical violations; `format_violations` makes them readable in an assertion.
- `shot(page, name)`: a PNG under tests/e2e/artifacts/ (not committed).

The tests are `async` (Playwright's async API, in the session's event loop). The server runs in
its own thread and loop, so it keeps answering while a test waits; its `services` belong to that
loop: reach them through `await webapp.in_server(coroutine_function)`.

A missing frontend/dist ("run make frontend") or chromium skips these tests, and fails them under
QUORUM_REQUIRE_SERVICES=1 (CI), like the other services in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from meetings.services.context import Services
from realtime.asgi import create_asgi_app
from tests.conftest import (
    DELEGATES,
    PASSWORD,
    Running,
    _seed,
    http_session,
    need,
    server_settings,
    start_uvicorn,
)

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = FRONTEND / "dist"
AXE_JS = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LOCALE_KEY = "PARAGLIDE_LOCALE"  # where the app keeps the chosen language (src/lib/i18n.ts)
INTL_LOCALE = {"vi": "vi-VN", "en": "en-GB"}
TIMEOUT_MS = 10_000

T = TypeVar("T")


def need_frontend() -> None:
    need("The built web app (frontend/dist)", (DIST / "index.html").is_file(),
         "run make frontend")


def need_chromium() -> None:
    need("Chromium", Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing (apt install chromium)")


@dataclass
class WebApp(Running):
    """A running server with the built web app and the rehearsal council's accounts."""

    chair: str = "chair"
    secretary: str = "secretary"
    display: str = "display"
    delegates: list[str] = field(default_factory=list)
    password: str = PASSWORD
    server_loop: asyncio.AbstractEventLoop | None = None
    dist: Path = DIST  # what it serves: a copy of frontend/dist made at the session's start
    _stop: Callable[[], Awaitable[None]] | None = None

    async def stop(self) -> None:
        """Stop the server now (a test of "the server is down"); stopping twice is harmless."""
        if self._stop is not None:
            await self._stop()

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    async def in_server(self, work: Callable[[Services], Awaitable[T]]) -> T:
        """Run `work(services)` in the server's own event loop (its database engine lives there)."""
        assert self.server_loop is not None
        future = asyncio.run_coroutine_threadsafe(_call(work, self.services), self.server_loop)
        return await asyncio.wrap_future(future)


async def _call(work: Callable[[Services], Awaitable[T]], services: Services) -> T:
    return await work(services)


OWN_ADDRESS = "http://own.address.invalid"
"""`webapp_factory(public_url=OWN_ADDRESS)`: QUORUM_PUBLIC_URL becomes the server's own address
(known once it listens), so a QR code or feed link can be opened by the browser."""


class ServerThread:
    """uvicorn serving the whole app (API, Socket.IO, frontend/dist) in a thread of its own."""

    def __init__(self, database: Path, folder: Path, settings: dict[str, Any], dist: Path) -> None:
        self.database = database
        self.dist = dist
        self.folder = folder
        self.overrides = settings
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.port = 0
        self.services: Services | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._uv: Any = None
        self._thread = threading.Thread(target=self._run, name="webapp-server", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test by start()
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        settings = server_settings(f"sqlite+aiosqlite:///{self.database}", self.folder)
        if self.overrides:
            settings = settings.model_copy(update=self.overrides)
        app = create_asgi_app(settings, frontend_dir=self.dist)
        self._uv, task, self.port = await start_uvicorn(app)
        self.services = app.quorum_services
        if self.overrides.get("public_url") == OWN_ADDRESS:
            # the public links (QR codes, calendar feeds, sitemap) point at this very server
            self.services.settings = settings.model_copy(
                update={"public_url": f"http://127.0.0.1:{self.port}"}
            )
        self.ready.set()
        await task

    async def start(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self.ready.wait, 60)
        if self.error is not None:
            raise RuntimeError("the web app server did not start") from self.error
        assert self.ready.is_set(), "the web app server did not start within 60 s"

    async def stop(self) -> None:
        if self._uv is not None:
            self._uv.should_exit = True
        await asyncio.to_thread(self._thread.join, 30)


@dataclass
class Seeded:
    database: Path
    council_id: int
    meeting_id: int
    dist: Path  # the session's copy of frontend/dist


def _copy_dist(folder: Path) -> Path:
    """A copy of the build for the session: a rebuild while the tests run (another terminal,
    `npm run build` empties dist/ first) cannot pull files from under a loaded page."""
    target = folder / "dist"
    shutil.copytree(DIST, target)
    return target


@pytest.fixture(scope="session")
async def rehearsal_db(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The rehearsal council in a SQLite file, seeded once; servers run on copies of it."""
    need_frontend()
    folder = tmp_path_factory.mktemp("webapp-template")
    path = folder / "quorum.sqlite3"
    seeded = await _seed(f"sqlite+aiosqlite:///{path}", folder)
    return Seeded(path, seeded["council_id"], seeded["meeting_id"], _copy_dist(folder))


def _copy_database(seed: Seeded, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "quorum.sqlite3"
    shutil.copyfile(seed.database, database)
    return database


@asynccontextmanager
async def serve_webapp(
    seed: Seeded, folder: Path, settings: dict[str, Any] | None = None
) -> AsyncIterator[WebApp]:
    database = _copy_database(seed, folder)
    thread = ServerThread(database, folder, settings or {}, seed.dist)
    await thread.start()
    assert thread.services is not None
    session = http_session()
    app = WebApp(
        base_url=f"http://127.0.0.1:{thread.port}",
        settings=thread.services.settings,
        services=thread.services,
        council_id=seed.council_id,
        meeting_id=seed.meeting_id,
        backend="sqlite",
        _session=session,
        delegates=[f"delegate{i:03d}" for i in range(1, DELEGATES + 1)],
        server_loop=thread.loop,
        dist=seed.dist,
        _stop=thread.stop,
    )
    try:
        yield app
    finally:
        await app.close()
        await thread.stop()


@pytest.fixture(scope="session")
async def webapp(
    rehearsal_db: Seeded, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebApp]:
    """One server for the session (its state carries over from test to test)."""
    async with serve_webapp(rehearsal_db, tmp_path_factory.mktemp("webapp")) as app:
        yield app


@pytest.fixture
async def webapp_factory(
    rehearsal_db: Seeded, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[WebApp]]]:
    """`await webapp_factory(login_attempts=2, http_burst=3)`: a server of the test's own, over a
    pristine copy of the rehearsal council, with these settings changed; stopped after the test."""
    made = 0
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> WebApp:
            nonlocal made
            made += 1
            folder = tmp_path / f"webapp{made}"
            return await stack.enter_async_context(serve_webapp(rehearsal_db, folder, settings))

        yield make


@pytest.fixture
async def fresh_webapp(webapp_factory: Callable[..., Awaitable[WebApp]]) -> WebApp:
    """A server of this test's own, over a pristine copy of the rehearsal council."""
    return await webapp_factory()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    need_frontend()
    need_chromium()
    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def login_ui(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form (the page may be anywhere on the app's origin)."""
    if "/login" not in page.url:
        base = page.url.split("/", 3)
        await page.goto("/".join(base[:3]) + "/login")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_url(lambda url: "/login" not in url)


async def login_api(context: BrowserContext, base_url: str, username: str,
                    password: str = PASSWORD) -> dict[str, Any]:
    """Log in with POST /api/auth/login from the context: its cookies become the context's."""
    response = await context.request.post(
        base_url + "/api/auth/login", data={"username": username, "password": password}
    )
    assert response.ok, f"login of {username} failed: {response.status} {await response.text()}"
    body: dict[str, Any] = await response.json()
    return body


@pytest.fixture(name="login_ui")
def login_ui_fixture() -> Callable[..., Awaitable[None]]:
    return login_ui


def _console_error(errors: list[str], message: ConsoleMessage) -> None:
    # a refused request (401, 429 …) is an answer the app handles, not an error of the page
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(f"console: {message.text}")


class PageFactory:
    """`await new_page(username, viewport, locale, touch)`; contexts are closed after the test."""

    def __init__(self, browser: Browser, app: WebApp) -> None:
        self.browser = browser
        self.app = app
        self.contexts: list[BrowserContext] = []
        self._errors: dict[int, list[str]] = {}

    async def __call__(
        self,
        username: str | None,
        viewport: tuple[int, int] = (1280, 800),
        locale: str = "vi",
        touch: bool = True,
        *,
        path: str | None = "/",
        login: str = "api",
        app: WebApp | None = None,
        password: str = PASSWORD,
    ) -> Page:
        app = app or self.app
        context = await self.browser.new_context(
            base_url=app.base_url,
            viewport={"width": viewport[0], "height": viewport[1]},
            has_touch=touch,
            is_mobile=False,
            locale=INTL_LOCALE.get(locale, locale),
        )
        self.contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        # The first language of the context, unless the app already stored one (a switch made
        # by the test survives reloads). Init scripts are not subject to the page's CSP.
        await context.add_init_script(
            f"try {{ if (!localStorage.getItem('{LOCALE_KEY}')) "
            f"localStorage.setItem('{LOCALE_KEY}', '{locale}') }} catch (e) {{}}"
        )
        page = await context.new_page()
        errors: list[str] = []
        self._errors[id(page)] = errors
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: _console_error(errors, msg))
        if username is not None and login == "api":
            await login_api(context, app.base_url, username, password)
        if username is not None and login == "ui":
            await page.goto("/login" + (f"?next={quote(path)}" if path else ""))
            await login_ui(page, username, password)
            return page
        if path is not None:
            await page.goto(path)
        return page

    def errors(self, page: Page) -> list[str]:
        """Uncaught errors and console errors of a page made here, in order."""
        return list(self._errors.get(id(page), []))

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def new_page(browser: Browser, webapp: WebApp) -> AsyncIterator[PageFactory]:
    factory = PageFactory(browser, webapp)
    try:
        yield factory
    finally:
        await factory.close()


_axe_source: str | None = None


async def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe-core over the whole page; the serious and critical violations.

    The app's CSP (`script-src 'self'`) refuses an inline <script>, so Playwright's
    `add_script_tag(content=…)` is blocked; the source is evaluated through the DevTools
    protocol instead, which the CSP does not govern (no `bypass_csp` needed).
    """
    global _axe_source
    if _axe_source is None:
        need("axe-core", AXE_JS.is_file(), "run make frontend (npm ci)")
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_axe_source + "\n;undefined")
    # a view still fading in (the ballot's 160 ms arrival) has half-transparent colours: axe
    # measured 3.26:1 on a loaded machine. The check is of the view as it comes to rest
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const ending = document.getAnimations()
                .filter(a => a.effect?.getComputedTiming().endTime !== Infinity)  // not spinners
                .map(a => a.finished.catch(() => null));
            await Promise.race([Promise.all(ending), new Promise(r => setTimeout(r, 2000))]);
            const result = await window.axe.run(document, { resultTypes: ['violations'] });
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.map(n => ({ target: n.target.join(' '),
                                                        summary: n.failureSummary })) }));
        }"""
    )
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({v['help']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['summary']}")
    return "\n".join(lines)


@pytest.fixture
def axe() -> Callable[[Page], Awaitable[list[dict[str, Any]]]]:
    return run_axe


async def take_shot(page: Page, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def shot() -> Callable[..., Awaitable[Path]]:
    return take_shot
