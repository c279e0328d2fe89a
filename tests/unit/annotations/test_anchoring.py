"""Re-anchoring annotations on a new document version."""

from __future__ import annotations

import unicodedata
from bisect import bisect_right

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meetings.domain.anchoring import (
    PAGE_BREAK,
    Match,
    MatchMethod,
    TextQuote,
    best_approximate_match,
    create_anchor_index,
    reanchor,
)

fast = settings(max_examples=100, deadline=None)

PARAGRAPHS = [
    "Điều 1. Phạm vi điều chỉnh. Nghị quyết này quy định mức chi hỗ trợ cho đại biểu Hội đồng "
    "nhân dân các cấp trên địa bàn tỉnh.",
    "Điều 2. Đối tượng áp dụng. Đại biểu Hội đồng nhân dân tỉnh, huyện, xã và các cơ quan, tổ "
    "chức, cá nhân có liên quan.",
    "Điều 3. Mức chi. Chi hỗ trợ may lễ phục cho đại biểu mỗi nhiệm kỳ hai bộ; chi tiếp xúc cử tri "
    "theo định mức của Thường trực Hội đồng nhân dân.",
    "Điều 4. Nguồn kinh phí. Kinh phí thực hiện được bố trí trong dự toán ngân sách hằng năm của "
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh.",
    "Điều 5. Tổ chức thực hiện. Giao Ủy ban nhân dân tỉnh tổ chức triển khai thực hiện Nghị quyết "
    "này; Thường trực Hội đồng nhân dân giám sát việc thực hiện.",
    "Điều 6. Hiệu lực thi hành. Nghị quyết này có hiệu lực kể từ ngày 01 tháng 01 năm 2026 và "
    "thay thế các quy định trước đây trái với Nghị quyết này.",
]
INSERTED = [
    "Điều 1a. Giải thích từ ngữ. Trong Nghị quyết này, các từ ngữ dưới đây được hiểu như sau: "
    "kỳ họp là phiên làm việc toàn thể của Hội đồng nhân dân theo luật định.",
    "Điều 1b. Nguyên tắc chi. Việc chi phải đúng mục đích, công khai, minh bạch, tiết kiệm và "
    "đúng chế độ tài chính hiện hành của Nhà nước.",
]


def paginate(paragraphs: list[str], per_page: int = 2) -> list[str]:
    return ["\n".join(paragraphs[i : i + per_page]) for i in range(0, len(paragraphs), per_page)]


def quote_at(pages: list[str], page: int, exact: str, width: int = 32) -> TextQuote:
    text = PAGE_BREAK.join(pages)
    at = text.index(exact, sum(len(p) + 1 for p in pages[:page]))
    return TextQuote(
        exact=exact, prefix=text[max(0, at - width) : at],
        suffix=text[at + len(exact) : at + len(exact) + width],
        page=page, offset=at - sum(len(p) + 1 for p in pages[:page]),
    )


def covered(pages: list[str], match: Match) -> str:
    if match.page == match.end_page:
        return pages[match.page][match.start : match.end]
    middle = pages[match.page + 1 : match.end_page]
    return PAGE_BREAK.join([pages[match.page][match.start :], *middle,
                            pages[match.end_page][: match.end]])


OLD = paginate(PARAGRAPHS)
QUOTE = "Kinh phí thực hiện được bố trí trong dự toán ngân sách hằng năm"


def test_unchanged_document_anchors_exactly() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    match = reanchor(quote, OLD)
    assert match is not None
    assert (match.page, match.method, match.score) == (1, MatchMethod.EXACT, 1.0)
    assert covered(OLD, match) == QUOTE


def test_inserted_paragraphs_shift_the_quote_to_the_next_page() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    new = paginate(PARAGRAPHS[:1] + INSERTED + PARAGRAPHS[1:])
    match = reanchor(quote, new)
    assert match is not None and match.page == 2 and covered(new, match) == QUOTE


def test_deleted_quote_is_orphaned() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    new = paginate(PARAGRAPHS[:3] + PARAGRAPHS[4:])
    assert reanchor(quote, new) is None


def test_deleted_short_quote_is_orphaned() -> None:
    quote = quote_at(OLD, 1, "may lễ phục")
    assert reanchor(quote, paginate(PARAGRAPHS[:2] + PARAGRAPHS[3:])) is None


def test_duplicates_are_told_apart_by_context() -> None:
    exact = "Nghị quyết này"
    assert sum(p.count(exact) for p in OLD) >= 3
    for page in range(len(OLD)):
        text = PAGE_BREAK.join(OLD)
        for start in _occurrences(text, exact):
            here = TextQuote(exact, text[max(0, start - 32) : start],
                             text[start + len(exact) : start + len(exact) + 32])
            match = reanchor(here, OLD)
            assert match is not None
            page_start = sum(len(p) + 1 for p in OLD[: match.page])
            assert page_start + match.start == start, page


def test_duplicates_without_context_go_to_the_nearest_hint() -> None:
    pages = ["Biểu quyết thông qua.", "Mục khác.", "Biểu quyết thông qua."]
    near_last = reanchor(TextQuote("Biểu quyết", page=2, offset=0), pages)
    near_first = reanchor(TextQuote("Biểu quyết", page=0), pages)
    assert near_last is not None and near_last.page == 2
    assert near_first is not None and near_first.page == 0


