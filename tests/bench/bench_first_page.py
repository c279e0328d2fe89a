"""Time to the first page of a 300-page agenda PDF in a browser (docs/features/annotations.md,
"Fast delivery"; figures in docs/PERFORMANCE.md, "Annotations and documents").

Run: uv run python -m tests.bench.bench_first_page [--runs N] [--pages N]
Headless Debian Chromium (never `playwright install`) loads pdf.js (pdfjs-dist from npm, cached
under ~/.cache/quorum-bench) in a tiny page served on the Quorum origin by Playwright routing,
and opens a 300-page generated agenda document from `quorum serve`: the fast path (the
server's PNG of page 1, `GET /api/documents/{id}/pages/0/image`, shown while pdf.js loads the
PDF with ranges), pdf.js alone with range requests and `disableAutoFetch` (256 KiB and 64 KiB
chunks), against the bare way (the whole file, no ranges); each again in the same tab, from
the browser cache (versioned URLs are immutable). "first page" is what the user sees first
(the image, or pdf.js's rendered page); "pdf.js" is when pdf.js has drawn page 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Route, async_playwright

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from realtime.client import login
from tests.bench._server import quorum_server

PASSWORD = "bench-pass-123"
HERE = Path(__file__).parent
CACHE = Path(os.environ.get("QUORUM_BENCH_CACHE", Path.home() / ".cache" / "quorum-bench"))
PDFJS_VERSION = "4"


def pdfjs_build() -> Path:
    build = CACHE / "pdfjs" / "node_modules" / "pdfjs-dist" / "build"
    if not (build / "pdf.min.mjs").exists():
        (CACHE / "pdfjs").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(CACHE / "pdfjs"),
                f"pdfjs-dist@{PDFJS_VERSION}",
            ],
            check=True,
        )
    return build


async def upload(base: str, pdf: bytes) -> tuple[str, int]:
    async with aiohttp.ClientSession() as session:
        secretary = await login(session, base, "secretary", PASSWORD)
        delegate = await login(session, base, "delegate001", PASSWORD)
        headers = {"authorization": f"Bearer {secretary}"}
        async with session.get(f"{base}/api/meetings", headers=headers) as r:
            meeting_id = (await r.json())[0]["id"]
        headers["content-type"] = "application/pdf"
        async with session.post(
            f"{base}/api/meetings/{meeting_id}/documents?title=Bench", data=pdf, headers=headers
        ) as r:
            assert r.status == 201, await r.text()
            doc = await r.json()
    return delegate, int(doc["id"])


SCENARIOS: dict[str, dict[str, Any]] = {
    "page-1 image, then pdf.js (ranges, 256 KiB)": {
        "preview": True,
        "disableAutoFetch": True,
        "disableStream": True,
        "rangeChunkSize": 262144,
    },
    "range requests + disableAutoFetch, 256 KiB": {
        "disableAutoFetch": True,
        "disableStream": True,
        "rangeChunkSize": 262144,
    },
    "range requests + disableAutoFetch, 64 KiB": {
        "disableAutoFetch": True,
        "disableStream": True,
        "rangeChunkSize": 65536,
    },
    "bare: whole file, no ranges": {"disableRange": True, "disableStream": True},
}


async def measure(base: str, token: str, document_id: int, runs: int) -> dict[str, Any]:
    build = pdfjs_build()
    files = {
        "viewer.html": (HERE / "viewer.html", "text/html"),
        "pdf.min.mjs": (build / "pdf.min.mjs", "text/javascript"),
        "pdf.worker.min.mjs": (build / "pdf.worker.min.mjs", "text/javascript"),
    }

    async def serve_static(route: Route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        path, kind = files[name]
        await route.fulfill(body=path.read_bytes(), content_type=kind)

    url = f"{base}/api/documents/{document_id}/file?version=1"
    image_url = f"{base}/api/documents/{document_id}/pages/0/image?version=1"
    out: dict[str, Any] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        for name, scenario in SCENARIOS.items():
            options = {k: v for k, v in scenario.items() if k != "preview"}
            if scenario.get("preview"):
                call = "([u, i, t, o]) => openWithPreview(u, i, t, o)"
                args: list[Any] = [url, image_url, token, options]
            else:
                call, args = "([u, i, t, o]) => openFirst(u, t, o)", [url, "", token, options]
            shown, opened, transferred, requests, warm, partial = [], [], [], [], [], []
            pdf_shown, warm_pdf = [], []
            for _ in range(runs):
                context = await browser.new_context()  # a cold cache every run
                page = await context.new_page()
                await page.route(f"{base}/__bench/*", serve_static)
                got = {"bytes": 0, "requests": 0, "partial": 0}

                async def on_response(response: Any, got: dict[str, int] = got) -> None:
                    if "/file" in response.url:
                        got["requests"] += 1
                        got["partial"] += response.status == 206
                        got["bytes"] += int(response.headers.get("content-length", 0))

                page.on("response", on_response)
                await page.goto(f"{base}/__bench/viewer.html")
                await page.wait_for_function("window.viewerReady === true")
                # with interception on, Chromium drops the Range header: route only the page
                await page.unroute(f"{base}/__bench/*")
                result = await page.evaluate(call, args)
                await asyncio.sleep(0.05)
                # what the user sees first: the image when there is one, else pdf.js's page
                shown.append(result.get("preview", result["shown"]))
                pdf_shown.append(result["shown"])
                opened.append(result["opened"])
                transferred.append(got["bytes"])
                requests.append(got["requests"])
                partial.append(got["partial"])
                again = await page.evaluate(call, args)  # same tab: from the browser cache
                warm.append(again.get("preview", again["shown"]))
                warm_pdf.append(again["shown"])
                assert result["pages"] >= 300
                await context.close()
            out[name] = {
                "first_page_ms_median": round(statistics.median(shown), 1),
                "first_page_ms_max": round(max(shown), 1),
                "document_open_ms_median": round(statistics.median(opened), 1),
                "pdfjs_page_ms_median": round(statistics.median(pdf_shown), 1),
                "reopen_pdfjs_ms_median": round(statistics.median(warm_pdf), 1),
                "reopen_ms_median": round(statistics.median(warm), 1),
                "bytes_median": int(statistics.median(transferred)),
                "requests_median": int(statistics.median(requests)),
                "range_responses_median": int(statistics.median(partial)),
            }
        await browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    started = time.perf_counter()
    pdf = generate_agenda_document(
        "Báo cáo tổng hợp dự toán ngân sách năm 2026",
        vietnamese_paragraphs(60, seed=11),
        pages=args.pages,
    )
    print(
        f"generated {args.pages} pages, {len(pdf) / 1e6:.2f} MB in "
        f"{time.perf_counter() - started:.1f} s"
    )
    with quorum_server(3, PASSWORD) as (base, _pid):
        token, document_id = asyncio.run(upload(base, pdf))
        figures = asyncio.run(measure(base, token, document_id, args.runs))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"{'scenario':<44} {'first page':>11} {'max':>8} {'pdf.js':>8} {'reopen':>8} "
        f"{'(pdf.js)':>8} {'bytes*':>10} {'reqs':>5}"
    )
    print("* sum of Content-Length, including the first full response pdf.js aborts")
    for name, f in figures.items():
        print(
            f"{name:<44} {f['first_page_ms_median']:>9.0f}ms {f['first_page_ms_max']:>6.0f}ms "
            f"{f['pdfjs_page_ms_median']:>6.0f}ms {f['reopen_ms_median']:>6.0f}ms "
            f"{f['reopen_pdfjs_ms_median']:>6.0f}ms "
            f"{f['bytes_median']:>10} {f['requests_median']:>5} "
            f"({f['range_responses_median']} × 206)"
        )
    print(json.dumps({"pdf_bytes": len(pdf), "figures": figures}))


if __name__ == "__main__":
    main()
