"""Realistic Vietnamese agenda PDFs for the demo, tests and benchmarks (docs/features/documents.md).

`vietnamese_paragraphs` writes plausible council prose (tờ trình, báo cáo thẩm tra, dự thảo nghị
quyết: budget, roads, schools, water...), deterministic for a seed. `generate_agenda_document`
lays it out on A4 pages with an embedded Unicode font, so the text extracts back exactly.
`revise_paragraphs` makes a "new version" with inserted and deleted paragraphs, for re-anchoring
annotations.

Layout is done here rather than with fpdf2's `multi_cell`: its line breaker re-measures the
whole line for every character (28 s for 300 pages); a greedy breaker over cached word widths
does the same pages in about a second.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF

from meetings.documents.fonts import sans_font

__all__ = [
    "Revision",
    "generate_agenda_document",
    "revise_paragraphs",
    "vietnamese_paragraphs",
]

PAGE_WIDTH = 595.28  # A4, points
PAGE_HEIGHT = 841.89
MARGIN = 62.0
BODY_SIZE = 11.0
LEADING = 15.5
PARAGRAPH_GAP = 6.0
FOOTER_SIZE = 8.0
_FIXED_DATE = datetime(2025, 1, 1, tzinfo=UTC)

_PLACES = (
    "xã Tân Phú",
    "phường Hòa Bình",
    "huyện Đức Linh",
    "thị trấn Long Điền",
    "xã Quảng Ngạn",
    "phường Thủy Xuân",
    "xã Ea Tu",
    "huyện Bắc Quang",
    "phường Ninh Kiều",
    "xã Đồng Tiến",
)
_NAMES = (
    "Nguyễn Thị Hồng",
    "Trần Văn Hùng",
    "Lê Minh Đức",
    "Phạm Thị Lan Anh",
    "Hoàng Quốc Việt",
    "Võ Thị Thu Hằng",
    "Đặng Ngọc Sơn",
    "Bùi Thanh Tùng",
    "Huỳnh Thị Mỹ Duyên",
    "Ngô Đình Khải",
)
_LAWS = (
    "Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025",
    "Luật Ngân sách nhà nước ngày 25 tháng 6 năm 2015",
    "Luật Đầu tư công ngày 29 tháng 11 năm 2024",
    "Luật Giáo dục ngày 14 tháng 6 năm 2019",
    "Luật Bảo vệ môi trường ngày 17 tháng 11 năm 2020",
)
_TOPICS = (
    "dự toán thu, chi ngân sách địa phương năm {year}",
    "chủ trương đầu tư nâng cấp, mở rộng tuyến đường tỉnh {road}",
    "xây dựng bổ sung phòng học cho Trường Tiểu học {place}",
    "phân bổ kế hoạch vốn đầu tư công trung hạn giai đoạn 2026–2030",
    "chính sách hỗ trợ học phí cho học sinh vùng khó khăn",
    "đầu tư hệ thống cấp nước sạch tập trung tại {place}",
    "kế hoạch phòng, chống thiên tai và ứng phó biến đổi khí hậu",
    "đề án chuyển đổi số trong các cơ quan hành chính nhà nước",
    "thu gom, xử lý chất thải rắn sinh hoạt trên địa bàn {place}",
    "chỉnh trang đô thị và chiếu sáng công cộng tại {place}",
)
_PROPOSALS = (
    "làm rõ nguồn vốn đối ứng của cấp huyện",
    "bổ sung đánh giá tác động đến người dân trong vùng dự án",
    "rà soát danh mục công trình chuyển tiếp để tránh dàn trải",
    "công khai tiến độ thi công trên cổng thông tin điện tử của tỉnh",
    "ưu tiên bố trí vốn cho các xã đặc biệt khó khăn",
    "xác định rõ trách nhiệm của chủ đầu tư khi chậm tiến độ",
    "tăng cường giám sát chất lượng công trình sau nghiệm thu",
)
_OPENINGS = ("Tờ trình", "Báo cáo thẩm tra", "Dự thảo nghị quyết", "Báo cáo", "Kế hoạch")


def _amount(rng: random.Random) -> str:
    """A Vietnamese-formatted amount in billions of đồng: 1.250,5."""
    whole = rng.randint(3, 4800)
    tenth = rng.randint(0, 9)
    return f"{whole:,}".replace(",", ".") + f",{tenth}"


def _sentence(rng: random.Random) -> str:
    year = rng.choice((2025, 2026, 2027))
    place, place2 = rng.sample(_PLACES, 2)
    topic = rng.choice(_TOPICS).format(year=year, road=f"ĐT.{rng.randint(701, 799)}", place=place)
    pct = rng.randint(40, 95)
    choices = (
        f"Căn cứ {rng.choice(_LAWS)};",
        f"Ủy ban nhân dân tỉnh kính trình Hội đồng nhân dân tỉnh xem xét, quyết định {topic}.",
        f"Tổng kinh phí dự kiến là {_amount(rng)} tỷ đồng, trong đó ngân sách tỉnh chiếm {pct}%, "
        f"phần còn lại do ngân sách cấp huyện và nguồn xã hội hóa bảo đảm.",
        f"Trong năm {year - 1}, tỷ lệ giải ngân vốn đầu tư công đạt {pct}% kế hoạch, "
        f"{rng.choice(('tăng', 'giảm'))} {rng.randint(1, 12)} điểm phần trăm so với cùng kỳ.",
        "Qua thẩm tra, Ban Kinh tế – Ngân sách thống nhất với sự cần thiết ban hành nghị quyết, "
        f"đồng thời đề nghị {rng.choice(_PROPOSALS)}.",
        f"Tuyến đường dài {rng.randint(4, 60)},{rng.randint(0, 9)} km, mặt đường rộng "
        f"{rng.choice((7, 9, 12, 15))} m, đi qua địa bàn {place} và {place2}, dự kiến hoàn thành "
        f"trong quý {rng.randint(1, 4)} năm {year + 1}.",
        f"Dự án xây dựng {rng.randint(6, 30)} phòng học, nhà đa năng và công trình vệ sinh, "
        f"đáp ứng nhu cầu học tập của khoảng {rng.randint(3, 18) * 100} học sinh tại {place}.",
        f"Đại biểu {rng.choice(_NAMES)} đề nghị {rng.choice(_PROPOSALS)}.",
        f"Ý kiến của cử tri {place} phản ánh tình trạng ngập úng kéo dài, đề nghị sớm nạo vét "
        "kênh mương và cải tạo hệ thống thoát nước.",
        f"Nghị quyết này có hiệu lực kể từ ngày {rng.randint(1, 28)} tháng {rng.randint(1, 12)} "
        f"năm {year}.",
        "Giao Ủy ban nhân dân tỉnh tổ chức thực hiện; Thường trực Hội đồng nhân dân, các Ban và "
        "đại biểu Hội đồng nhân dân tỉnh giám sát việc thực hiện Nghị quyết.",
    )
    return rng.choice(choices)


def vietnamese_paragraphs(n: int, seed: int = 0) -> list[str]:
    """`n` paragraphs of plausible council prose; the same seed gives the same paragraphs."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(n):
        head = ""
        if rng.random() < 0.2:
            head = f"{rng.choice(_OPENINGS)} số {rng.randint(10, 250)}/TTr-UBND. "
        sentences = [_sentence(rng) for _ in range(rng.randint(3, 6))]
        paragraphs.append(head + " ".join(sentences))
    return paragraphs


