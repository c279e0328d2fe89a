"""PAdES levels over a real loopback TSA/OCSP/CRL, and what verification reports."""

from __future__ import annotations

import unicodedata
from io import BytesIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from pyhanko.pdf_utils.generic import NameObject, StreamObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.timestamps import TimeStamper

from meetings.documents.signing.api import (
    Pkcs12Config,
    SignatureLevel,
    SignerUnavailable,
    SigningFailed,
    TrustSettings,
    create_signer,
)
from meetings.documents.signing.sign import (
    add_archive_timestamp,
    create_validation_context,
    sign_pdf_bytes,
)
from meetings.documents.signing.validate import verify_pdf_bytes
from tests.support.pdfsig import assert_pdfsig_valid, pdfsig
from tests.support.pki import TestPki
from tests.support.pki_services import (
    TestServices,
    create_in_process_timestamper,
)

from .conftest import CHAIR_STAMP, SEAL_STAMP


async def _sign(
    pdf: bytes,
    pki: TestPki,
    level: SignatureLevel,
    ts: TimeStamper | None,
    trust: TrustSettings,
    who: str = "chair",
    field: str = "Chair",
) -> bytes:
    identity = getattr(pki, who)
    vc = create_validation_context(trust) if level.needs_validation_context else None
    try:
        stamp = CHAIR_STAMP if who != "seal" else SEAL_STAMP
        return await sign_pdf_bytes(
            pdf, create_signer(identity.pkcs12_config()), level, field, stamp, ts, vc
        )
    finally:
        if vc is not None:
            await vc.aclose()


@pytest.mark.parametrize("level", list(SignatureLevel))
async def test_each_level_signs_and_verifies_over_http(
    level: SignatureLevel,
    draft_pdf: bytes,
    pki: TestPki,
    services: TestServices,
    http_timestamper: TimeStamper,
    trust: TrustSettings,
) -> None:
    before = dict(services.counts)
    signed = await _sign(draft_pdf, pki, level, http_timestamper, trust)
    assert_pdfsig_valid(signed, whole=level in (SignatureLevel.B_B, SignatureLevel.B_T))
    report = await verify_pdf_bytes(
        signed,
        [pki.root_cert_path],
        allow_fetching=False if level.needs_validation_context else True,
    )
    assert report.ok, report.summary()
    sig = report.signatures[0]
    assert sig.signer_name == "Nguyễn Văn An" and sig.trusted and sig.intact
    n = len(report.signatures)  # B-LTA adds a document time-stamp
    assert report.summary_vi().startswith(f"HỢP LỆ: đã kiểm tra {n} chữ ký")
    assert "của Nguyễn Văn An" in report.summary_vi() and ": hợp lệ" in report.summary_vi()
    tsa_calls = services.counts["tsa"] - before.get("tsa", 0)
    if level is SignatureLevel.B_B:
        assert sig.timestamp_time is None and tsa_calls == 0
    else:
        assert sig.timestamp_time is not None and tsa_calls >= 1
    if level.needs_validation_context:
        assert b"/DSS" in signed and b"/OCSPs" in signed
        assert services.counts["ocsp"] > before.get("ocsp", 0)
    if level is SignatureLevel.B_LTA:
        assert [s.kind for s in report.signatures] == ["signature", "document_timestamp"]
    assert report.archive_hash == __import__("hashlib").sha256(signed).hexdigest()


async def test_chair_then_seal_both_valid_in_order(
    draft_pdf: bytes, pki: TestPki, http_timestamper: TimeStamper, trust: TrustSettings
) -> None:
    chair = await _sign(draft_pdf, pki, SignatureLevel.B_LT, http_timestamper, trust)
    both = await _sign(chair, pki, SignatureLevel.B_LT, http_timestamper, trust, "seal", "Seal")
    assert_pdfsig_valid(both, count=2, whole=False)
    assert both.startswith(chair)  # incremental update: the chair's bytes are untouched
    report = await verify_pdf_bytes(both, [pki.root_cert_path])
    assert report.ok, report.summary()
    assert [s.field_name for s in report.signatures] == ["Chair", "Seal"]
    assert report.signatures[0].modification == "form_filling"
    assert (
        report.signatures[1].covers_whole_file or report.signatures[1].modification == "lta_updates"
    )