def test_reflowed_whitespace_and_decomposed_unicode_still_anchor() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    reflowed = [p.replace(" dự toán ", " dự\n   toán ") for p in OLD]
    decomposed = [unicodedata.normalize("NFD", p) for p in OLD]
    for new in (reflowed, decomposed):
        match = reanchor(quote, new)
        assert match is not None and match.method is MatchMethod.NORMALIZED
        assert unicodedata.normalize("NFC", " ".join(covered(new, match).split())) == QUOTE


def test_small_edits_anchor_approximately() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    edited = [p.replace("hằng năm", "hàng năm").replace("bố trí", "bố trí đầy đủ") for p in OLD]
    match = reanchor(quote, edited)
    assert match is not None and match.method is MatchMethod.FUZZY and match.page == 1
    text = covered(edited, match)
    assert text.startswith("Kinh phí") and text.endswith("hàng năm")
    assert 0.75 < match.score < 1


def test_rewritten_sentence_is_orphaned() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    rewritten = [p.replace(QUOTE, "Ngân sách tỉnh bảo đảm toàn bộ chi phí") for p in OLD]
    assert reanchor(quote, rewritten) is None


def test_a_quote_now_crossing_a_page_break() -> None:
    quote = quote_at(OLD, 1, QUOTE)
    text = OLD[1]
    cut = text.index("dự toán")
    new = [OLD[0], text[:cut].rstrip(), text[cut:], *OLD[2:]]
    match = reanchor(quote, new)
    assert match is not None
    assert (match.page, match.end_page) == (1, 2)
    assert new[1][match.start :].startswith("Kinh phí") and new[2][: match.end].endswith("hằng năm")


def test_nothing_to_anchor() -> None:
    assert reanchor(TextQuote("   "), OLD) is None
    assert reanchor(TextQuote("Điều 1"), []) is None
    assert reanchor(TextQuote("Điều 1"), ["", ""]) is None


def test_one_index_serves_many_quotes() -> None:
    index = create_anchor_index(OLD)
    quotes = [quote_at(OLD, 0, "Điều 1."), quote_at(OLD, 2, "Điều 6.")]
    found = [index.find(q) for q in quotes]
    assert [m.page if m else None for m in found] == [0, 2]


def _occurrences(text: str, needle: str) -> list[int]:
    out, at = [], text.find(needle)
    while at >= 0:
        out.append(at)
        at = text.find(needle, at + 1)
    return out


# --- properties -----------------------------------------------------------------------------

ALPHABET = "abcdeđêơư ạệ\n"


@fast
@given(
    pages=st.lists(st.text(alphabet=ALPHABET, max_size=80), min_size=1, max_size=4),
    data=st.data(),
)
def test_a_quote_re_anchors_to_itself(pages: list[str], data: st.DataObject) -> None:
    text = PAGE_BREAK.join(pages)
    assume(text.strip())
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 40)))
    exact = text[start:end]
    assume(exact.strip())
    starts = [sum(len(p) + 1 for p in pages[:i]) for i in range(len(pages))]
    page = bisect_right(starts, start) - 1
    quote = TextQuote(exact, text[max(0, start - 32) : start], text[end : end + 32],
                      page=page, offset=start - starts[page])
    match = reanchor(quote, pages)
    assert match is not None and match.method is MatchMethod.EXACT
    on_break = start == starts[page] + len(pages[page])  # starts on the page break itself
    assert starts[match.page] + match.start == start + on_break
    assert starts[match.end_page] + match.end == end or exact.endswith(PAGE_BREAK)


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@fast
@given(pattern=st.text(alphabet="abc", min_size=1, max_size=8),
       text=st.text(alphabet="abc", max_size=14))
def test_approximate_match_is_the_closest_substring(pattern: str, text: str) -> None:
    distance, start, end = best_approximate_match(pattern, text)
    assert _levenshtein(pattern, text[start:end]) == distance
    best = min(
        [len(pattern)]
        + [_levenshtein(pattern, text[i:j]) for i in range(len(text)) for j in range(i + 1,
                                                                                   len(text) + 1)]
    )
    assert distance == best


@fast
@given(pages=st.lists(st.text(alphabet="xyz \n", max_size=60), min_size=1, max_size=3),
       exact=st.text(alphabet="qrst", min_size=8, max_size=20))
def test_text_that_is_not_there_is_orphaned(pages: list[str], exact: str) -> None:
    assert reanchor(TextQuote(exact, "abc", "def", page=0), pages) is None


@fast
@given(data=st.data())
def test_a_quote_survives_a_small_edit_inside_it(data: st.DataObject) -> None:
    text = PAGE_BREAK.join(OLD)
    start = data.draw(st.integers(0, len(text) - 60))
    end = start + data.draw(st.integers(30, 60))
    exact = text[start:end]
    assume(exact.strip() == exact)
    at = data.draw(st.integers(start + 1, end - 2))
    replacement = data.draw(st.sampled_from(["", "x", "ữa", "  "]))
    new_text = text[:at] + replacement + text[at + 1 :]
    quote = TextQuote(exact, text[max(0, start - 32) : start], text[end : end + 32])
    match = reanchor(quote, new_text.split(PAGE_BREAK))
    assert match is not None
    pages = new_text.split(PAGE_BREAK)
    starts = [sum(len(p) + 1 for p in pages[:i]) for i in range(len(pages))]
    found_start = starts[match.page] + match.start
    found_end = starts[match.end_page] + match.end
    assert abs(found_start - start) <= 3 and abs(found_end - (end + len(replacement) - 1)) <= 3
