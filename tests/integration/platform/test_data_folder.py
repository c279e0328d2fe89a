"""The data folder is the owner's alone (docs/SECURITY.md, "Files on the server"): folders 0700,
files 0600 (the secret key and the SQLite database and its WAL included; blobs 0400), and a
folder left open by an older Quorum is fixed at start with one log line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from meetings.storage.blobs import BlobStore
from tests.integration.platform.serve import serving
from tests.integration.platform.test_migrations import quorum


def open_entries(root: Path) -> list[str]:
    """Entries that another local account could read, list or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root)} {oct(mode)}")
    return found


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_data_folder_is_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "var"
    old = os.umask(0o022)  # the usual umask: files 0644, folders 0755 unless Quorum says so
    try:
        code, out = await quorum("", data, "db", "upgrade")
        assert code == 0, out
        code, out = await quorum("", data, "user", "create", "clerk", "--password", "pass-word-1")
        assert code == 0, out
        async with serving(data, {"QUORUM_DATABASE_URL": ""}) as (http, base):
            body = {"username": "clerk", "password": "pass-word-1"}
            async with http.post(base + "/api/auth/login", json=body) as response:
                assert response.status == 200
            assert (data / "quorum.sqlite3-wal").exists()  # the server has it open
            assert open_entries(data) == []
        digest = BlobStore(data / "blobs").put(b"%PDF-1.7 confidential")
    finally:
        os.umask(old)
    assert mode_of(data) == 0o700 and mode_of(data / "blobs") == 0o700
    assert mode_of(data / "secret.key") == 0o600
    assert mode_of(data / "quorum.sqlite3") == 0o600
    assert mode_of(BlobStore(data / "blobs").path(digest)) == 0o400
    assert mode_of(BlobStore(data / "blobs").path(digest).parent) == 0o700
    assert open_entries(data) == []


async def test_an_open_data_folder_is_fixed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "blobs" / "ab").mkdir(parents=True)
    (data / "blobs" / "ab" / ("ab" + "0" * 62)).write_bytes(b"%PDF confidential")
    (data / "secret.key").write_text("an-old-key")
    for path, mode in (
        (data, 0o755),
        (data / "blobs", 0o755),
        (data / "blobs" / "ab", 0o775),
        (data / "blobs" / "ab" / ("ab" + "0" * 62), 0o444),
        (data / "secret.key", 0o644),
    ):
        path.chmod(mode)
    code, out = await quorum("", data, "db", "upgrade")
    assert code == 0, out
    assert open_entries(data) == []
    assert mode_of(data / "blobs" / "ab" / ("ab" + "0" * 62)) == 0o400
    assert (data / "secret.key").read_text() == "an-old-key"
    lines = [line for line in out.splitlines() if "owner-only" in line]
    assert len(lines) == 1 and "5 entries" in lines[0] and str(data) in lines[0], out
    code, out = await quorum("", data, "db", "check")  # fixed once: no line the next time
    assert code == 0 and "owner-only" not in out, out
