"""Poll adopted → resolution generated → signed → archived → published → listed → verified."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from io import BytesIO
from pathlib import Path

from pypdf import PdfWriter

from tests.integration.archive.conftest import CHAIR_PASSWORD, Flow, pdf_path, pdf_text
from tests.support.pdfsig import assert_pdfsig_valid, pdfsig
from tests.support.pki import TestPki

TITLE = "Nghị quyết về dự toán ngân sách tỉnh năm 2026"


def quorum_verify(path: Path, pki: TestPki, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meetings.cli", "verify", "--trust", str(pki.root_cert_path),
         "--cert", str(pki.intermediate.cert_path), *extra, str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def append_page_change(pdf: bytes) -> bytes:
    """An incremental update that rotates page 1 (the original bytes stay as they were)."""
    writer = PdfWriter(BytesIO(pdf), incremental=True)
    writer.pages[0].rotate(90)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_poll_to_verified_public_resolution(flow: Flow, tmp_path: Path) -> None:
    server = flow.server
    items = await flow.call("GET", f"/api/meetings/{flow.meeting_id}/agenda")
    item_id = items[0]["id"] if isinstance(items, list) else None
    poll_id = await flow.adopted_poll()
    draft = await flow.draft(poll_id, TITLE, item_id)
    assert draft["status"] == "draft" and draft["poll_id"] == poll_id
    # a delegate may not generate; an unadopted draft cannot be generated
    delegate = await server.token("delegate001")
    status, body, _ = await server.http(
        "POST", f"/api/resolutions/{draft['id']}/generate", token=delegate
    )
    assert status == 403 and body["error"]["code"] == "forbidden"
    unlinked = await flow.draft(None, "Dự thảo chưa biểu quyết")
    status, body, _ = await server.http(
        "POST", f"/api/resolutions/{unlinked['id']}/generate", token=flow.secretary
    )
    assert status == 409 and body["error"]["code"] == "no_poll"

    generated = await flow.call("POST", f"/api/resolutions/{draft['id']}/generate")
    assert generated["number"] == "1/NQ-HĐND" and generated["status"] == "generated"
    status, pdf, headers = await server.http(
        "GET", f"/api/resolutions/{draft['id']}/file?which=generated", token=flow.secretary
    )
    assert headers["cache-control"].startswith("private")  # not public yet: no shared cache
    text = pdf_text(pdf)
    assert "Nghị quyết số 1/NQ-HĐND" in text and TITLE in text and "Tán thành" in text
    assert "Điều 1. Phê chuẩn dự toán thu ngân sách nhà nước." in text  # the draft's page

    # the secretariat may not sign; the chair signs with the server's key, then the seal
    status, body, _ = await server.http(
        "POST", f"/api/resolutions/{draft['id']}/sign", token=flow.secretary,
        json=CHAIR_PASSWORD,
    )  # fmt: skip
    assert status == 403
    signed = await flow.call(
        "POST", f"/api/resolutions/{draft['id']}/sign", flow.chair_token, json=CHAIR_PASSWORD
    )
    assert signed["status"] == "signed"
    assert [s["field"] for s in signed["signatures"]] == ["Chair", "Seal"]
    assert all(s["ok"] and s["timestamp_time"] for s in signed["signatures"])

    record = await flow.call("POST", f"/api/resolutions/{draft['id']}/archive")
    assert record["public"] and record["number"] == "1/NQ-HĐND"
    assert [s["kind"] for s in record["signatures"]] == [
        "signature",
        "signature",
        "document_timestamp",
    ]  # B-LTA when archived
    # the public listing, no login: with and without diacritics
    for q in ("", "dự toán ngân sách", "du toan ngan sach", "1/NQ"):
        status, listing, _ = await server.http("GET", "/api/public/resolutions", params={"q": q})
        assert status == 200 and [r["id"] for r in listing["resolutions"]] == [record["id"]], q
    status, listing, _ = await server.http("GET", "/api/public/resolutions?q=giáo+dục")
    assert listing["resolutions"] == []
    entry = (await server.http("GET", "/api/public/resolutions"))[1]["resolutions"][0]
    assert entry["label"] == "Nghị quyết số 1/NQ-HĐND" and entry["title"] == TITLE
    status, archived_pdf, headers = await server.http("GET", entry["download_url"])
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert headers["cache-control"].startswith("public")  # published: any cache may keep it
    assert hashlib.sha256(archived_pdf).hexdigest() == entry["sha256"] == record["sha256"]

    # verify: the public endpoint and `quorum verify`
    status, report, _ = await server.http(
        "POST", "/api/public/verify", data=archived_pdf,
        headers={"content-type": "application/pdf"},
    )  # fmt: skip
    assert status == 200 and report["ok"], report["summary"]
    assert report["summary_vi"].startswith("HỢP LỆ") and report["reason_vi"] is None
    assert report["archived"]["id"] == record["id"]
    signers = [s["signer_name"] for s in report["report"]["signatures"]]
    assert signers[:2] == ["Nguyễn Văn An", "Hội đồng nhân dân tỉnh Thử Nghiệm"]
    pki = flow.pki
    good = await asyncio.to_thread(quorum_verify, pdf_path(tmp_path, "good.pdf", archived_pdf), pki)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "VALID" in good.stdout
    # and poppler's pdfsig, independent of ours: the chair's and the seal's signatures valid
    # (it cannot check the archive timestamp, nor judge the revisions added after them)
    assert_pdfsig_valid(archived_pdf, count=2, whole=False)
    both = await asyncio.to_thread(
        quorum_verify, pdf_path(tmp_path, "good.pdf", archived_pdf), pki, "--lang", "both"
    )
    assert both.returncode == 0 and both.stdout.index("HỢP LỆ") < both.stdout.index("VALID")

    # tamper: one byte inside the signed content; an appended update that changes a page
    at = archived_pdf.index(b"/MediaBox")
    one_byte = archived_pdf[: at + 2] + bytes([archived_pdf[at + 2] ^ 1]) + archived_pdf[at + 3 :]
    rotated = append_page_change(archived_pdf)
    for name, bad in (("one-byte.pdf", one_byte), ("rotated.pdf", rotated)):
        status, report, _ = await server.http(
            "POST", "/api/public/verify", data=bad, headers={"content-type": "application/pdf"}
        )
        assert status == 200 and not report["ok"] and report["archived"] is None, name
        assert report["reason_vi"] and report["summary_vi"].startswith("KHÔNG HỢP LỆ"), name
        result = await asyncio.to_thread(quorum_verify, pdf_path(tmp_path, name, bad), pki)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert "NOT VALID" in result.stdout
    signatures, output = pdfsig(one_byte)
    assert not all(s.valid for s in signatures if s.checked), output  # pdfsig: digest mismatch



async def test_a_batch_signed_at_once(flow: Flow) -> None:
    """The chair signs three resolutions at once: each is signed (chair, then seal) and checked;
    the server takes them in turns (one per signing worker, plus one being read or stored)."""
    ids = []
    for n in range(3):
        poll_id = await flow.adopted_poll(f"Thông qua nghị quyết thử số {n + 1}")
        draft = await flow.draft(poll_id, f"Nghị quyết thử số {n + 1}")
        await flow.call("POST", f"/api/resolutions/{draft['id']}/generate")
        ids.append(draft["id"])
    signed = await asyncio.gather(
        *(
            flow.call("POST", f"/api/resolutions/{i}/sign", flow.chair_token, json=CHAIR_PASSWORD)
            for i in ids
        )
    )
    for body in signed:
        assert body["status"] == "signed"
        assert [s["field"] for s in body["signatures"]] == ["Chair", "Seal"]
        assert all(s["ok"] and s["timestamp_time"] for s in body["signatures"])
