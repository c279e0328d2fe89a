"""Minutes signed with the chair's own token (SoftHSM2, `quorum sign-remote` over HTTP);
`quorum archive verify` and export find a changed file and a changed audit row."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from meetings.cli import main
from tests.conftest import need
from tests.integration.archive.conftest import CHAIR_PASSWORD, Flow, pdf_text
from tests.support.pki import create_softhsm_token, softhsm_module


def quorum(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meetings.cli", *args],
        capture_output=True, text=True, timeout=180, env={**os.environ, **env},
    )  # fmt: skip


async def test_minutes_remote_token_archive_verify_and_tampering(
    flow: Flow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("SoftHSM2", softhsm_module() is not None, "apt-get install softhsm2")
    server = flow.server
    await flow.adopted_poll("Thông qua chương trình kỳ họp")
    minutes = await flow.call("POST", f"/api/meetings/{flow.meeting_id}/minutes")
    status, pdf, _ = await server.http(
        "GET", f"/api/minutes/{minutes['id']}/file?which=generated", token=flow.secretary
    )
    text_ = pdf_text(pdf)
    assert "BIÊN BẢN PHIÊN HỌP" in text_ and "Thông qua chương trình kỳ họp" in text_
    assert "Tán thành" in text_ and "Không tán thành" in text_  # per-delegate list (open poll)
    assert minutes["audit_head_hash"] in text_.replace("\n", "")

    # the chair's key on a token: the server prepares, `quorum sign-remote` signs over HTTP
    token = await asyncio.to_thread(
        create_softhsm_token, tmp_path / "softhsm", flow.pki.chair
    )
    cert_pem = flow.pki.chair.cert_pem().decode()
    session = await flow.call(
        "POST", f"/api/minutes/{minutes['id']}/signing-sessions", flow.chair_token,
        json={"certificate_pem": cert_pem},
    )  # fmt: skip
    status, _info, _ = await server.http(
        "GET", f"/api/signing-sessions/{session['session_id']}", token=flow.secretary
    )
    assert status == 404  # only the chair who started it sees the session
    sign_remote = (
        quorum, "sign-remote", "--url", server.base_url, "--token", flow.chair_token,
        "--session", session["session_id"], "--pkcs11-module", token.module_path,
        "--token-label", token.token_label, "--key-label", token.key_label,
        "--pin", token.pin or "",
    )  # fmt: skip
    softhsm = {"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}
    signer = await asyncio.to_thread(*sign_remote, env=softhsm)
    assert signer.returncode == 0, signer.stdout + signer.stderr
    # run again, the session is done: the server's own words, not an HTTP status line
    again = await asyncio.to_thread(*sign_remote, env=softhsm)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "already completed [409 session_done]" in again.stderr, again.stderr
    signed = await flow.call("GET", f"/api/minutes/{minutes['id']}")
    assert signed["status"] == "signed"
    assert [(s["field"], s["ok"]) for s in signed["signatures"]] == [
        ("Chair", True), ("Seal", True)
    ]
    status, body, _ = await server.http(
        "POST", f"/api/signing-sessions/{session['session_id']}/signature",
        token=flow.chair_token, json={"signature_b64": "AAAA"},
    )  # fmt: skip
    assert status == 409 and body["error"]["code"] == "session_done"
    record = await flow.call("POST", f"/api/minutes/{minutes['id']}/archive")
    assert record["kind"] == "minutes" and not record["public"]

    env = {
        "QUORUM_DATABASE_URL": server.settings.resolved_database_url,
        "QUORUM_DATA_DIR": str(server.settings.data_dir),
        "QUORUM_SECRET_KEY": "test-secret",
    }
    ok = await asyncio.to_thread(quorum, "archive", "verify", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "The archive is intact." in ok.stdout

    zipped = tmp_path / "export.zip"
    for name, value in env.items():  # `quorum archive export` in-process (saves a start-up)
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["archive", "export", str(zipped)]) == 0
    with zipfile.ZipFile(zipped) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        (entry,) = manifest["records"]
        assert entry["sha256"] == record["sha256"] and bundle.read(entry["file"])
        assert entry["sha256"] in bundle.read("SHA256SUMS").decode()
    status, data, _ = await server.http("GET", "/api/archive/export", token=flow.secretary)
    assert status == 200 and zipfile.ZipFile(io.BytesIO(data)).namelist()[-2:] == [
        "manifest.json", "SHA256SUMS"
    ]

    # tampering: one changed byte in the archived blob, one changed audit row
    blob = server.services.blobs.path(record["sha256"])
    blob.chmod(0o644)
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 1
    blob.write_bytes(bytes(raw))
    async with server.services.db.writer() as session_:
        await session_.execute(
            text("UPDATE audit_log SET target = 'meeting:999' WHERE action = 'minutes.generate'")
        )
        await session_.commit()
    bad = await asyncio.to_thread(quorum, "archive", "verify", "--json", env=env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    problems = json.loads(bad.stdout)["problems"]
    assert any("the file was changed" in p for p in problems), problems
    assert any("minutes.generate" in p and "does not match its hash" in p for p in problems)


@pytest.mark.parametrize("code", ["not_signable"])
async def test_sign_requires_generated(flow: Flow, code: str) -> None:
    draft = await flow.draft(None, "Dự thảo")
    status, body, _ = await flow.server.http(
        "POST", f"/api/resolutions/{draft['id']}/sign", token=flow.chair_token,
        json=CHAIR_PASSWORD,
    )  # fmt: skip
    assert status == 409 and body["error"]["code"] == code
