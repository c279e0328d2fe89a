"""The public `/verify` page in headless Chromium (Debian's, driven by Playwright): a citizen
picks a signed resolution and reads the verdict and the details in Vietnamese and English; a
tampered copy is NOT VALID (docs/features/archive.md, "Public (no login)")."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.async_api import async_playwright

from tests.conftest import Running, need
from tests.integration.archive.conftest import CHAIR_PASSWORD, Flow, pdf_path

CHROMIUM = "/usr/bin/chromium"


async def signed_resolution(flow: Flow, server: Running) -> bytes:
    poll_id = await flow.adopted_poll()
    draft = await flow.draft(poll_id, "Nghị quyết về kế hoạch đầu tư công năm 2027")
    await flow.call("POST", f"/api/resolutions/{draft['id']}/generate")
    await flow.call(
        "POST", f"/api/resolutions/{draft['id']}/sign", flow.chair_token, json=CHAIR_PASSWORD
    )
    status, pdf, _ = await server.http(
        "GET", f"/api/resolutions/{draft['id']}/file?which=signed", token=flow.secretary
    )
    assert status == 200
    data: bytes = pdf
    return data


async def test_verify_page_in_chromium(flow: Flow, server: Running, tmp_path: Path) -> None:
    need("Chromium", shutil.which(CHROMIUM) is not None, CHROMIUM)
    signed = await signed_resolution(flow, server)
    at = signed.index(b"/MediaBox")
    tampered = signed[: at + 2] + bytes([signed[at + 2] ^ 1]) + signed[at + 3 :]
    good = pdf_path(tmp_path, "nghi-quyet.pdf", signed)
    bad = pdf_path(tmp_path, "nghi-quyet-sua.pdf", tampered)
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--no-first-run"],
        )  # fmt: skip
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(server.base_url + "/verify")
            assert "Kiểm tra chữ ký số" in await page.title()

            await page.set_input_files("#file", str(good))
            await page.click("button[type=submit]")
            verdict = page.locator("#verdict.ok")
            await verdict.wait_for(timeout=60_000)
            assert (await verdict.text_content() or "").startswith("HỢP LỆ")
            details = await page.locator("#details").text_content() or ""
            vi, _, en = details.partition("\n\n")
            assert vi.startswith("HỢP LỆ: đã kiểm tra 2 chữ ký")
            assert "của Nguyễn Văn An" in vi and "có dấu thời gian" in vi
            assert en.startswith("VALID: 2 signatures checked") and "by Nguyễn Văn An" in en

            await page.set_input_files("#file", str(bad))
            await page.click("button[type=submit]")
            verdict = page.locator("#verdict.bad")
            await verdict.wait_for(timeout=60_000)
            text = await verdict.text_content() or ""
            assert text.startswith("KHÔNG HỢP LỆ: chữ ký") and "/ NOT VALID: signature" in text
            assert "nội dung đã ký bị thay đổi" in text
            details = await page.locator("#details").text_content() or ""
            assert details.startswith("KHÔNG HỢP LỆ") and "\n\nNOT VALID" in details
            archived = await page.locator("#archived").text_content() or ""
            assert archived.startswith("Không trùng bản lưu trữ nào")
            assert errors == []
        finally:
            await browser.close()
