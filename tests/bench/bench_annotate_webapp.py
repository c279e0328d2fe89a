"""A pen stroke drawn in the web app until the same user's other page shows it, with 500
delegates connected (docs/PERFORMANCE.md, "Annotations and documents"; the protocol-level
figure is `bench_annotations`).

Run: uv run python -m tests.bench.bench_annotate_webapp [--delegates 500] [--strokes 100]
One `quorum serve` subprocess over a rehearsal council (`quorum demo --delegates N
--no-serve`), serving this checkout's `frontend/dist`; the secretariat uploads a three-page
agenda; delegates 2…N join the meeting from two client processes (`_hold`, as
`bench_annotations` does). delegate001 opens the document in two pages of headless Debian
Chromium (a tablet 1280×800 and a laptop), chooses the pen on the tablet, and draws strokes of
20 samples with CDP mouse events typed as a pen (`pointerType: "pen"`, `force`): the time from
the pen lifting (the `pointerup`, seen in the capture phase of the tablet's document) to the
stroke's element appearing in the laptop's DOM (a MutationObserver) is measured, first alone,
then while 40 other delegates draw (4 strokes/s each, over the protocol). Both pages read
`Date.now()` of this machine. "In the DOM" is at most one frame before the pixels.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, async_playwright

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import login
from realtime.loadtest import LoadSpec, delegate_tokens
from tests.bench._server import quorum_server
from tests.bench.bench_annotations import _background, _hold, _pct, _release

PASSWORD = "bench-pass-123"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TARGET_P99_MS = 150

MARKS = """
(() => {
  const marks = [];
  window.__marks = marks;
  document.addEventListener('pointerup', () => marks.push(['up', Date.now()]), true);
  let seen = 0;
  const look = () => {
    const n = document.querySelectorAll('[data-kind=ink]').length;
    if (n > seen) marks.push(['ink', Date.now(), n]);
    seen = n;
  };
  const start = () =>
    new MutationObserver(look).observe(document, { subtree: true, childList: true });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
"""


async def upload(base: str) -> tuple[int, int, int]:
    """The secretariat's agenda: (meeting id, document id, version id)."""
    async with aiohttp.ClientSession() as session:
        token = await login(session, base, "secretary", PASSWORD)
        headers = {"authorization": f"Bearer {token}"}
        async with session.get(f"{base}/api/meetings", headers=headers) as r:
            meeting_id = int((await r.json())[0]["id"])
        pdf = generate_agenda_document("Tờ trình", vietnamese_paragraphs(30, seed=5), pages=3)
        headers["content-type"] = "application/pdf"
        async with session.post(f"{base}/api/meetings/{meeting_id}/documents?title=T",
                                data=pdf, headers=headers) as r:
            doc = await r.json()
    return meeting_id, int(doc["id"]), int(doc["current_version"]["id"])


async def open_reader(browser: Browser, base: str, path: str, size: tuple[int, int]) -> Page:
    context = await browser.new_context(base_url=base, has_touch=True, locale="vi-VN",
                                        viewport={"width": size[0], "height": size[1]})
    await context.add_init_script(MARKS)
    response = await context.request.post(base + "/api/auth/login",
                                          data={"username": "delegate001", "password": PASSWORD})
    assert response.ok, await response.text()
    page = await context.new_page()
    await page.goto(path)
    await page.locator('[data-testid="ink-layer"][data-page="1"]').wait_for(state="attached")
    return page


async def draw(tablet: Page, laptop: Page, strokes: int, offset: int) -> list[float]:
    """`strokes` pen strokes on the tablet; ms from each pen lift to the laptop's DOM."""
    box = await tablet.locator('[data-testid="ink-layer"][data-page="1"]').bounding_box()
    assert box is not None
    cdp = await tablet.context.new_cdp_session(tablet)
    pen = {"pointerType": "pen", "button": "left"}
    latencies = []
    for i in range(strokes):
        x = box["x"] + 20 + (i % 10) * 6
        y = box["y"] + 60 + (i % 40) * 12
        await cdp.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y,
                                                    "force": 0.3, "buttons": 1, "clickCount": 1,
                                                    **pen})
        for k in range(1, 20):
            await cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + k,
                                                        "y": y + k * 0.5, "force": 0.3 + k * 0.02,
                                                        "buttons": 1, **pen})
        await cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x + 19,
                                                    "y": y + 9.5, "force": 0, "buttons": 0,
                                                    "clickCount": 1, **pen})
        up = await tablet.evaluate("() => window.__marks.filter(m => m[0] === 'up').at(-1)[1]")
        handle = await laptop.wait_for_function(
            "n => { const m = window.__marks.find(m => m[0] === 'ink' && m[2] >= n);"
            " return m ? m[1] : null; }", arg=offset + i + 1, timeout=10_000, polling=5)
        latencies.append(float(await handle.json_value()) - float(up))
        await asyncio.sleep(0.05)
    await cdp.detach()
    return latencies


async def run(base: str, delegates: int, strokes: int) -> dict[str, list[float]]:
    meeting_id, doc_id, version_id = await upload(base)
    spec = LoadSpec(url=base, delegates=delegates, password=PASSWORD)
    tokens = await delegate_tokens(spec, lambda m: print(m, flush=True))
    pipes = await asyncio.to_thread(_hold, base, tokens[1:], meeting_id)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
            try:
                path = f"/m/{meeting_id}?doc={doc_id}"
                tablet = await open_reader(browser, base, path, (1280, 800))
                laptop = await open_reader(browser, base, path, (1280, 800))
                await tablet.locator('[data-tool="pen"]').click()
                alone = await draw(tablet, laptop, strokes, 0)
                stop = asyncio.Event()
                load = asyncio.get_running_loop().create_task(_background(
                    base, tokens[1:41], version_id, stop, lambda p: ("annotation.upsert", p)))
                await asyncio.sleep(1.0)
                busy = await draw(tablet, laptop, strokes, strokes)
                stop.set()
                await load
            finally:
                await browser.close()
    finally:
        await asyncio.to_thread(_release, pipes)
    return {"alone": alone, "while 40 others draw": busy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--strokes", type=int, default=100)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    with quorum_server(args.delegates, PASSWORD) as (base, _pid):
        figures = asyncio.run(run(base, args.delegates, args.strokes))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.delegates} delegates "
          f"connected; {args.strokes} strokes of 20 pen samples per scenario")
    report: dict[str, Any] = {}
    for name, values in figures.items():
        report[name] = {"p50": round(statistics.median(values), 1),
                        "p99": round(_pct(values, 0.99), 1), "max": round(max(values), 1),
                        "target_p99": TARGET_P99_MS}
        r = report[name]
        print(f"{name:<24} pen lifted → other page: p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms,"
              f" max {r['max']:.1f} ms ({'met' if r['p99'] <= TARGET_P99_MS else 'NOT met'})")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
