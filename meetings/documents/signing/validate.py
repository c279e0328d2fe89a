"""Verification of signed PDFs: `quorum verify`, the public page (docs/features/signing.md,
"Verifying").

`verify_pdf_bytes` never raises for a bad file: it returns a `VerificationReport` with one
`SignatureReport` per signature or document time-stamp, `ok`, and `summary()` in plain words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from pyhanko.keys import load_certs_from_pemder, load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend

CertSource = str | Path | bytes
"""A certificate as a file path, or PEM/DER bytes."""

_TRUST_PROBLEMS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "it does not chain to any of the given trust roots",
    "OUT_OF_BOUNDS_NO_POE": "it had expired (or was not yet valid) when it was used",
    "OUT_OF_BOUNDS_NOT_REVOKED": "it had expired when it was used",
    "EXPIRED": "it has expired",
    "NOT_YET_VALID": "it was not yet valid",
    "REVOKED_NO_POE": "it was revoked",
    "TRY_LATER": "its revocation status could not be obtained",
    "CHAIN_CONSTRAINTS_FAILURE": "its chain breaks a CA constraint",
    "SIG_CONSTRAINTS_FAILURE": "it is not allowed to make this kind of signature",
}

_TRUST_PROBLEMS_VI = {
    "NO_CERTIFICATE_CHAIN_FOUND": "không dẫn về chứng thư gốc tin cậy nào",
    "OUT_OF_BOUNDS_NO_POE": "đã hết hạn (hoặc chưa có hiệu lực) khi được dùng",
    "OUT_OF_BOUNDS_NOT_REVOKED": "đã hết hạn khi được dùng",
    "EXPIRED": "đã hết hạn",
    "NOT_YET_VALID": "chưa có hiệu lực",
    "REVOKED_NO_POE": "đã bị thu hồi",
    "TRY_LATER": "không lấy được tình trạng thu hồi",
    "CHAIN_CONSTRAINTS_FAILURE": "chuỗi chứng thư vi phạm ràng buộc của CA",
    "SIG_CONSTRAINTS_FAILURE": "không được phép tạo loại chữ ký này",
}
"""The same reasons in Vietnamese, for the public verification page (docs/features/archive.md)."""

_ALLOWED_AFTER = (
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
)


@dataclass(frozen=True)
class SignatureReport:
    """What one signature (or document time-stamp) in the file says."""

    field_name: str
    kind: str
    """`signature` or `document_timestamp`."""
    signer_name: str | None
    """Common name of the signer's (or TSA's) certificate."""
    signer_subject: str | None
    signing_time: dt.datetime | None
    """Time the signer claims (not proof: see `timestamp_time`)."""
    timestamp_time: dt.datetime | None
    """Time vouched for by a trusted time-stamp, if any."""
    intact: bool
    """The signed bytes were not altered."""
    valid: bool
    """The cryptographic signature checks out."""
    trusted: bool
    """The certificate chains to a trust root and was usable (not expired, not revoked)."""
    revocation: str
    """`good`, `revoked` or `unknown`."""
    coverage: str
    """`entire_file`, `entire_revision`, `contiguous_block_from_start` or `unclear`."""
    modification: str | None
    """What changed after this signature: `none`, `lta_updates`, `form_filling`,
    `annotations`, `other`, or None if not analysed."""
    modified_after: bool
    """Content changed after this signature in a way signing and archiving do not explain."""
    problems: tuple[str, ...]
    """Plain-language reasons this signature is not fine; empty when `ok`."""
    problems_vi: tuple[str, ...] = ()
    """The same reasons in Vietnamese, one for one."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def covers_whole_file(self) -> bool:
        return self.coverage == "entire_file"


