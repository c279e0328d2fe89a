"""PAdES signing of PDF bytes with pyHanko's async API (docs/features/signing.md, "Signing").

`sign_pdf_bytes` adds one signature as an incremental update, so a resolution signed by the chair
and then sealed by the council keeps both signatures valid. Everything here is async and safe to
call inside a running event loop; CPU-heavy batches belong in a `SigningPool`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import tempfile
import unicodedata
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp
from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko.sign.validation import async_add_validation_info  # type: ignore[attr-defined]
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend

from meetings.documents.fonts import sans_font
from meetings.documents.signing.api import (
    QuorumSigner,
    SignatureLevel,
    SigningFailed,
    StampText,
    TrustSettings,
    TsaUnavailable,
    load_certificates,
)

MD_ALGORITHM = "sha256"


def create_timestamper(
    url: str, *, timeout: int = 10, session: aiohttp.ClientSession | LazySession | None = None
) -> TimeStamper:
    """An RFC 3161 client over HTTP (aiohttp; safe inside an event loop).

    Pass a long-lived `session` (or pyHanko's `LazySession`, closed by its owner) to reuse
    connections: without one, every time-stamp opens a new client session (~25 ms).
    """
    return HTTPTimeStamper(url, timeout=timeout, session=session)


_STAMP_UNICODES = (
    *range(0x20, 0x7F),
    *range(0xA0, 0x250),
    *range(0x300, 0x370),
    *range(0x1E00, 0x1F00),
    *range(0x2010, 0x2070),
    0x20AB,
)


def stamp_font_path(style: str = "Regular") -> str:
    """Be Vietnam Pro cut down to Latin + Vietnamese, without hinting or layout tables.

    pyHanko subsets the stamp font on every signature; the full face costs ~45 ms a time, this
    one ~15 ms. Vietnamese needs no layout tables once text is NFC (precomposed glyphs).
    Written once per machine into the temp folder (atomic rename), then reused.
    """
    source = sans_font(style)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"quorum-stamp-{style}-{digest}.ttf"
    if not target.is_file():
        options = subset.Options()
        options.layout_features = []
        options.hinting = False
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = TTFont(str(source))
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_STAMP_UNICODES)
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(partial))
        os.replace(partial, target)
    return str(target)


def create_validation_context(
    trust: TrustSettings,
    *,
    moment: dt.datetime | None = None,
    revocation_mode: str = "soft-fail",
) -> ValidationContext:
    """A certificate validation context from configured trust roots (fetching over aiohttp).

    The caller closes it with `await validation_context.aclose()` when done.
    """
    kwargs: dict[str, Any] = {
        "trust_roots": load_certificates(trust.trust_root_paths),
        "other_certs": load_certificates(trust.extra_cert_paths),
        "allow_fetching": trust.allow_fetching,
        "revocation_mode": revocation_mode,
    }
    if trust.allow_fetching:
        # owned: `await validation_context.aclose()` closes its HTTP session
        kwargs["fetcher_backend"] = OwnedFetcherBackend(
            AIOHttpFetcherBackend(per_request_timeout=10)
        )
    if moment is not None:
        kwargs["moment"] = moment
    return ValidationContext(**kwargs)


@functools.lru_cache(maxsize=4)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


class _InMemoryFontFactory(GlyphAccumulatorFactory):
    """Feeds pyHanko the font from memory (its factory leaks an open file per signature)."""

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer,
            font_handle=BytesIO(_font_bytes(self.font_file)),
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )


def create_stamp_style(stamp: StampText) -> TextStampStyle:
    """A text stamp in Be Vietnam Pro (embedded, subset) so Vietnamese renders everywhere."""
    font = _InMemoryFontFactory(stamp_font_path("Regular"), font_size=9)
    return TextStampStyle(
        stamp_text="%(heading)s:\n%(signer_name)s\n%(signer_title)s\n%(time_label)s: %(signed_at)s",
        text_box_style=TextBoxStyle(font=font, font_size=9, leading=12),
        border_width=1,
        background=None,
    )


def stamp_text_params(stamp: StampText, when: dt.datetime) -> dict[str, str]:
    """Values for the stamp's placeholders; the time is shown in the stamp's time zone."""
    zone = dt.timezone(dt.timedelta(hours=stamp.utc_offset_hours))
    local = when.astimezone(zone)
    sign = "+" if stamp.utc_offset_hours >= 0 else "-"
    return {
        "heading": unicodedata.normalize("NFC", stamp.heading),
        "time_label": unicodedata.normalize("NFC", stamp.time_label),
        "signer_name": unicodedata.normalize("NFC", stamp.name),
        "signer_title": unicodedata.normalize("NFC", stamp.title),
        "signed_at": f"{local:%H:%M:%S} ngày {local:%d/%m/%Y} "
        f"(UTC{sign}{abs(stamp.utc_offset_hours)})",
    }


def open_pdf_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        return IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise SigningFailed(f"not a readable PDF: {exc}") from exc


def check_level(
    level: SignatureLevel,
    timestamper: TimeStamper | None,
    validation_context: ValidationContext | None,
) -> None:
    if level.needs_timestamper and timestamper is None:
        raise SigningFailed(f"PAdES {level.value} needs a time-stamp authority (TSA URL)")
    if level.needs_validation_context and validation_context is None:
        raise SigningFailed(f"PAdES {level.value} needs trust roots to collect revocation data")


async def sign_pdf_bytes(
    pdf: bytes,
    signer: QuorumSigner,
    level: SignatureLevel,
    field_name: str,
    stamp: StampText | None,
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
    *,
    timestamp_allowance: int = 8192,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """Sign `pdf` once (incremental update) and return the signed bytes.

    `stamp` None makes an invisible signature. B-T and up need `timestamper`; B-LT and B-LTA
    need `validation_context` (revocation data is fetched, checked and embedded in the DSS);
    B-LTA also appends a document time-stamp. Raises SigningFailed or SignerUnavailable.
    """
    check_level(level, timestamper, validation_context)
    writer = open_pdf_writer(pdf)
    long_term = level.needs_validation_context
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=long_term,
        use_pades_lta=level is SignatureLevel.B_LTA,
        validation_context=validation_context if long_term else None,
    )
    spec = fields.SigFieldSpec(
        sig_field_name=field_name,
        on_page=stamp.page if stamp else 0,
        box=stamp.box if stamp else None,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer.pyhanko_signer,
        timestamper=timestamper if level.needs_timestamper else None,
        stamp_style=create_stamp_style(stamp) if stamp else None,
        new_field_spec=spec,
    )
    when = signing_time or dt.datetime.now(dt.UTC)
    reserved = signer.bytes_reserved(
        timestamped=level.needs_timestamper, timestamp_allowance=timestamp_allowance
    )
    params = stamp_text_params(stamp, when) if stamp else None
    try:
        try:
            out = await pdf_signer.async_sign_pdf(
                writer, bytes_reserved=reserved, appearance_text_params=params
            )
        except SigningError as exc:
            if "reserved" not in str(exc).lower():
                raise
            # the container outgrew our estimate (an unusually large TSA token): let pyHanko size it
            out = await pdf_signer.async_sign_pdf(
                open_pdf_writer(pdf), bytes_reserved=None, appearance_text_params=params
            )
    except TimestampRequestError as exc:
        raise TsaUnavailable.because(exc) from exc
    except (SigningError, PdfReadError, OSError, ValueError) as exc:
        raise SigningFailed(f"signing failed: {exc}") from exc
    return bytes(out.getvalue())


async def add_archive_timestamp(
    pdf: bytes, timestamper: TimeStamper, validation_context: ValidationContext
) -> bytes:
    """Append a document time-stamp (B-LTA), with the revocation data it needs in the DSS.

    If the file already ends in a document time-stamp, the archive chain is renewed: that
    time-stamp is validated, its revocation data added, and a new one appended.
    """
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        doc_timestamps = [
            s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"
        ]
        stamper = signers.PdfTimeStamper(timestamper)
        if doc_timestamps:
            out = await stamper.async_update_archival_timestamp_chain(
                reader, validation_context, in_place=False, default_md_algorithm=MD_ALGORITHM
            )
        else:
            # record revocation data of every signature first, so the time-stamp covers it
            data = pdf
            for index in range(len(reader.embedded_signatures)):
                current = PdfFileReader(BytesIO(data), strict=False)
                updated = await async_add_validation_info(
                    current.embedded_signatures[index], validation_context
                )
                data = updated.getvalue()
            out = await stamper.async_timestamp_pdf(
                IncrementalPdfFileWriter(BytesIO(data), strict=False),
                MD_ALGORITHM,
                validation_context=validation_context,
            )
    except TimestampRequestError as exc:
        raise TsaUnavailable.because(exc) from exc
    except (SigningError, PdfReadError, OSError, ValueError) as exc:
        raise SigningFailed(f"archive time-stamp failed: {exc}") from exc
    return bytes(out.getvalue())
