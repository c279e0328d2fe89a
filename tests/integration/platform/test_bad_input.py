"""A client's mistakes get a clear 4xx code, never a 500, and leave nothing half-written.

After each refused request the document tables, the event log, the audit log and the blob
folder are exactly as before (docs/API.md, "Errors").
"""

from __future__ import annotations

import io

import pytest

from tests.support.upload_pdfs import encrypted_pdf, nested_pdf, text_pdf, truncated_pdf
from tests.support.world import World, raw_request

PDF = {"content-type": "application/pdf"}


async def refused(
    world: World,
    method: str,
    path: str,
    status: int,
    code: str,
    role: str = "secretary",
    **kwargs: object,
) -> dict[str, object]:
    before = await world.counts()
    got, body, _ = await world.http(role, method, path, **kwargs)
    assert (got, body["error"]["code"]) == (status, code), body
    assert body["error"]["message"]
    assert await world.counts() == before, f"{method} {path} left something behind"
    error: dict[str, object] = body["error"]
    return error


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("not a PDF", b"GIF89a this is an image, not a document" * 10, "not_pdf"),
        ("zero bytes", b"", "empty"),
        ("truncated", truncated_pdf(), "broken_pdf"),
        ("deeply nested", nested_pdf(), "broken_pdf"),
        ("encrypted", encrypted_pdf(), "encrypted_pdf"),
    ],
)
async def test_bad_pdfs_are_refused(world: World, name: str, data: bytes, code: str) -> None:
    path = f"/api/meetings/{world.meeting_id}/documents?title=x"
    error = await refused(world, "POST", path, 422, code, data=data, headers=PDF)
    if code == "encrypted_pdf":
        assert "password" in str(error["message"])
    document_id = await world.shared_document_for_versions()
    await refused(
        world, "POST", f"/api/documents/{document_id}/versions", 422, code, data=data, headers=PDF
    )


async def test_wrong_content_type(world: World) -> None:
    path = f"/api/meetings/{world.meeting_id}/documents"
    headers = {"content-type": "text/plain"}
    await refused(world, "POST", path, 415, "unsupported_media", data=text_pdf(), headers=headers)


async def test_refused_callers_write_no_blob(world: World) -> None:
    """A delegate's upload (403) and an upload to a hidden meeting (404) store nothing."""
    path = f"/api/meetings/{world.meeting_id}/documents"
    data = text_pdf("delegate's attempt")
    await refused(world, "POST", path, 403, "forbidden", role="delegate", data=data, headers=PDF)
    await refused(world, "POST", path, 404, "not_found", role="outsider", data=data, headers=PDF)
    draft = await world.new_meeting()
    await world.http(
        "admin", "POST", f"/api/meetings/{draft}/transition", json={"action": "publish"}
    )
    await world.http("admin", "POST", f"/api/meetings/{draft}/transition", json={"action": "open"})
    await world.http("admin", "POST", f"/api/meetings/{draft}/transition", json={"action": "close"})
    await refused(
        world,
        "POST",
        f"/api/meetings/{draft}/documents",
        409,
        "meeting_locked",
        data=data,
        headers=PDF,
    )
    await refused(
        world,
        "POST",
        f"/api/meetings/{world.meeting_id}/documents?agenda_item_id=999999",
        404,
        "not_found",
        data=data,
        headers=PDF,
    )
    await refused(
        world,
        "POST",
        f"/api/meetings/{world.meeting_id}/documents?visibility=restricted"
        f"&allowed_user_ids={world.user_ids['outsider']}",
        422,
        "unknown_users",
        data=data,
        headers=PDF,
    )


