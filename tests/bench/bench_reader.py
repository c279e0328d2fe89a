"""The delegate's document reader in a browser (docs/WEBAPP.md, "Reader"; figures in
docs/PERFORMANCE.md, "Reader").

Run: uv run python -m tests.bench.bench_reader [--runs N] [--turns N] [--passes N]
[--only open|turn|scroll] (one part alone; all three by default)
Needs `frontend/dist` (`make frontend`) and Debian's /usr/bin/chromium (never `playwright
install`). `quorum serve` runs over a fresh rehearsal council; a 300-page and a 500-page agenda
document (meetings/documents/generate.py) are attached to the current item of an open sitting,
and delegate001's tablet (1280×800, touch) reads them:

1. open: a tap on the 300-page document's link on the sitting view until page 1's image has
   loaded and a frame has been painted, in a new browser context each run (cold browser cache;
   the server has page 1 pre-rendered, as after any upload);
2. page turn: pages 1–40 read once (so they are loaded), then `--turns` jumps by "go to page"
   to one of them, each timed from the submit until the page's image is loaded and painted;
3. scroll: the 500-page document scrolled by a screen at a time, end to end, `--passes` times;
   after each step every page in view must show its image within 5 s (else it counts as
   blank; the annotation layer's `data-page` is not a page); the JS heap (CDP
   `Performance.getMetrics`) and the renderer process's memory (/proc: the whole page, decoded
   images, canvases, DOM and heap; its private memory is the target's figure) are sampled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import QuorumClient, login
from tests.bench._server import quorum_server

PASSWORD = "bench-pass-123"
TARGETS = {"open_ms": 1000, "turn_p99_ms": 100, "memory_mb": 300}

# In the page: wait for page `n` of the reader to have loaded its image, then for a frame.
SHOWN = """async ([n, t0]) => {
  const sel = `[data-testid=reader] [data-page="${n}"][data-loaded="true"]`;
  while (!document.querySelector(sel)) await new Promise(requestAnimationFrame);
  await new Promise(requestAnimationFrame);
  return performance.now() - t0;
}"""

TURN = """async (n) => {
  const input = document.getElementById('reader-goto');
  input.value = String(n);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  const t0 = performance.now();
  input.form.requestSubmit();
  const sel = `[data-testid=reader] [data-page="${n}"][data-loaded="true"]`;
  while (!document.querySelector(sel)) await new Promise(requestAnimationFrame);
  await new Promise(requestAnimationFrame);
  return performance.now() - t0;
}"""

# One screen down; then the numbers of the pages in view.
STEP = """() => {
  const box = document.querySelector('[data-testid=reader-scroller]');
  box.scrollTop = Math.min(box.scrollTop + box.clientHeight, box.scrollHeight - box.clientHeight);
  return box.scrollTop + box.clientHeight >= box.scrollHeight - 1;
}"""

MARK_TAP = """(id) => {
  window.__t0 = null;
  document.querySelector(`[data-doc-link="${id}"]`).addEventListener(
    'click', () => (window.__t0 = performance.now()), { capture: true, once: true });
}"""

# The reader's pages in view (`[data-loaded]`: a page, not the annotation layer over it, which
# carries `data-page` too) and whether each has its image painted.
PAGES = "[data-testid=reader] [data-page][data-loaded]"
IN_VIEW = """() => {
  const box = document.querySelector('[data-testid=reader-scroller]').getBoundingClientRect();
  return [...document.querySelectorAll('PAGES')]
    .filter((p) => {
      const r = p.getBoundingClientRect();
      return r.bottom > box.top && r.top < box.bottom;
    })
    .map((p) => [Number(p.dataset.page), p.dataset.loaded === 'true']);
}""".replace("PAGES", PAGES)


async def prepare(base: str, pdfs: dict[str, bytes]) -> tuple[int, dict[str, int]]:
    """Open the sitting on item 1 and attach the documents to it; the meeting id and doc ids."""
    async with aiohttp.ClientSession() as session:
        secretary = await login(session, base, "secretary", PASSWORD)
        chair_token = await login(session, base, "chair", PASSWORD)
        headers = {"authorization": f"Bearer {secretary}"}
        async with session.get(f"{base}/api/meetings", headers=headers) as r:
            mid = int((await r.json())[0]["id"])
        chair = QuorumClient(base, chair_token)
        await chair.connect()
        view = await chair.join(mid)
        if view.snapshot["meeting"]["status"] != "open":
            await chair.command("meeting.open", {"meeting_id": mid})
        item = int(view.snapshot["agenda"][0]["id"])
        await chair.command("agenda.set_current", {"meeting_id": mid, "item_id": item})
        await chair.disconnect()
        ids = {}
        for title, pdf in pdfs.items():
            async with session.post(
                f"{base}/api/meetings/{mid}/documents?title={title}&agenda_item_id={item}",
                data=pdf,
                headers=headers | {"content-type": "application/pdf"},
            ) as r:
                assert r.status == 201, await r.text()
                ids[title] = int((await r.json())["id"])
    await asyncio.sleep(3)  # the upload's page-1 pre-render, as on a real server
    return mid, ids


async def tablet(browser: Browser, base: str) -> BrowserContext:
    context = await browser.new_context(
        base_url=base, viewport={"width": 1280, "height": 800}, has_touch=True, locale="vi-VN"
    )
    response = await context.request.post(
        base + "/api/auth/login", data={"username": "delegate001", "password": PASSWORD}
    )
    assert response.ok, await response.text()
    return context


async def open_document(page: Page, mid: int, document_id: int) -> float:
    """From the sitting view, tap the document's link; ms until page 1 is shown."""
    await page.goto(f"/m/{mid}")
    link = page.locator(f'[data-doc-link="{document_id}"]')
    await link.wait_for()
    await page.wait_for_timeout(300)  # the sitting view settled (joined, fonts)
    await page.evaluate(MARK_TAP, document_id)
    await link.tap()
    t0 = float(await page.evaluate("() => window.__t0"))
    return float(await page.evaluate(SHOWN, [1, t0]))


