"""Public routes: published resolutions and the `/verify` page (docs/features/archive.md,
"Public (no login)").

No login. `/verify` is a small server-rendered page whose script is a separate file
(`/verify.js`), so the content security policy needs no inline scripts; the script posts the
chosen PDF to `POST /api/public/verify` and shows the report with `textContent` only.

The verifier is open to anyone, so it has bounds of its own: a file of at most
`QUORUM_VERIFY_MAX_MB` (20 MiB), streamed to a temporary file, and at most
`QUORUM_VERIFY_CONCURRENCY` checks at once; one more is answered 503 `busy` with `Retry-After`
at once, before its body is read.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import anyio
from starlette.responses import HTMLResponse, Response

from meetings.domain.text import fold
from meetings.http.api import Api, Call
from meetings.http.errors import error_response
from meetings.http.pdf_files import pdf_response
from meetings.http.uploads import check_pdf_type, spooled_body
from meetings.services.archive import records as archive
from meetings.services.context import Services

BUSY_RETRY_S = 5
"""Seconds a refused verification is asked to wait; one check takes about a second."""

PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiểm tra chữ ký số — Quorum</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d232a; line-height: 1.5; }
h1 { font-size: 1.5rem; }
form { border: 1px solid #ccd; border-radius: 8px; padding: 1rem; background: #f7f8fb; }
button { font-size: 1rem; padding: .4rem 1.2rem; margin-top: .6rem; }
#verdict { font-size: 1.2rem; font-weight: bold; margin-top: 1.2rem; }
#verdict.ok { color: #116622; } #verdict.bad { color: #b00020; }
#details { white-space: pre-wrap; background: #f4f4f4; padding: .8rem; border-radius: 6px; }
#details:empty { display: none; }
.en { color: #555; font-size: .9rem; }
</style>
</head>
<body>
<h1>Kiểm tra chữ ký số của văn bản</h1>
<p>Chọn tệp PDF (nghị quyết, biên bản) để kiểm tra: tính toàn vẹn, người ký, chứng thư số và
tình trạng thu hồi, dấu thời gian, sửa đổi sau khi ký, và tệp có đúng là bản đã lưu trữ.</p>
<p class="en">Verify a signed PDF: integrity, signer, certificate path and revocation status,
time-stamp, changes after signing, and whether it is the archived record. The file is checked
on the server and not kept.</p>
<form id="verify-form" action="/api/public/verify" method="post">
  <label for="file">Tệp PDF / PDF file:</label><br>
  <input id="file" name="file" type="file" accept="application/pdf,.pdf" required><br>
  <button type="submit">Kiểm tra / Verify</button>
</form>
<noscript><p>Trang này cần JavaScript. Hoặc dùng lệnh <code>quorum verify tệp.pdf</code>.</p>
</noscript>
<div id="verdict" role="status" aria-live="polite"></div>
<div id="archived"></div>
<pre id="details"></pre>
<p><a href="/api/public/resolutions">Danh sách nghị quyết đã công bố (JSON)</a></p>
<script src="/verify.js"></script>
</body>
</html>
"""

SCRIPT = """'use strict';
(function () {
  var form = document.getElementById('verify-form');
  var verdict = document.getElementById('verdict');
  var details = document.getElementById('details');
  var archived = document.getElementById('archived');
  function csrf() {
    var m = document.cookie.match(/(?:^|; )quorum_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : '';
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = document.getElementById('file').files[0];
    if (!file) { return; }
    verdict.className = ''; verdict.textContent = 'Đang kiểm tra… / Checking…';
    details.textContent = ''; archived.textContent = '';
    var headers = {'Content-Type': 'application/pdf'};
    var token = csrf();
    if (token) { headers['X-CSRF-Token'] = token; }
    fetch('/api/public/verify', {method: 'POST', body: file, headers: headers,
                                 credentials: 'same-origin'})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) {
          verdict.className = 'bad';
          verdict.textContent = body.error.message;
          return;
        }
        verdict.className = body.ok ? 'ok' : 'bad';
        verdict.textContent = body.ok
          ? 'HỢP LỆ — chữ ký số hợp lệ, tệp không bị thay đổi. / VALID'
          : 'KHÔNG HỢP LỆ: ' + (body.reason_vi || '') + ' / NOT VALID: ' + (body.reason || '');
        if (body.archived && body.archived.number !== undefined) {
          archived.textContent = 'Đúng bản lưu trữ / Matches the archived record: ' +
            body.archived.label + ' — ' + body.archived.title + ' (' + body.archived.date + ')';
        } else if (body.archived) {
          archived.textContent = 'Đúng bản lưu trữ / Matches an archived record.';
        } else {
          archived.textContent = 'Không trùng bản lưu trữ nào / Not an archived file.';
        }
        details.textContent = body.summary_vi + '\\n\\n' + body.summary;
      })
      .catch(function () {
        verdict.className = 'bad';
        verdict.textContent = 'Không kiểm tra được / The check failed.';
      });
  });
})();
"""


async def page(_call: Call) -> Response:
    return HTMLResponse(PAGE, headers={"cache-control": "no-cache"})


async def script(_call: Call) -> Response:
    return Response(
        SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "no-cache"},
    )


def _gate(services: Services) -> asyncio.Semaphore:
    checks = max(1, services.settings.verify_concurrency)
    return services.shared("public_verify", asyncio.Semaphore, lambda: asyncio.Semaphore(checks))


async def verify(call: Call) -> dict[str, Any] | Response:
    gate = _gate(call.services)
    if gate.locked():  # full: refused before a byte of the body is read
        busy = error_response(
            503,
            "busy",
            "the verifier is checking other files; try again in a few seconds",
            {"retry_after_s": BUSY_RETRY_S},
        )
        busy.headers["retry-after"] = str(BUSY_RETRY_S)
        return busy
    check_pdf_type(call.request)
    settings = call.services.settings
    async with gate:
        limit = settings.verify_max_mb * 1024 * 1024
        async with spooled_body(call.request, settings.data_dir, limit) as path:
            pdf = await anyio.to_thread.run_sync(path.read_bytes)
        return await archive.verify_upload(call.services, pdf)


async def list_public(call: Call) -> dict[str, Any]:
    return await archive.public_resolutions(
        call.services,
        call.request.query_params.get("q", ""),
        call.query_int("limit") or 50,
        call.query_int("offset") or 0,
    )


async def public_file(call: Call) -> Response:
    record = await archive.public_record(call.services, call.int_param("record_id"))
    stem = re.sub(r"[^a-z0-9-]+", "-", fold(record.number or record.title)).strip("-")[:60]
    return await pdf_response(
        call.services, record.sha256, f"nghi-quyet-{stem or record.id}.pdf", public=True
    )


ROUTES: list[Api] = [
    Api("GET", "/api/public/resolutions", list_public,
        "Published resolutions with a download URL each; ?q= (with or without diacritics), "
        "limit, offset", auth=False, tag="public", query=("q", "limit", "offset")),
    Api("GET", "/api/public/resolutions/{record_id:int}/file", public_file,
        "A published resolution's signed PDF", auth=False, tag="public"),
    Api("POST", "/api/public/verify", verify,
        "Verify a signed PDF (body: the PDF) and match it against the archive", auth=False,
        tag="public", raw_body="application/pdf"),
    Api("GET", "/verify", page, "The public verification page (HTML)", auth=False,
        tag="public"),
    Api("GET", "/verify.js", script, "Script of the verification page", auth=False,
        tag="public"),
]  # fmt: skip