async def test_archive_timestamp_added_and_renewed(
    draft_pdf: bytes, pki: TestPki, http_timestamper: TimeStamper, trust: TrustSettings
) -> None:
    signed = await _sign(draft_pdf, pki, SignatureLevel.B_LT, http_timestamper, trust)
    vc = create_validation_context(trust)
    try:
        once = await add_archive_timestamp(signed, http_timestamper, vc)
        twice = await add_archive_timestamp(once, http_timestamper, vc)
    finally:
        await vc.aclose()
    report = await verify_pdf_bytes(twice, [pki.root_cert_path])
    assert report.ok, report.summary()
    assert [s.kind for s in report.signatures].count("document_timestamp") == 2


async def test_in_process_timestamper(draft_pdf: bytes, pki: TestPki, trust: TrustSettings) -> None:
    signed = await _sign(
        draft_pdf, pki, SignatureLevel.B_T, create_in_process_timestamper(pki), trust
    )
    report = await verify_pdf_bytes(signed, [pki.root_cert_path])
    assert report.ok and report.signatures[0].timestamp_time is not None


@pytest.fixture(scope="module")
async def signed_bt(
    draft_pdf: bytes, pki: TestPki, http_timestamper: TimeStamper, trust: TrustSettings
) -> bytes:
    return await _sign(draft_pdf, pki, SignatureLevel.B_T, http_timestamper, trust)


def test_pdfsig_agrees_a_signed_file_is_valid_and_whole(signed_bt: bytes) -> None:
    assert_pdfsig_valid(signed_bt, count=1)


def test_pdfsig_sees_a_flipped_byte_and_an_appended_change(signed_bt: bytes) -> None:
    """The independent verifier catches what ours catches (a byte in the signed range; an
    incremental update changing a page after the signature)."""
    tampered = bytearray(signed_bt)
    tampered[signed_bt.index(b"/MediaBox") + 12] ^= 0x01
    signatures, output = pdfsig(bytes(tampered))
    assert signatures and not signatures[0].valid, output
    signatures, output = pdfsig(_append_page_change(signed_bt))
    assert signatures[0].valid, output  # the signed revision is intact...
    assert not signatures[0].whole_file, output  # ...but the file goes on after it


async def test_one_flipped_byte_is_caught(signed_bt: bytes, pki: TestPki) -> None:
    page_dict = signed_bt.index(b"/MediaBox") + 12
    for offset in (page_dict, 200, len(signed_bt) - 40):
        tampered = bytearray(signed_bt)
        tampered[offset] ^= 0x01
        report = await verify_pdf_bytes(bytes(tampered), [pki.root_cert_path])
        assert not report.ok, f"flip at {offset} went unnoticed"
        assert report.archive_hash != (await verify_pdf_bytes(signed_bt, [])).archive_hash


def _append_page_change(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (Altered) Tj ET")
    page[NameObject("/Contents")] = writer.add_object(stream)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_appended_update_changing_a_page_is_reported_modified(
    signed_bt: bytes, pki: TestPki
) -> None:
    altered = _append_page_change(signed_bt)
    report = await verify_pdf_bytes(altered, [pki.root_cert_path])
    assert not report.ok
    assert report.changed_after_last_signature
    sig = report.signatures[0]
    assert sig.intact and sig.trusted  # the signed revision itself is fine...
    assert sig.modified_after and sig.modification == "other"  # ...but the file changed after
    assert "changed after" in report.summary()
    assert "tệp bị thay đổi sau chữ ký cuối cùng" in report.summary_vi()
    assert "văn bản bị sửa sau chữ ký này" in report.summary_vi()


@pytest.mark.parametrize(
    ("who", "words", "words_vi"),
    [("revoked", "revoked", "đã bị thu hồi"), ("expired", "expired", "hết hạn")],
)
async def test_revoked_and_expired_signers_fail(
    who: str,
    words: str,
    words_vi: str,
    draft_pdf: bytes,
    pki: TestPki,
    http_timestamper: TimeStamper,
    trust: TrustSettings,
) -> None:
    signed = await _sign(draft_pdf, pki, SignatureLevel.B_T, http_timestamper, trust, who)
    report = await verify_pdf_bytes(signed, [pki.root_cert_path])
    assert not report.ok
    sig = report.signatures[0]
    assert sig.intact and sig.valid and not sig.trusted
    assert words in report.summary()
    assert words_vi in report.summary_vi() and report.summary_vi().startswith("KHÔNG HỢP LỆ")
    assert len(sig.problems_vi) == len(sig.problems)
    if who == "revoked":
        assert sig.revocation == "revoked"


async def test_revoked_signer_refused_at_b_lt(
    draft_pdf: bytes, pki: TestPki, http_timestamper: TimeStamper, trust: TrustSettings
) -> None:
    with pytest.raises(SigningFailed):
        await _sign(draft_pdf, pki, SignatureLevel.B_LT, http_timestamper, trust, "revoked")


async def test_wrong_trust_root(signed_bt: bytes, pki: TestPki) -> None:
    report = await verify_pdf_bytes(signed_bt, [pki.other_root_cert_path])
    assert not report.ok
    assert "does not chain to any of the given trust roots" in report.summary()
    assert "không dẫn về chứng thư gốc tin cậy nào" in report.summary_vi()
    assert not report.signatures[0].trusted and report.signatures[0].intact


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not a PDF"),
        (b"GIF89a not a pdf", "not a PDF"),
        (b"%PDF-1.7\n garbage %%EOF", "cannot be read"),
    ],
)
async def test_bad_files_yield_reports(data: bytes, words: str, pki: TestPki) -> None:
    report = await verify_pdf_bytes(data, [pki.root_cert_path])
    assert not report.ok and report.reason and words in report.reason
    assert report.reason_vi and report.reason_vi in report.summary_vi()