@dataclass(frozen=True)
class Revision:
    """A new version of a list of paragraphs, and what changed."""

    paragraphs: tuple[str, ...]
    """The new version's paragraphs, in order."""
    inserted: tuple[int, ...]
    """Indexes, in the new version, of the paragraphs that were inserted."""
    deleted: tuple[int, ...]
    """Indexes, in the old version, of the paragraphs that were removed."""


def revise_paragraphs(
    paragraphs: Sequence[str], *, seed: int, insert: int = 2, delete: int = 2
) -> Revision:
    """Delete `delete` paragraphs and insert `insert` new ones at seeded positions."""
    if delete > len(paragraphs):
        raise ValueError("cannot delete more paragraphs than there are")
    rng = random.Random(seed)
    deleted = sorted(rng.sample(range(len(paragraphs)), delete))
    kept: list[tuple[str, bool]] = [
        (p, False) for i, p in enumerate(paragraphs) if i not in set(deleted)
    ]
    fresh = vietnamese_paragraphs(insert, seed=seed + 1_000_003)
    for text in fresh:
        kept.insert(rng.randint(0, len(kept)), (f"Bổ sung: {text}", True))
    return Revision(
        paragraphs=tuple(p for p, _ in kept),
        inserted=tuple(i for i, (_, new) in enumerate(kept) if new),
        deleted=tuple(deleted),
    )