_SUMMARY_EN = {
    "valid": "VALID: {n} signature{s} checked; the file is unchanged since it was signed.",
    "plural": "s",
    "not_valid": "NOT VALID: {reason}.",
    "some_failed": "a signature failed the checks",
    "unknown": "unknown signer",
    "doc_ts": "Document time-stamp",
    "signature": "Signature",
    "by": "by",
    "time": "%Y-%m-%d %H:%M:%S %Z",
    "stamped": " (time-stamped)",
    "ok": "valid",
    "invalid": "INVALID: ",
}
_SUMMARY_VI = {
    "valid": "HỢP LỆ: đã kiểm tra {n} chữ ký{s}; tệp không bị thay đổi kể từ khi ký.",
    "plural": "",
    "not_valid": "KHÔNG HỢP LỆ: {reason}.",
    "some_failed": "có chữ ký không đạt khi kiểm tra",
    "unknown": "người ký không xác định",
    "doc_ts": "Dấu thời gian văn bản",
    "signature": "Chữ ký",
    "by": "của",
    "time": "%d/%m/%Y %H:%M:%S %Z",
    "stamped": " (có dấu thời gian)",
    "ok": "hợp lệ",
    "invalid": "KHÔNG HỢP LỆ: ",
}
"""The words of `VerificationReport.summary()` and `summary_vi()`: one layout, two languages."""


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on one file."""

    archive_hash: str
    """SHA-256 (hex) of the bytes checked, to compare with the archive record."""
    size: int
    signatures: tuple[SignatureReport, ...]
    changed_after_last_signature: bool
    """The file has changes after its last signature beyond revocation data and time-stamps."""
    reason: str | None
    """Why the file as a whole failed (unreadable, no signatures, changed), or None."""
    reason_vi: str | None = None
    """The same reason in Vietnamese."""

    @property
    def ok(self) -> bool:
        return self.reason is None and all(sig.ok for sig in self.signatures)

    def summary(self) -> str:
        """A few lines in plain words."""
        return self._summary(_SUMMARY_EN, self.reason, lambda sig: sig.problems)

    def summary_vi(self) -> str:
        """`summary()` in Vietnamese, for the public page and the CLI."""
        return self._summary(_SUMMARY_VI, self.reason_vi, lambda sig: sig.problems_vi)

    def _summary(
        self,
        words: dict[str, str],
        reason: str | None,
        problems: Callable[[SignatureReport], tuple[str, ...]],
    ) -> str:
        n = len(self.signatures)
        if self.ok:
            plural = words["plural"] if n != 1 else ""
            lines = [words["valid"].format(n=n, s=plural)]
        else:
            lines = [words["not_valid"].format(reason=reason or words["some_failed"])]
        for sig in self.signatures:
            who = sig.signer_name or words["unknown"]
            what = words["doc_ts"] if sig.kind == "document_timestamp" else words["signature"]
            when = sig.timestamp_time or sig.signing_time
            when_text = f", {when.strftime(words['time'])}" if when else ""
            stamp = words["stamped"] if sig.timestamp_time and sig.kind == "signature" else ""
            verdict = words["ok"] if sig.ok else words["invalid"] + "; ".join(problems(sig))
            lines.append(
                f"- {what} '{sig.field_name}' {words['by']} {who}{when_text}{stamp}: {verdict}"
            )
        lines.append(f"SHA-256: {self.archive_hash}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO 8601)."""
        body = asdict(self)
        body["ok"] = self.ok
        for sig, raw in zip(self.signatures, body["signatures"], strict=True):
            raw["ok"] = sig.ok
            for key in ("signing_time", "timestamp_time"):
                if raw[key] is not None:
                    raw[key] = raw[key].isoformat()
        return body


def _load_sources(sources: Sequence[CertSource]) -> list[Any]:
    certs: list[Any] = []
    for source in sources:
        if isinstance(source, bytes):
            certs.extend(load_certs_from_pemder_data(source))
        else:
            certs.extend(load_certs_from_pemder([str(source)]))  # type: ignore[no-untyped-call]
    return certs


