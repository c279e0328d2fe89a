"""Certification page, resolution PDF and minutes: Vietnamese text must round-trip."""

from __future__ import annotations

import datetime as dt
import unicodedata
from io import BytesIO

import pytest
from pypdf import PdfReader

from meetings.documents.certification import (
    AgendaEntry,
    AttendanceEntry,
    CertificationData,
    MinutesData,
    OptionCount,
    PollResult,
    build_resolution_pdf,
    render_certification_page,
    render_minutes_pdf,
)
from meetings.domain.errors import InvalidInput

CERT = CertificationData(
    council_name="Hội đồng nhân dân tỉnh Thử Nghiệm",
    meeting_title="Kỳ họp thứ Năm, phiên bế mạc",
    meeting_date=dt.date(2025, 3, 4),
    resolution_number="Nghị quyết số 12/NQ-HĐND",
    resolution_title="Về việc phê chuẩn dự toán ngân sách năm 2026",
    present=45,
    total_members=50,
    counts=(
        OptionCount("Tán thành", 40),
        OptionCount("Không tán thành", 3),
        OptionCount("Không biểu quyết", 2),
    ),
    base_label="tổng số đại biểu Hội đồng nhân dân",
    base_count=50,
    threshold_label="quá 1/2",
    adopted=True,
)


def _text(pdf: bytes, page: int = -1) -> str:
    reader = PdfReader(BytesIO(pdf))
    return unicodedata.normalize("NFC", reader.pages[page].extract_text())


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_certification_page_round_trips_vietnamese() -> None:
    pdf = render_certification_page(CERT)
    text = _norm(_text(pdf))
    for expected in (
        "HỘI ĐỒNG NHÂN DÂN TỈNH THỬ NGHIỆM",
        "XÁC NHẬN KẾT QUẢ BIỂU QUYẾT",
        "Nghị quyết số 12/NQ-HĐND",
        "Về việc phê chuẩn dự toán ngân sách năm 2026",
        "Số đại biểu có mặt: 45/50",
        "Tán thành 40 80.00 %",
        "Không tán thành 3 6.00 %",
        "Tỷ lệ cần đạt: quá 1/2",
        "ĐƯỢC THÔNG QUA",
        "ngày 04 tháng 03 năm 2025",
    ):
        assert expected in text, expected
    assert b"/FontFile2" in pdf


def test_rejected_resolution_says_so() -> None:
    from dataclasses import replace

    text = _norm(_text(render_certification_page(replace(CERT, adopted=False, secret=True))))
    assert "KHÔNG ĐƯỢC THÔNG QUA" in text and "bỏ phiếu kín" in text


def test_build_resolution_appends_certification_page() -> None:
    from fpdf import FPDF

    draft = FPDF()
    for i in range(3):
        draft.add_page()
        draft.set_font("helvetica", size=12)
        draft.cell(text=f"Draft page {i + 1}")
    out = build_resolution_pdf(bytes(draft.output()), CERT)
    reader = PdfReader(BytesIO(out))
    assert len(reader.pages) == 4
    assert "Draft page 1" in reader.pages[0].extract_text()
    assert "XÁC NHẬN KẾT QUẢ BIỂU QUYẾT" in _text(out)
    with pytest.raises(InvalidInput):
        build_resolution_pdf(b"not a pdf", CERT)


def test_minutes_list_attendance_polls_and_audit_hash() -> None:
    data = MinutesData(
        council_name="Hội đồng nhân dân tỉnh Thử Nghiệm",
        meeting_title="Kỳ họp thứ Năm",
        meeting_date=dt.date(2025, 3, 4),
        location="Hội trường Ủy ban",
        chair="Nguyễn Văn An",
        secretary="Phạm Thị Dung",
        attendance=(
            AttendanceEntry("Đỗ Văn Ễ", "present", "08:01"),
            AttendanceEntry("Ngô Thị Ỹ", "excused"),
            AttendanceEntry("Lưu Quốc Ưng", "absent"),
        ),
        agenda=(AgendaEntry("1", "Khai mạc kỳ họp", "Nguyễn Văn An", ("Đỗ Văn Ễ",)),),
        polls=(
            PollResult(
                "Thông qua Nghị quyết số 12",
                (OptionCount("Tán thành", 1),),
                True,
                False,
                (("Đỗ Văn Ễ", "Tán thành"),),
            ),
            PollResult(
                "Bầu Phó Chủ tịch",
                (OptionCount("Trần Bình", 1),),
                None,
                True,
                (("Đỗ Văn Ễ", "Trần Bình"),),
            ),
        ),
        audit_head_hash="9f" * 32,
    )
    pdf = render_minutes_pdf(data)
    text = _norm(" ".join(_text(pdf, i) for i in range(len(PdfReader(BytesIO(pdf)).pages))))
    for expected in (
        "BIÊN BẢN PHIÊN HỌP",
        "Đỗ Văn Ễ Có mặt 08:01",
        "Ngô Thị Ỹ Vắng có lý do",
        "Lưu Quốc Ưng Vắng mặt",
        "1/3 đại biểu có mặt",
        "1. Khai mạc kỳ họp",
        "Phát biểu: Đỗ Văn Ễ",
        "Biểu quyết của từng đại biểu",
        "9f" * 32,
    ):
        assert expected in text, expected
    # a secret poll never lists who chose what
    assert "Đỗ Văn Ễ Trần Bình" not in text
