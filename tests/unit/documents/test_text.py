"""Vietnamese search folding."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.domain.text import find_folded, fold, make_snippet, tokens

fast = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Nghị quyết", "nghi quyet"),
        ("ĐẠI BIỂU", "dai bieu"),
        ("Hội đồng  nhân\tdân\n", "hoi dong nhan dan"),
        ("  Kỳ họp thứ Mười Hai ", "ky hop thu muoi hai"),
        ("Phiếu tín nhiệm thấp", "phieu tin nhiem thap"),
        ("đường Đồng Khởi", "duong dong khoi"),
        ("Thủ tướng", "thu tuong"),
        ("soft\u00adhyphen", "softhyphen"),
    ],
)
def test_fold(text: str, key: str) -> None:
    assert fold(text) == key


def test_fold_is_the_same_for_composed_and_decomposed_text() -> None:
    text = "Ủy ban nhân dân tỉnh Quảng Ngãi"
    key = "uy ban nhan dan tinh quang ngai"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == key


def test_tokens() -> None:
    assert tokens("Điều 5. Nghị quyết số 12/2024/NQ-HĐND") == [
        "dieu", "5", "nghi", "quyet", "so", "12", "2024", "nq", "hdnd",
    ]


@fast
@given(st.text())
def test_fold_is_idempotent_and_ascii_for_vietnamese(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert "  " not in once and once == once.strip()


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
    " ĐÂƯƠ"
)


@fast
@given(st.text(alphabet=VIETNAMESE + VIETNAMESE.upper()))
def test_vietnamese_folds_to_ascii(text: str) -> None:
    assert fold(text).isascii()


LAW = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Hội đồng nhân dân "
    "tỉnh ban hành Nghị quyết về kế hoạch đầu tư công trung hạn giai đoạn 2021-2025."
)


def test_snippet_around_a_folded_match() -> None:
    snippet = make_snippet(LAW, "nghi quyet", width=60)
    assert snippet is not None
    assert snippet.match == "Nghị quyết"
    assert LAW[snippet.source_start : snippet.source_end] == "Nghị quyết"
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) <= 62


def test_snippet_at_the_edges_and_misses() -> None:
    head = make_snippet(LAW, "CAN CU", width=40)
    assert head is not None and head.start == 0 and head.match == "Căn cứ"
    tail = make_snippet(LAW, "2021-2025.", width=40)
    assert tail is not None and not tail.text.endswith("…")
    assert make_snippet(LAW, "ngân sách") is None
    assert make_snippet(LAW, "   ") is None


def test_snippet_falls_back_to_a_word_of_the_query() -> None:
    snippet = make_snippet(LAW, "ngân sách đầu tư", width=40)
    assert snippet is not None and snippet.match == "đầu"


def test_snippet_keeps_decomposed_marks_with_their_letter() -> None:
    text = "abc " + unicodedata.normalize("NFD", "Nghị quyết") + " xyz"
    bounds = find_folded(text, "nghi")
    assert bounds is not None
    assert unicodedata.normalize("NFC", text[bounds[0] : bounds[1]]) == "Nghị"


@fast
@given(
    before=st.text(max_size=200), word=st.sampled_from(["Nghị quyết", "ĐẠI BIỂU", "tín nhiệm"]),
    after=st.text(max_size=200), width=st.integers(10, 120),
)
def test_snippet_always_contains_the_match(before: str, word: str, after: str, width: int) -> None:
    text = before + " " + word + " " + after
    snippet = make_snippet(text, fold(word), width)
    assert snippet is not None
    assert fold(snippet.match) == fold(word)
    assert fold(text[snippet.source_start : snippet.source_end]) == fold(word)