def _name(cert: Any) -> tuple[str | None, str | None]:
    if cert is None:
        return None, None
    native = cert.subject.native
    return native.get("common_name"), cert.subject.human_friendly


def _modification(status: Any) -> str | None:
    level = status.modification_level
    return None if level is None else str(level.name).lower()


def _problems(status: Any, *, is_timestamp: bool) -> list[tuple[str, str]]:
    """(English, Vietnamese) for each reason the signature is not fine."""
    problems: list[tuple[str, str]] = []
    if not status.intact:
        problems.append(("the signed content was altered", "nội dung đã ký bị thay đổi"))
    elif not status.valid:
        problems.append(("the cryptographic signature does not match", "chữ ký số không khớp"))
    if status.revoked:
        when = status.revocation_details.revocation_date
        problems.append(
            (
                f"the certificate was revoked on {when:%Y-%m-%d}",
                f"chứng thư số đã bị thu hồi ngày {when:%d/%m/%Y}",
            )
        )
    elif status.intact and status.valid and not status.trusted:
        indic = status.trust_problem_indic
        name = indic.name if indic is not None else ""
        detail = _TRUST_PROBLEMS.get(name, name.lower().replace("_", " ") or "unknown reason")
        detail_vi = _TRUST_PROBLEMS_VI.get(name, name.lower().replace("_", " ") or "không rõ lý do")
        problems.append(
            (
                f"the certificate is not trusted: {detail}",
                f"chứng thư số không được tin cậy: {detail_vi}",
            )
        )
    level = status.modification_level
    if level is not None and level not in _ALLOWED_AFTER:
        problems.append(
            ("the document was modified after this signature", "văn bản bị sửa sau chữ ký này")
        )
    elif status.coverage is not None and status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        problems.append(
            (
                "the signature does not cover its whole revision",
                "chữ ký không bao trùm toàn bộ phiên bản của nó",
            )
        )
    if not is_timestamp:
        ts = status.timestamp_validity
        if ts is not None and not (ts.intact and ts.valid and ts.trusted):
            problems.append(
                (
                    "its signature time-stamp is not valid or not trusted",
                    "dấu thời gian của chữ ký không hợp lệ hoặc không được tin cậy",
                )
            )
        if status.docmdp_ok is False and level in _ALLOWED_AFTER:
            problems.append(
                (
                    "later changes break the document's modification policy",
                    "các thay đổi sau đó vi phạm quy định sửa đổi của văn bản",
                )
            )
    return problems


async def _check_one(embedded: Any, vc: ValidationContext) -> SignatureReport:
    is_ts = embedded.sig_object_type == "/DocTimeStamp"
    try:
        if is_ts:
            status: Any = await async_validate_pdf_timestamp(embedded, validation_context=vc)
        else:
            status = await async_validate_pdf_signature(embedded, vc, ts_validation_context=vc)
    except Exception as exc:  # pyHanko raises many types for malformed signatures
        name, subject = _name(getattr(embedded, "signer_cert", None))
        return SignatureReport(
            str(embedded.field_name),
            "document_timestamp" if is_ts else "signature",
            name,
            subject,
            None,
            None,
            False,
            False,
            False,
            "unknown",
            "unclear",
            None,
            True,
            (f"the signature could not be checked: {exc}",),
            (f"không kiểm tra được chữ ký: {exc}",),
        )
    name, subject = _name(status.signing_cert)
    if is_ts:
        signing_time, ts_time = None, status.timestamp
    else:
        signing_time = status.signer_reported_dt
        tsv = status.timestamp_validity
        ts_time = tsv.timestamp if tsv is not None and tsv.trusted else None
    level = status.modification_level
    problems = _problems(status, is_timestamp=is_ts)
    revocation = "revoked" if status.revoked else ("good" if status.trusted else "unknown")
    coverage = status.coverage.name.lower() if status.coverage is not None else "unclear"
    return SignatureReport(
        field_name=str(embedded.field_name),
        kind="document_timestamp" if is_ts else "signature",
        signer_name=name,
        signer_subject=subject,
        signing_time=signing_time,
        timestamp_time=ts_time,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        revocation=revocation,
        coverage=coverage,
        modification=_modification(status),
        modified_after=level is not None and level not in _ALLOWED_AFTER,
        problems=tuple(en for en, _ in problems),
        problems_vi=tuple(vi for _, vi in problems),
    )