class _Layout:
    """Greedy line breaking over cached word widths."""

    def __init__(self, pdf: FPDF, width: float) -> None:
        self._pdf = pdf
        self._width = width
        self._cache: dict[str, float] = {}
        self._space = pdf.get_string_width(" ")

    def _measure(self, word: str) -> float:
        w = self._cache.get(word)
        if w is None:
            w = self._cache[word] = self._pdf.get_string_width(word)
        return w

    def lines(self, paragraph: str) -> list[str]:
        out: list[str] = []
        current: list[str] = []
        used = 0.0
        for word in paragraph.split():
            w = self._measure(word)
            extra = w if not current else self._space + w
            if current and used + extra > self._width:
                out.append(" ".join(current))
                current, used = [word], w
            else:
                current.append(word)
                used += extra
        if current:
            out.append(" ".join(current))
        return out


def _paginate(
    layout: _Layout, paragraphs: Iterator[str], first_top: float, pages: int | None
) -> list[list[tuple[float, str]]]:
    """Lines placed as (baseline y, text) per page; stops after `pages` full pages if given."""
    bottom = PAGE_HEIGHT - MARGIN
    result: list[list[tuple[float, str]]] = [[]]
    y = first_top
    for paragraph in paragraphs:
        for line in layout.lines(paragraph):
            if y + LEADING > bottom:
                if pages is not None and len(result) >= pages:
                    return result
                result.append([])
                y = MARGIN
            y += LEADING
            result[-1].append((y, line))
        y += PARAGRAPH_GAP
    return result


def generate_agenda_document(
    title: str, paragraphs: list[str], *, pages: int | None = None
) -> bytes:
    """An A4 agenda document: header, title, the paragraphs, "Trang i/N" footers.

    With `pages`, the paragraphs are repeated until exactly that many full pages are made.
    The output is deterministic: the same arguments give the same bytes.
    """
    if not paragraphs or not any(p.strip() for p in paragraphs):
        raise ValueError("at least one non-empty paragraph is needed")
    if pages is not None and pages < 1:
        raise ValueError("pages must be at least 1")
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(title)
    pdf.set_creator("Quorum")
    pdf.set_lang("vi")
    pdf.set_auto_page_break(False)
    pdf.add_font("sans", "", str(sans_font("Regular")))
    pdf.add_font("sans", "B", str(sans_font("Bold")))

    pdf.set_font("sans", "B", 14)
    title_layout = _Layout(pdf, PAGE_WIDTH - 2 * MARGIN)
    title_lines = title_layout.lines(title)
    pdf.set_font("sans", "", BODY_SIZE)
    layout = _Layout(pdf, PAGE_WIDTH - 2 * MARGIN)
    first_top = MARGIN + 52 + 20 * len(title_lines) + 12
    if pages is None:
        source: Iterator[str] = iter(paragraphs)
    else:
        source = _cycle(paragraphs)
    placed = _paginate(layout, source, first_top, pages)

    total = len(placed)
    for number, lines in enumerate(placed, start=1):
        pdf.add_page()
        if number == 1:
            _header(pdf, title_lines)
        pdf.set_font("sans", "", BODY_SIZE)
        for y, text in lines:
            pdf.text(MARGIN, y, text)
        pdf.set_font("sans", "", FOOTER_SIZE)
        footer = f"Trang {number}/{total}"
        pdf.text(PAGE_WIDTH - MARGIN - pdf.get_string_width(footer), PAGE_HEIGHT - 30, footer)
    return bytes(pdf.output())


def _cycle(paragraphs: list[str]) -> Iterator[str]:
    while True:
        yield from paragraphs


def _header(pdf: FPDF, title_lines: list[str]) -> None:
    pdf.set_font("sans", "B", 10)
    left = "HỘI ĐỒNG NHÂN DÂN TỈNH"
    right = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = "Độc lập – Tự do – Hạnh phúc"
    pdf.text(MARGIN, MARGIN + 10, left)
    pdf.text(PAGE_WIDTH - MARGIN - pdf.get_string_width(right), MARGIN + 10, right)
    pdf.text(
        PAGE_WIDTH - MARGIN - pdf.get_string_width(right) / 2 - pdf.get_string_width(motto) / 2,
        MARGIN + 24,
        motto,
    )
    pdf.set_font("sans", "B", 14)
    y = MARGIN + 52
    for line in title_lines:
        y += 20
        pdf.text((PAGE_WIDTH - pdf.get_string_width(line)) / 2, y, line)