async def test_oversized_upload_is_refused_before_the_body_is_read(world: World) -> None:
    token = world.tokens["secretary"]
    limit = world.server.settings.upload_limit
    path = f"/api/meetings/{world.meeting_id}/documents"
    before = await world.counts()
    # declared too large: the answer comes although no byte of the body was sent
    head = (
        f"POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n"
        f"content-type: application/pdf\r\ncontent-length: {limit + 1}\r\n\r\n"
    ).encode()
    status, rest = await raw_request(world, head, [])
    assert status == 413 and b"too_large" in rest
    # streamed without a length: refused as soon as the stream passes the limit; the rest of
    # the body (another 2 MiB) is never sent, yet the answer comes
    head = (
        f"POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n"
        f"content-type: application/pdf\r\ntransfer-encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%PDF-1.7\n" + b"0" * (1 << 20)
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (limit // len(chunk) + 1)
    status, rest = await raw_request(world, head, parts)
    assert status == 413 and b"too_large" in rest
    assert await world.counts() == before


SERVER_FOLDERS = {"tmp", "page-images", "blobs"}


@pytest.mark.parametrize(
    "filename",
    [
        "../../../etc/passwd.pdf",
        "..\\..\\windows\\system.ini",
        "/abs/olute.pdf",
        "tờ\x01trình\u202e.pdf",  # control characters are cleaned; NUL is refused (below)
        "a/b/../../c.pdf",
        "....pdf",
        "CON",
    ],
)
async def test_path_characters_in_file_names_never_reach_the_file_system(
    world: World, filename: str
) -> None:
    before = sorted(p.name for p in world.server.settings.data_dir.iterdir())
    status, body, _ = await world.http(
        "secretary",
        "POST",
        f"/api/meetings/{world.meeting_id}/documents",
        params={"filename": filename},
        data=text_pdf(f"name {filename.encode().hex()}"),
        headers=PDF,
    )
    assert status == 201, body
    shown = body["current_version"]["filename"]
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown
    assert "\u202e" not in shown and not shown.startswith(".")
    # the server's own folders may appear with a first upload (spool, page images); nothing else
    after = sorted(p.name for p in world.server.settings.data_dir.iterdir())
    assert set(after) - set(before) <= SERVER_FOLDERS, after
    sha = body["current_version"]["sha256"]
    assert world.services.blobs.path(sha).is_file()
    status, _, headers = await world.http("delegate", "GET", f"/api/documents/{body['id']}/file")
    assert status == 200
    assert "\n" not in headers["content-disposition"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/meetings/999999"),
        ("GET", "/api/meetings/999999/agenda"),
        ("PATCH", "/api/meetings/{m}/agenda/999999"),
        ("DELETE", "/api/meetings/{m}/agenda/999999"),
        ("DELETE", "/api/meetings/{m}/participants/999999"),
        ("GET", "/api/documents/999999/file"),
        ("PATCH", "/api/documents/999999"),
        ("DELETE", "/api/documents/999999"),
        ("GET", "/api/councils/999999/members"),
        ("PATCH", "/api/councils/{c}/members/999999"),
        ("GET", "/api/meetings/99999999999999999999999999"),
        ("GET", "/api/documents/99999999999999999999999999/file"),
        ("DELETE", "/api/meetings/{m}/agenda/99999999999999999999999999"),
    ],
)
async def test_unknown_ids_are_404(world: World, method: str, path: str) -> None:
    path = path.format(m=world.meeting_id, c=world.council_id)
    json = {"title": "x"} if method == "PATCH" else None
    await refused(world, method, path, 404, "not_found", role="admin", json=json)


async def test_unknown_document_version_is_404(world: World) -> None:
    document_id = await world.shared_document_for_versions()
    await refused(
        world,
        "GET",
        f"/api/documents/{document_id}/file?version=99",
        404,
        "not_found",
        role="delegate",
    )
    await refused(
        world,
        "GET",
        f"/api/documents/{document_id}/file?version=abc",
        422,
        "bad_query",
        role="delegate",
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[1, 2]", "validation"),
        (b'"a string"', "validation"),
        (b"{}", "validation"),
        (b'{"title": ""}', "validation"),
        (b'{"title": "x", "duration_minutes": -1}', "validation"),
        (b'{"title": "x", "duration_minutes": "soon"}', "validation"),
        (b'{"title": "x", "unknown_field": 1}', "validation"),
        (b'{"title": "x", "parent_id": 99999999999999999999999}', "validation"),
        (b'{"title": "' + b"x" * 400 + b'"}', "validation"),
    ],
)
async def test_invalid_json_and_missing_fields_are_422(
    world: World, body: bytes, code: str
) -> None:
    error = await refused(
        world,
        "POST",
        f"/api/meetings/{world.meeting_id}/agenda",
        422,
        code,
        data=body,
        headers={"content-type": "application/json"},
    )
    if code == "validation":
        assert error["details"]