def _failed(pdf: bytes, digest: str, reason: str, reason_vi: str) -> VerificationReport:
    return VerificationReport(digest, len(pdf), (), False, reason, reason_vi)


async def verify_pdf_bytes(
    pdf: bytes,
    trust_roots: Sequence[CertSource],
    *,
    extra_certs: Sequence[CertSource] = (),
    allow_fetching: bool = True,
    revocation_mode: str = "soft-fail",
    moment: dt.datetime | None = None,
) -> VerificationReport:
    """Check every signature and document time-stamp in `pdf` against `trust_roots`.

    Revocation data embedded in the file (DSS) is used first; with `allow_fetching` missing
    OCSP responses and CRLs are fetched. Never raises for a bad file.
    """
    digest = hashlib.sha256(pdf).hexdigest()
    if not pdf.startswith(b"%PDF-"):
        return _failed(pdf, digest, "the file is not a PDF", "tệp không phải là PDF")
    if not pdf.rstrip().endswith(b"%%EOF"):
        return _failed(
            pdf,
            digest,
            "the file is truncated or has data after its end marker",
            "tệp bị cắt cụt hoặc có dữ liệu sau dấu kết thúc",
        )
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # malformed PDFs raise anything from KeyError to PdfReadError
        return _failed(
            pdf,
            digest,
            f"the PDF cannot be read (damaged or truncated): {exc}",
            f"không đọc được tệp PDF (hỏng hoặc bị cắt cụt): {exc}",
        )
    if not embedded:
        return _failed(
            pdf, digest, "the file carries no digital signature", "tệp không có chữ ký số nào"
        )
    try:
        roots = _load_sources(trust_roots)
        others = _load_sources(extra_certs)
    except (OSError, ValueError) as exc:
        return _failed(
            pdf,
            digest,
            f"cannot read the trust roots: {exc}",
            f"không đọc được các chứng thư gốc tin cậy: {exc}",
        )
    if not roots:
        return _failed(
            pdf,
            digest,
            "no trust roots were given, so no signer can be trusted",
            "chưa có chứng thư gốc tin cậy nào, nên không người ký nào được tin cậy",
        )
    kwargs: dict[str, Any] = {
        "trust_roots": roots,
        "other_certs": others,
        "allow_fetching": allow_fetching,
        "revocation_mode": revocation_mode,
    }
    if allow_fetching:
        kwargs["fetcher_backend"] = OwnedFetcherBackend(
            AIOHttpFetcherBackend(per_request_timeout=10)
        )
    if moment is not None:
        kwargs["moment"] = moment
    try:
        vc = DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
    except Exception:  # no DSS, or an unreadable one: fall back to fetching
        vc = ValidationContext(**kwargs)
    try:
        reports = tuple([await _check_one(sig, vc) for sig in embedded])
    finally:
        await vc.aclose()  # type: ignore[no-untyped-call]
    last = reports[-1]
    changed = last.coverage != "entire_file" and last.modification not in ("none", "lta_updates")
    reason = reason_vi = None
    if changed:
        reason = "the file was changed after its last signature"
        reason_vi = "tệp bị thay đổi sau chữ ký cuối cùng"
    elif not all(r.ok for r in reports):
        bad = next(r for r in reports if not r.ok)
        reason = f"signature '{bad.field_name}' failed: {bad.problems[0]}"
        reason_vi = f"chữ ký '{bad.field_name}' không đạt: {bad.problems_vi[0]}"
    return VerificationReport(digest, len(pdf), reports, changed, reason, reason_vi)
