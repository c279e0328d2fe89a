"""pdfium from several threads at once: page images and text pages share one lock
(`meetings/documents/pdfium_lock.py`). Without it, mixed renders and text reads of a long
document fail with "Failed to load page" or "Data format error"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from meetings.documents.generate import generate_agenda_document, vietnamese_paragraphs
from meetings.documents.page_image import render_page_png
from meetings.documents.text_boxes import TextLocator

PAGES = 120


def test_renders_and_text_reads_in_many_threads_all_succeed() -> None:
    pdf = generate_agenda_document("Tài liệu", vietnamese_paragraphs(40, seed=1), pages=PAGES)

    def render(i: int) -> int:
        return len(render_page_png(pdf, i % PAGES, width=800))

    def words(i: int) -> int:
        with TextLocator(pdf) as locator:
            return len(locator.page(i % PAGES).words())

    with ThreadPoolExecutor(max_workers=16) as pool:
        sizes = list(pool.map(lambda i: render(i) if i % 2 else -words(i), range(200)))
    assert all(size > 1000 for size in sizes[1::2])  # every page image rendered
    assert all(size < -10 for size in sizes[::2])  # every page's words read