async def test_ids_past_32_bits_are_refused_at_the_edge(world: World) -> None:
    """PostgreSQL integer columns are 32-bit: such an id must not reach the database."""
    error = await refused(
        world,
        "POST",
        f"/api/meetings/{world.meeting_id}/participants",
        422,
        "validation",
        json={"user_id": 2**40},
    )
    assert error["details"]
    await refused(
        world,
        "GET",
        f"/api/meetings/{world.meeting_id}/events?since_seq={2**40}",
        422,
        "bad_query",
    )


async def test_oversized_json_is_413(world: World) -> None:
    body = b'{"title": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    await refused(
        world,
        "POST",
        f"/api/meetings/{world.meeting_id}/agenda",
        413,
        "too_large",
        data=io.BytesIO(body),
        headers={"content-type": "application/json"},
    )


async def test_null_in_a_partial_update_is_422_not_a_database_error(world: World) -> None:
    member = await world.member_id(world.user_ids["delegate"])
    item = await world.new_item()
    document = await world.shared_document_for_versions()
    m = world.meeting_id
    for path, body in [
        (f"/api/councils/{world.council_id}/members/{member}", {"role": None}),
        (f"/api/councils/{world.council_id}/members/{member}", {"title": None}),
        (f"/api/meetings/{m}", {"title": None}),
        (f"/api/meetings/{m}", {"quorum_num": None}),
        (f"/api/meetings/{m}/agenda/{item}", {"description": None}),
        (f"/api/documents/{document}", {"visibility": None}),
        (f"/api/documents/{document}", {"allowed_user_ids": None}),
    ]:
        await refused(world, "PATCH", path, 422, "validation", role="admin", json=body)
    await refused(
        world,
        "PATCH",
        f"/api/meetings/{m}",
        422,
        "bad_quorum",
        role="admin",
        json={"quorum_num": 3, "quorum_den": 2},
    )
    for whole in (
        {"quorum_num": 2, "quorum_den": 2, "quorum_strict": True},
        {"quorum_num": 1, "quorum_den": 1},
    ):
        await refused(
            world, "PATCH", f"/api/meetings/{m}", 422, "bad_quorum", role="admin", json=whole
        )
    status, body, _ = await world.http("admin", "GET", f"/api/meetings/{m}")
    assert status == 200 and "quorum" in body  # the refused rule was not stored
    await refused(
        world,
        "POST",
        "/api/councils",
        422,
        "validation",
        role="admin",
        json={"name": "x", "quorum_num": 5, "quorum_den": 4},
    )
    await refused(
        world,
        "POST",
        "/api/councils",
        422,
        "validation",
        role="admin",
        json={"name": "x", "quorum_num": 1, "quorum_den": 1, "quorum_strict": True},
    )
    # null where it means "clear" is accepted
    status, body, _ = await world.http(
        "admin", "PATCH", f"/api/meetings/{m}/agenda/{item}", json={"duration_minutes": None}
    )
    assert status == 200 and body["duration_minutes"] is None


