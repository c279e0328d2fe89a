"""Resolution certification pages and meeting minutes as PDF (docs/features/signing.md, "Documents
to sign").

fpdf2 renders with embedded Noto Serif (body) and Be Vietnam Pro (headings), so Vietnamese text is
searchable and copyable (each font subset carries a ToUnicode map). The certification page leaves
its lower part free for the signature stamps (`StampText.box` defaults fall there on A4).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import segno
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.varLib import instancer  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from meetings.documents.fonts import sans_font, serif_font
from meetings.domain.errors import InvalidInput

STAMP_AREA_MM = 62
"""Height kept free at the foot of the certification page for signature stamps."""
QR_MM = 24
"""Side of the QR code linking to the public page: at about 0.7 mm a module (version 4 for a
70-character address, medium error correction) a phone reads it from a printed copy."""

ATTENDANCE_LABELS = {"present": "Có mặt", "absent": "Vắng mặt", "excused": "Vắng có lý do"}


@dataclass(frozen=True)
class OptionCount:
    """One choice of a poll and how many votes it got."""

    label: str
    """As printed, e.g. "Tán thành"."""
    count: int


@dataclass(frozen=True)
class CertificationData:
    """Everything the certification page states about the vote that adopted a resolution."""

    council_name: str
    """E.g. "Hội đồng nhân dân tỉnh Thử Nghiệm"."""
    meeting_title: str
    meeting_date: dt.date
    resolution_number: str
    """E.g. "Nghị quyết số 12/NQ-HĐND"."""
    resolution_title: str
    present: int
    """Delegates present when the poll opened."""
    total_members: int
    counts: tuple[OptionCount, ...]
    base_label: str
    """What the threshold is a fraction of, e.g. "tổng số đại biểu Hội đồng nhân dân"."""
    base_count: int
    threshold_label: str
    """E.g. "quá 1/2"."""
    adopted: bool
    secret: bool = False
    place: str = ""
    """Place printed before the date line, e.g. "Thành phố Thử Nghiệm"."""
    public_url: str = ""
    """The resolution's public page; printed as a QR code with the address under it (before
    signing, so the signature covers it). Empty: no QR code."""


@dataclass(frozen=True)
class AttendanceEntry:
    name: str
    status: str
    """`present`, `absent` or `excused`."""
    checked_in_at: str | None = None


@dataclass(frozen=True)
class AgendaEntry:
    number: str
    title: str
    presenter: str | None = None
    speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PollResult:
    title: str
    counts: tuple[OptionCount, ...]
    adopted: bool | None
    """None for polls without an outcome (elections, confidence votes)."""
    secret: bool
    ballots: tuple[tuple[str, str], ...] = ()
    """(delegate, choice) for open polls; always empty for secret ones."""


@dataclass(frozen=True)
class MinutesData:
    council_name: str
    meeting_title: str
    meeting_date: dt.date
    location: str
    chair: str
    secretary: str
    attendance: tuple[AttendanceEntry, ...]
    agenda: tuple[AgendaEntry, ...]
    polls: tuple[PollResult, ...]
    audit_head_hash: str
    """Hash of the newest audit-log entry when the minutes were generated."""
    public_url: str = ""
    """The minutes' public page, printed as a QR code at the end. Empty: no QR code."""


