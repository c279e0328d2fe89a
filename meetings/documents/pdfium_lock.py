"""One lock around every call into pdfium (docs/features/documents.md, "Ingest").

pdfium may not be called from two threads at once, even on different documents: page images are
rendered in worker threads, and two renders at a time failed with "Failed to load page" while a
reader scrolled a 500-page document. Carrying annotations to a new version and a page's words
read pdfium's text pages in worker threads too, so they take the same lock. Re-entrant, so a
holder may open a second document (carrying reads the old and the new version together).
"""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