async def test_missing_fields_name_the_field(world: World) -> None:
    error = await refused(
        world, "POST", "/api/meetings", 422, "validation", json={"title": "no council"}
    )
    assert [d["field"] for d in error["details"]] == ["council_id"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status_path", "action"),
    [
        ([], "open"),  # a draft cannot open
        ([], "close"),
        ([], "archive"),
        (["publish"], "publish"),
        (["publish"], "archive"),
        (["publish", "open"], "publish"),
        (["publish", "open"], "reopen"),
        (["publish", "open", "close"], "open"),
        (["publish", "open", "close", "archive"], "reopen"),
        (["publish", "open", "close", "archive"], "unpublish"),
    ],
)
async def test_illegal_status_transitions_are_409(
    world: World, status_path: list[str], action: str
) -> None:
    meeting_id = await world.new_meeting()
    for step in status_path:
        status, _, _ = await world.http(
            "admin", "POST", f"/api/meetings/{meeting_id}/transition", json={"action": step}
        )
        assert status == 200
    error = await refused(
        world,
        "POST",
        f"/api/meetings/{meeting_id}/transition",
        409,
        "illegal_transition",
        role="admin",
        json={"action": action},
    )
    assert error["details"]["action"] == action  # type: ignore[index]


async def test_unknown_action_is_422(world: World) -> None:
    await refused(
        world,
        "POST",
        f"/api/meetings/{world.meeting_id}/transition",
        422,
        "validation",
        json={"action": "explode"},
    )


async def test_bad_query_parameters(world: World) -> None:
    path = f"/api/meetings/{world.meeting_id}/documents"
    for query, code in [
        ("?visibility=secret", "bad_query"),
        ("?agenda_item_id=-1", "bad_query"),
        ("?allowed_user_ids=1,x", "bad_query"),
    ]:
        await refused(world, "POST", path + query, 422, code, data=text_pdf(), headers=PDF)
    await refused(
        world,
        "GET",
        f"/api/meetings/{world.meeting_id}/events?since_seq=many",
        422,
        "bad_query",
    )


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [40, 100_000])
async def test_deeply_nested_json_is_refused(world: World, depth: int) -> None:
    """Thousands of nested arrays made the JSON parser give up with a 500 (login included);
    any nesting past 32 levels is a plain 422 invalid_json."""
    login = b'{"username": "chair", "password": ' + nested(depth) + b"}"
    for role, path, body in (
        ("anonymous", "/api/auth/login", login),
        ("secretary", f"/api/meetings/{world.meeting_id}/agenda", b'{"title": ' + nested(depth)
         + b"}"),
    ):  # fmt: skip
        error = await refused(
            world, "POST", path, 422, "invalid_json", role=role, data=body,
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert "32" in str(error["message"])


async def test_nul_characters_are_refused_at_the_edge(world: World) -> None:
    """PostgreSQL cannot store NUL in text: anywhere in a JSON body or a query parameter it
    was a 500 there. It is a 422 validation naming the field, on both databases."""
    m = world.meeting_id
    cases: list[tuple[str, str, str, dict[str, object]]] = [
        ("anonymous", "POST", "/api/auth/login",
         {"json": {"username": "chair\u0000", "password": "x" * 8}}),
        ("anonymous", "POST", "/api/auth/login",
         {"json": {"username": "chair", "password": "pass\u0000word"}}),
        ("secretary", "POST", f"/api/meetings/{m}/agenda", {"json": {"title": "a\u0000b"}}),
        ("secretary", "POST", f"/api/meetings/{m}/agenda", {"json": {"ti\u0000tle": "x"}}),
        ("anonymous", "GET", "/api/public/resolutions?q=a%00b", {}),
        ("delegate", "GET", f"/api/meetings/{m}/search?q=%00", {}),
        ("delegate", "GET", f"/api/meetings/{m}/search?q%00=x&q=y", {}),
        ("secretary", "POST", f"/api/meetings/{m}/documents?filename=t%E1%BB%9D%00.pdf",
         {"data": text_pdf("nul"), "headers": PDF}),
    ]  # fmt: skip
    for role, method, path, kwargs in cases:
        error = await refused(world, method, path, 422, "validation", role=role, **kwargs)
        assert error["details"], error
        assert "NUL" in str(error["details"]), error