@functools.lru_cache(maxsize=4)
def _static_serif(weight: int, italic: bool) -> str:
    """Noto Serif instanced at one weight, cached in the temp folder.

    fpdf2 can instance the variable font itself, but that takes seconds per document.
    """
    source = serif_font(italic=italic)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"quorum-serif-{weight}-{int(italic)}-{digest}.ttf"
    if not target.is_file():
        font = instancer.instantiateVariableFont(
            TTFont(str(source)), {"wght": weight, "wdth": 100}, optimize=False
        )
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(partial))
        os.replace(partial, target)
    return str(target)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class _Doc(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(22, 18, 18)
        self.add_font("serif", "", _static_serif(400, False))
        self.add_font("serif", "B", _static_serif(700, False))
        self.add_font("serif", "I", _static_serif(400, True))
        self.add_font("sans", "", str(sans_font("Regular")))
        self.add_font("sans", "B", str(sans_font("Bold")))
        self.set_creator("Quorum")

    def line_text(
        self,
        text: str,
        *,
        size: float = 12,
        style: str = "",
        family: str = "serif",
        align: str = "L",
        height: float = 6.5,
    ) -> None:
        self.set_font(family, style, size)
        self.multi_cell(0, height, _nfc(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header_block(self, council: str) -> None:
        width = (self.w - self.l_margin - self.r_margin) / 2
        top = self.get_y()
        self.set_font("sans", "B", 10.5)
        self.multi_cell(width, 5.5, _nfc(council.upper()), align="C")
        left_end = self.get_y()
        self.set_xy(self.l_margin + width, top)
        self.multi_cell(width, 5.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
        self.set_x(self.l_margin + width)
        self.set_font("sans", "B", 10)
        self.multi_cell(width, 5.5, "Độc lập - Tự do - Hạnh phúc", align="C")
        self.set_y(max(left_end, self.get_y()) + 6)

    def counts_table(self, counts: Sequence[OptionCount], base: int) -> None:
        self.set_font("serif", "", 11.5)
        with self.table(col_widths=(90, 35, 45), text_align=("LEFT", "RIGHT", "RIGHT")) as table:
            row = table.row()
            for head in ("Phương án", "Số phiếu", f"Tỷ lệ (trên {base})"):
                row.cell(head)
            for option in counts:
                share = f"{100 * option.count / base:.2f} %" if base else "-"
                row = table.row()
                row.cell(_nfc(option.label))
                row.cell(str(option.count))
                row.cell(share)
        self.ln(3)

    def qr_block(self, url: str, caption: str) -> None:
        """A QR code of `url`, right-aligned at the current position, `caption` to its left
        and the address in small type under it; drawn as filled rectangles (vector)."""
        qr = segno.make(url, error="m", micro=False)
        rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
        cell = QR_MM / len(rows)
        x0, y0 = self.w - self.r_margin - QR_MM, self.get_y()
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # a hair taller than a module, so rows meet without white seams when rendered
                self.rect(x0 + start * cell, y0 + r * cell, (c - start) * cell, cell * 1.04, "F")
        self.set_xy(self.l_margin, y0 + QR_MM / 2 - 4)
        self.set_font("serif", "I", 10)
        width = self.w - self.l_margin - self.r_margin - QR_MM - 6
        self.multi_cell(width, 5, _nfc(caption), align="R")
        self.set_font("sans", "", 6.5)
        self.set_xy(self.l_margin, y0 + QR_MM + 1)
        self.cell(self.w - self.l_margin - self.r_margin, 3, url, align="R")
        self.set_xy(self.l_margin, y0 + QR_MM + 5)


QR_CAPTION = "Tra cứu bản công bố và kiểm tra chữ ký số tại địa chỉ dưới mã QR:"


def _date_vi(date: dt.date) -> str:
    return f"ngày {date.day:02d} tháng {date.month:02d} năm {date.year}"


def render_certification_page(cert: CertificationData) -> bytes:
    """One A4 page certifying the vote; the bottom `STAMP_AREA_MM` stay free for stamps."""
    doc = _Doc()
    doc.add_page()
    doc.header_block(cert.council_name)
    place = f"{cert.place}, " if cert.place else ""
    doc.line_text(f"{place}{_date_vi(cert.meeting_date)}", size=11, style="I", align="R")
    doc.ln(4)
    doc.line_text("XÁC NHẬN KẾT QUẢ BIỂU QUYẾT", size=15, style="B", family="sans", align="C")
    doc.line_text(cert.resolution_number, size=12.5, style="B", align="C")
    doc.line_text(cert.resolution_title, size=12, style="I", align="C")
    doc.ln(4)
    doc.line_text(f"Phiên họp: {cert.meeting_title}, {_date_vi(cert.meeting_date)}.")
    doc.line_text(f"Số đại biểu có mặt: {cert.present}/{cert.total_members}.")
    kind = "bỏ phiếu kín" if cert.secret else "biểu quyết công khai"
    doc.line_text(f"Hình thức: {kind}.")
    doc.ln(2)
    doc.counts_table(cert.counts, cert.base_count)
    doc.line_text(f"Căn cứ tính tỷ lệ: {cert.base_label} ({cert.base_count}).")
    doc.line_text(f"Tỷ lệ cần đạt: {cert.threshold_label}.")
    outcome = "ĐƯỢC THÔNG QUA" if cert.adopted else "KHÔNG ĐƯỢC THÔNG QUA"
    doc.ln(2)
    doc.line_text(f"Kết quả: Nghị quyết {outcome}.", size=13, style="B")
    if cert.public_url:
        doc.ln(3)
        doc.qr_block(cert.public_url, QR_CAPTION)
    if doc.get_y() > doc.h - STAMP_AREA_MM - 10:
        raise InvalidInput("certification text does not leave room for the signature stamps")
    doc.set_y(doc.h - STAMP_AREA_MM - 8)
    doc.line_text("Chữ ký số của người ký và con dấu của Hội đồng:", size=10, style="I")
    return bytes(doc.output())


def build_resolution_pdf(draft_pdf: bytes, cert: CertificationData) -> bytes:
    """The draft's pages followed by the certification page, ready for signing."""
    try:
        writer = PdfWriter(clone_from=PdfReader(BytesIO(draft_pdf), strict=False))
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInput(f"the draft is not a readable PDF: {exc}") from exc
    writer.append(PdfReader(BytesIO(render_certification_page(cert))))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def render_minutes_pdf(data: MinutesData) -> bytes:
    """Minutes (biên bản) of a sitting: attendance, agenda with speakers, poll results."""
    doc = _Doc()
    doc.add_page()
    doc.header_block(data.council_name)
    doc.line_text("BIÊN BẢN PHIÊN HỌP", size=15, style="B", family="sans", align="C")
    doc.line_text(data.meeting_title, size=12.5, style="B", align="C")
    doc.line_text(f"{data.location}, {_date_vi(data.meeting_date)}", size=11, style="I", align="C")
    doc.ln(3)
    doc.line_text(f"Chủ tọa: {data.chair}. Thư ký: {data.secretary}.")
    present = sum(1 for a in data.attendance if a.status == "present")
    doc.line_text(
        f"I. ĐIỂM DANH ({present}/{len(data.attendance)} đại biểu có mặt)",
        style="B",
        family="sans",
        size=12,
    )
    doc.set_font("serif", "", 10.5)
    with doc.table(col_widths=(10, 80, 40, 40)) as table:
        row = table.row()
        for head in ("TT", "Đại biểu", "Tình trạng", "Giờ điểm danh"):
            row.cell(head)
        for i, entry in enumerate(data.attendance, 1):
            row = table.row()
            row.cell(str(i))
            row.cell(_nfc(entry.name))
            row.cell(ATTENDANCE_LABELS.get(entry.status, entry.status))
            row.cell(entry.checked_in_at or "")
    doc.ln(3)
    doc.line_text("II. NỘI DUNG CHƯƠNG TRÌNH", style="B", family="sans", size=12)
    for item in data.agenda:
        doc.line_text(f"{item.number}. {item.title}", style="B", size=11.5)
        if item.presenter:
            doc.line_text(f"Trình bày: {item.presenter}", size=11)
        if item.speakers:
            doc.line_text("Phát biểu: " + "; ".join(item.speakers) + ".", size=11)
    doc.ln(2)
    doc.line_text("III. KẾT QUẢ BIỂU QUYẾT", style="B", family="sans", size=12)
    for poll in data.polls:
        kind = "bỏ phiếu kín" if poll.secret else "biểu quyết công khai"
        doc.line_text(f"{poll.title} ({kind})", style="B", size=11.5)
        total = sum(o.count for o in poll.counts)
        doc.counts_table(poll.counts, total)
        if poll.adopted is not None:
            doc.line_text("Kết quả: " + ("thông qua." if poll.adopted else "không thông qua."))
        if poll.ballots and not poll.secret:
            doc.line_text("Biểu quyết của từng đại biểu:", style="I", size=11)
            doc.set_font("serif", "", 10)
            with doc.table(col_widths=(110, 60)) as table:
                for name, choice in poll.ballots:
                    row = table.row()
                    row.cell(_nfc(name))
                    row.cell(_nfc(choice))
            doc.ln(2)
    doc.ln(2)
    doc.line_text("IV. NHẬT KÝ KIỂM TRA", style="B", family="sans", size=12)
    doc.line_text("Mã băm mục cuối của nhật ký kiểm tra (SHA-256):", size=10.5)
    doc.line_text(data.audit_head_hash, size=9, family="sans")
    if data.public_url:
        if doc.get_y() > doc.h - doc.b_margin - QR_MM - 14:
            doc.add_page()
        doc.ln(3)
        doc.qr_block(data.public_url, QR_CAPTION)
    if doc.get_y() > doc.h - STAMP_AREA_MM:  # the stamps go at the foot of the last page
        doc.add_page()
    return bytes(doc.output())