async def measure_open(browser: Browser, base: str, mid: int, doc: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        context = await tablet(browser, base)
        page = await context.new_page()
        times.append(await open_document(page, mid, doc))
        await context.close()
    return times


async def measure_turns(browser: Browser, base: str, mid: int, doc: int, turns: int) -> list[float]:
    context = await tablet(browser, base)
    page = await context.new_page()
    await open_document(page, mid, doc)
    for n in range(1, 41):  # read pages 1–40 once
        await page.evaluate(TURN, n)
    rng = random.Random(7)
    times = [float(await page.evaluate(TURN, rng.randint(1, 40))) for _ in range(turns)]
    await context.close()
    return times


def renderer_memory_mb() -> dict[str, float]:
    """The memory of this benchmark's renderer process with the largest resident set (its one
    open tab; other Chromiums on the machine are not descendants of this process): resident
    (RSS, shared pages counted whole), proportional (PSS) and private (the target's figure),
    from /proc/<pid>/smaps_rollup, and the part of the private memory in shared-memory regions
    (`shm`: Chromium's discardable memory, where it keeps decoded images)."""
    out = subprocess.run(
        ["ps", "-eo", "pid=,ppid=,rss=,args="], capture_output=True, text=True
    ).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    parent = {int(r[0]): int(r[1]) for r in rows}

    def mine(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parent.get(pid, 1)
        return False

    renderers = [r for r in rows if "--type=renderer" in r[3] and mine(int(r[0]))]
    if not renderers:
        return {"rss": 0.0, "pss": 0.0, "private": 0.0, "shm": 0.0}
    pid = max(renderers, key=lambda r: int(r[2]))[0]
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    # of which in shared-memory regions (where Chromium keeps decoded images, discardable)
    shm, mapping = 0, ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and not head[0].endswith(":"):
            mapping = head[5] if len(head) > 5 else ""
        elif head and head[0] in ("Private_Clean:", "Private_Dirty:") and "memfd:" in mapping:
            shm += int(head[1])
    return {
        "rss": fields["Rss"] / 1024,
        "pss": fields["Pss"] / 1024,
        "private": private / 1024,
        "shm": shm / 1024,
    }


async def measure_scroll(
    browser: Browser, base: str, mid: int, doc: int, passes: int
) -> dict[str, Any]:
    context = await tablet(browser, base)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    await page.goto(f"/m/{mid}")
    await page.locator(f'[data-doc-link="{doc}"]').wait_for()
    await page.wait_for_timeout(500)
    before = renderer_memory_mb()
    await open_document(page, mid, doc)
    heap, memory, blank, steps, waits, mounted = [], [], [], 0, [], []
    started = time.perf_counter()
    for _ in range(passes):
        await page.evaluate(
            "() => { document.querySelector('[data-testid=reader-scroller]').scrollTop = 0 }"
        )
        done = False
        while not done:
            done = bool(await page.evaluate(STEP))
            steps += 1
            t0 = time.perf_counter()
            view: list[list[Any]] = []
            while time.perf_counter() - t0 < 5:
                view = await page.evaluate(IN_VIEW)
                if view and all(loaded for _, loaded in view):
                    break
                await asyncio.sleep(0.02)
            waits.append((time.perf_counter() - t0) * 1000)
            blank += [n for n, loaded in view if not loaded]
            mounted.append(await page.locator(PAGES).count())
            if steps % 100 == 0:
                private = renderer_memory_mb()["private"]
                print(f"   … {steps} screens, {len(blank)} blank, {private:.0f} MB", flush=True)
            if steps % 10 == 0:
                metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
                values = {m["name"]: m["value"] for m in metrics}
                heap.append(values["JSHeapUsedSize"] / 2**20)
                memory.append(renderer_memory_mb())
    elapsed = time.perf_counter() - started
    await context.close()
    return {
        "steps": steps,
        "seconds": elapsed,
        "blank": blank,
        "heap_max_mb": max(heap),
        "heap_last_mb": heap[-1],
        "before": before,
        "max": {k: max(m[k] for m in memory) for k in before},
        "last": memory[-1],
        "wait_p50_ms": statistics.median(waits),
        "wait_max_ms": max(waits),
        "mounted_max": max(mounted),
    }


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def run(base: str, args: argparse.Namespace, pdfs: dict[str, bytes]) -> None:
    mid, ids = await prepare(base, pdfs)
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            if args.only in (None, "open"):
                await report_open(browser, base, mid, ids, args)
            if args.only in (None, "turn"):
                await report_turns(browser, base, mid, ids, args)
            if args.only in (None, "scroll"):
                await report_scroll(browser, base, mid, ids, args)
        finally:
            await browser.close()


async def report_open(
    browser: Browser, base: str, mid: int, ids: dict[str, int], args: argparse.Namespace
) -> None:
    opens = await measure_open(browser, base, mid, ids["Bench 300"], args.runs)
    print(
        f"1. open the 300-page document → page 1 shown: "
        f"{', '.join(f'{t:.0f}' for t in opens)} ms; median {statistics.median(opens):.0f},"
        f" max {max(opens):.0f} (target ≤ {TARGETS['open_ms']})",
        flush=True,
    )


async def report_turns(
    browser: Browser, base: str, mid: int, ids: dict[str, int], args: argparse.Namespace
) -> None:
    turns = await measure_turns(browser, base, mid, ids["Bench 300"], args.turns)
    print(
        f"2. turn to a loaded page ({len(turns)} turns): p50 {statistics.median(turns):.0f}"
        f" ms, p99 {p99(turns):.0f} ms, max {max(turns):.0f} ms"
        f" (target p99 ≤ {TARGETS['turn_p99_ms']})",
        flush=True,
    )


async def report_scroll(
    browser: Browser, base: str, mid: int, ids: dict[str, int], args: argparse.Namespace
) -> None:
    scroll = await measure_scroll(browser, base, mid, ids["Bench 500"], args.passes)
    print(
        f"3. scroll 500 pages end to end ×{args.passes}: {scroll['steps']} screens in "
        f"{scroll['seconds']:.0f} s; blank pages {len(scroll['blank'])} "
        f"{scroll['blank'][:10]}; screen filled p50 {scroll['wait_p50_ms']:.0f} ms, "
        f"max {scroll['wait_max_ms']:.0f} ms; pages mounted at most "
        f"{scroll['mounted_max']}",
        flush=True,
    )
    print(
        f"   JS heap (Performance.getMetrics JSHeapUsedSize): max "
        f"{scroll['heap_max_mb']:.1f} MB, last {scroll['heap_last_mb']:.1f} MB "
        f"(target < {TARGETS['memory_mb']})",
        flush=True,
    )
    for name in ("rss", "pss", "private", "shm"):
        print(
            f"   renderer {name}: sitting view {scroll['before'][name]:.0f} MB, while "
            f"scrolling max {scroll['max'][name]:.0f} MB, last {scroll['last'][name]:.0f}"
            " MB",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--only", choices=("open", "turn", "scroll"), default=None)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    paragraphs = vietnamese_paragraphs(60, seed=11)
    pdfs = {
        "Bench 300": generate_agenda_document("Báo cáo dự toán", paragraphs, pages=300),
        "Bench 500": generate_agenda_document("Báo cáo quyết toán", paragraphs, pages=500),
    }
    print(f"generated the documents in {time.perf_counter() - started:.1f} s", flush=True)
    with quorum_server(3, PASSWORD) as (base, _pid):
        asyncio.run(run(base, args, pdfs))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"load average at the end: {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
