"""The annotation model: validation codes, limits, W3C Web Annotation export
(docs/features/documents.md)."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meetings.domain.annotations import (
    COORD_TOLERANCE,
    MAX_POINTS_PER_STROKE,
    MAX_POINTS_TOTAL,
    MAX_STROKES,
    MAX_TEXT,
    Annotation,
    AnnotationKind,
    InvalidAnnotation,
    TextQuote,
    to_web_annotation,
    to_web_annotation_collection,
    validate_annotation,
)
from meetings.domain.errors import InvalidInput

A4 = (595.28, 841.89)
SIZES = [A4, (841.89, 595.28)]
QUAD = [72, 700, 300, 700, 72, 688, 300, 688]


def payload(kind: str = "highlight", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "document_version_id": "v1",
        "kind": kind,
        "page": 0,
    }
    if kind in ("highlight", "underline", "strike"):
        body["quads"] = [QUAD]
    elif kind == "ink":
        body["strokes"] = [[[100, 100, 0.4], [110, 120, 0.6], [130, 125]]]
    else:
        body["rect"] = [100, 100, 300, 160]
        body["text"] = "Đề nghị làm rõ nguồn vốn đối ứng"
    body.update(fields)
    return body


def refused(body: dict[str, Any], sizes: list[tuple[float, float]] = SIZES) -> str:
    with pytest.raises(InvalidAnnotation) as info:
        validate_annotation(body, sizes)
    assert isinstance(info.value, InvalidInput)
    assert info.value.status == 422
    return info.value.code


@pytest.mark.parametrize("kind", [k.value for k in AnnotationKind])
def test_every_kind_validates(kind: str) -> None:
    a = validate_annotation(payload(kind, color="#FFAA00", opacity=0.4), SIZES)
    assert a.kind is AnnotationKind(kind)
    assert a.color == "#ffaa00"
    assert a.opacity == 0.4
    assert a.version == 1 and not a.deleted and not a.shared


def test_fields_are_parsed() -> None:
    a = validate_annotation(
        payload(
            "highlight",
            page=1,
            quads=[[72, 500, 300, 500, 72, 488, 300, 488]],
            anchor={"exact": "ngân sách", "prefix": "dự toán ", "suffix": " nhà nước"},
            shared=True,
            version=3,
            deleted=True,
            created_at="2026-01-02T03:04:05Z",
            text="xem lại\x00",
        ),
        SIZES,
    )
    assert a.page == 1
    assert a.anchor == TextQuote("ngân sách", "dự toán ", " nhà nước")
    assert a.shared and a.deleted and a.version == 3
    assert a.created_at is not None and a.created_at.utcoffset() is not None
    assert a.text == "xem lại"  # control characters removed
    assert a.quads == ((72.0, 500.0, 300.0, 500.0, 72.0, 488.0, 300.0, 488.0),)


def test_ink_points_default_pressure() -> None:
    a = validate_annotation(payload("ink"), SIZES)
    assert a.strokes[0][2] == (130.0, 125.0, 0.5)
    assert a.bounds() == (100.0, 100.0, 130.0, 125.0)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"kind": "circle"}, "unknown_kind"),
        ({"kind": None}, "unknown_kind"),
        ({"page": 2}, "page_out_of_range"),
        ({"page": -1}, "page_out_of_range"),
        ({"page": "0"}, "bad_field"),
        ({"page": True}, "bad_field"),
        ({"color": "red"}, "bad_color"),
        ({"color": "#fff"}, "bad_color"),
        ({"color": "#GGGGGG"}, "bad_color"),
        ({"color": "#ffd400 "}, "bad_color"),
        ({"opacity": 0}, "bad_opacity"),
        ({"opacity": 1.5}, "bad_opacity"),
        ({"id": "not-a-uuid"}, "bad_id"),
        ({"id": 12}, "bad_id"),
        ({"document_version_id": ""}, "bad_field"),
        ({"quads": []}, "missing_geometry"),
        ({"quads": [[1, 2, 3]]}, "bad_coordinates"),
        ({"quads": [[72, 700, 300, 700, 72, 688, 300, math.nan]]}, "bad_coordinates"),
        ({"quads": [[72, 700, 300, 700, 72, 688, 300, math.inf]]}, "bad_coordinates"),
        ({"quads": [[72, 700, 300, 700, 72, 688, 300, True]]}, "bad_coordinates"),
        ({"quads": [[72, 900, 300, 900, 72, 888, 300, 888]]}, "outside_page"),
        ({"quads": "72 700"}, "bad_field"),
        ({"text": "x" * (MAX_TEXT + 1)}, "text_too_long"),
        ({"anchor": {"exact": "x" * 5001}}, "text_too_long"),
        ({"anchor": {"exact": "ok", "prefix": "p" * 201}}, "text_too_long"),
        ({"shared": "yes"}, "bad_field"),
        ({"version": 0}, "bad_field"),
        ({"created_at": "yesterday"}, "bad_field"),
    ],
)
def test_refusals(fields: dict[str, Any], code: str) -> None:
    assert refused(payload("highlight") | fields) == code


def test_not_an_object() -> None:
    assert refused([1, 2]) == "bad_field"  # type: ignore[arg-type]


def test_tolerance_at_the_edges() -> None:
    w, h = A4
    inside = w + COORD_TOLERANCE - 0.1
    validate_annotation(payload("ink", strokes=[[[inside, h, 0.5], [-1.5, -1.5, 0.5]]]), SIZES)
    outside = w + COORD_TOLERANCE + 0.1
    assert refused(payload("ink", strokes=[[[outside, 10, 0.5]]])) == "outside_page"


def test_rotated_page_uses_displayed_size() -> None:
    # page 1 is landscape: y = 700 is outside, x = 800 inside
    assert refused(payload("highlight", page=1)) == "outside_page"
    validate_annotation(payload("note", page=1, rect=[700, 400, 820, 500]), SIZES)


@pytest.mark.parametrize(
    ("strokes", "code"),
    [
        ([[[10, 10, 0.5]]] * (MAX_STROKES + 1), "too_many_strokes"),
        ([[[10, 10, 0.5]] * (MAX_POINTS_PER_STROKE + 1)], "too_many_points"),
        ([[[10, 10, 0.5]] * 4_001] * 5, "too_many_points"),  # 20,005 in all
        ([], "missing_geometry"),
        ([[]], "bad_coordinates"),
        ([[[10, 10, 1.5]]], "bad_coordinates"),
        ([[[10]]], "bad_coordinates"),
    ],
)
def test_ink_limits(strokes: list[Any], code: str) -> None:
    assert refused(payload("ink", strokes=strokes)) == code


def test_limits_are_reachable() -> None:
    strokes = [[[10.0, 10.0, 0.5]] * 100] * MAX_STROKES
    a = validate_annotation(payload("ink", strokes=strokes), SIZES)
    assert sum(len(s) for s in a.strokes) == MAX_POINTS_TOTAL


@pytest.mark.parametrize(
    ("kind", "fields", "code"),
    [
        ("note", {"rect": None}, "missing_geometry"),
        ("note", {"rect": [300, 100, 100, 160]}, "bad_coordinates"),
        ("note", {"rect": [100, 100, 700, 160]}, "outside_page"),
        ("freetext", {"text": "   "}, "missing_text"),
        ("freetext", {"text": 5}, "bad_field"),
    ],
)
def test_box_refusals(kind: str, fields: dict[str, Any], code: str) -> None:
    assert refused(payload(kind, **fields)) == code


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.floats(0, A4[0]), st.floats(0, A4[1]), st.floats(0, 1)),
            min_size=1,
            max_size=30,
        ),
        min_size=1,
        max_size=10,
    )
)
def test_any_stroke_on_the_page_is_accepted(
    strokes: list[list[tuple[float, float, float]]],
) -> None:
    a = validate_annotation(payload("ink", strokes=[[list(p) for p in s] for s in strokes]), SIZES)
    x0, y0, x1, y1 = a.bounds()
    assert 0 <= x0 <= x1 <= A4[0] and 0 <= y0 <= y1 <= A4[1]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["kind", "page", "color", "quads", "rect", "strokes", "opacity", "text", "anchor", "id"]
        ),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text()
        | st.lists(st.integers(), max_size=9),
    )
)
def test_garbage_is_refused_cleanly(fields: dict[str, Any]) -> None:
    try:
        validate_annotation(payload("highlight") | fields, SIZES)
    except InvalidAnnotation as exc:
        assert exc.code and exc.message


def _web(a: Annotation) -> dict[str, Any]:
    doc = to_web_annotation(
        a, "https://quorum.example/api/documents/1/file", page_height=A4[1], creator="Nguyễn Văn A"
    )
    json.dumps(doc)
    return doc


def test_web_annotation_text_quote() -> None:
    a = validate_annotation(
        payload(
            "highlight", page=0, text="xem lại", anchor={"exact": "ngân sách", "prefix": "dự toán "}
        ),
        SIZES,
    )
    doc = _web(a)
    assert doc["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert doc["type"] == "Annotation" and doc["id"] == f"urn:uuid:{a.id}"
    assert doc["motivation"] == "highlighting"
    assert doc["creator"]["name"] == "Nguyễn Văn A"
    selector = doc["target"]["selector"]
    assert selector["type"] == "FragmentSelector" and selector["value"] == "page=1"
    assert selector["refinedBy"] == {
        "type": "TextQuoteSelector",
        "exact": "ngân sách",
        "prefix": "dự toán ",
        "suffix": "",
    }
    assert doc["body"][0]["value"] == "xem lại"
    assert doc["target"]["format"] == "application/pdf"


def test_web_annotation_ink_svg() -> None:
    a = validate_annotation(payload("ink"), SIZES)
    selector = _web(a)["target"]["selector"]["refinedBy"]
    assert selector["type"] == "SvgSelector"
    assert selector["value"].startswith("<svg")
    assert f"M100.00,{A4[1] - 100:.2f}" in selector["value"]  # y measured from the top


def test_web_annotation_note_viewrect() -> None:
    a = validate_annotation(payload("note"), SIZES)
    doc = _web(a)
    assert doc["motivation"] == "commenting"
    assert (
        doc["target"]["selector"]["value"]
        == f"page=1&viewrect=100.00,{A4[1] - 160:.2f},200.00,60.00"
    )


def test_collection_skips_tombstones() -> None:
    live = validate_annotation(payload("strike"), SIZES)
    gone = validate_annotation(payload("note", deleted=True), SIZES)
    coll = to_web_annotation_collection([live, gone], "https://x/doc.pdf", "https://x/anno", SIZES)
    json.dumps(coll)
    assert coll["type"] == "AnnotationCollection"
    assert coll["total"] == 1
    assert coll["first"]["items"][0]["motivation"] == "editing"