async def test_truncated_and_unsigned(signed_bt: bytes, draft_pdf: bytes, pki: TestPki) -> None:
    for cut in (300, len(signed_bt) // 2):
        report = await verify_pdf_bytes(signed_bt[:-cut], [pki.root_cert_path])
        assert not report.ok and report.reason, cut
    report = await verify_pdf_bytes(draft_pdf, [pki.root_cert_path])
    assert not report.ok and "no digital signature" in (report.reason or "")
    assert report.reason_vi == "tệp không có chữ ký số nào"


async def test_stamp_renders_vietnamese_with_embedded_font(signed_bt: bytes) -> None:
    doc = pdfium.PdfDocument(signed_bt)
    page = doc[len(doc) - 1]
    assert (
        pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY) == pdfium_c.FLATTEN_SUCCESS
    )
    page.close()
    text = unicodedata.normalize("NFC", doc[len(doc) - 1].get_textpage().get_text_range())
    doc.close()
    for expected in ("Đã ký số bởi", "Nguyễn Văn An", "Chủ tịch Hội đồng nhân dân", "Thời gian ký"):
        assert expected in text
    assert b"/FontFile2" in signed_bt and b"/ToUnicode" in signed_bt


async def test_level_requirements_and_bad_keys(draft_pdf: bytes, pki: TestPki) -> None:
    signer = create_signer(pki.chair.pkcs12_config())
    with pytest.raises(SigningFailed, match="time-stamp"):
        await sign_pdf_bytes(draft_pdf, signer, SignatureLevel.B_T, "S", None)
    with pytest.raises(SigningFailed, match="not a readable PDF"):
        await sign_pdf_bytes(b"nope", signer, SignatureLevel.B_B, "S", None)
    bad = create_signer(Pkcs12Config(str(pki.chair.pkcs12_path), b"wrong"))
    with pytest.raises(SignerUnavailable, match="wrong passphrase"):
        await sign_pdf_bytes(draft_pdf, bad, SignatureLevel.B_B, "S", None)
    missing = create_signer(Pkcs12Config("/nonexistent.p12", b"x"))
    with pytest.raises(SignerUnavailable):
        missing.pyhanko_signer  # noqa: B018


async def test_signer_keeps_key_and_reserves_bytes(draft_pdf: bytes, pki: TestPki) -> None:
    signer = create_signer(pki.chair.pkcs12_config())
    first = signer.pyhanko_signer
    await sign_pdf_bytes(draft_pdf, signer, SignatureLevel.B_B, "A", None)
    await sign_pdf_bytes(draft_pdf, signer, SignatureLevel.B_B, "B", None)
    assert signer.pyhanko_signer is first
    assert signer.bytes_reserved(timestamped=True) > signer.bytes_reserved(timestamped=False) > 4000
