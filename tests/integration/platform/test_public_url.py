"""The address printed into links (docs/OPERATIONS.md, "Configuration"): without
QUORUM_PUBLIC_URL, `quorum serve --port N` links to where it serves, not to port 8000; with it,
to the address given. Observed in the sitemap, which the public fetches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from meetings import cli
from meetings.config import Settings
from tests.integration.platform.serve import serving
from tests.integration.platform.test_migrations import quorum


async def sitemap_of(data: Path, env: dict[str, str]) -> tuple[str, str]:
    async with serving(data, {"QUORUM_DATABASE_URL": ""} | env) as (http, base):
        async with http.get(base + "/sitemap.xml") as response:
            assert response.status == 200
            return base, await response.text()


async def test_links_name_the_port_served_on_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUORUM_PUBLIC_URL", raising=False)
    data = tmp_path / "var"
    code, out = await quorum("", data, "db", "upgrade")
    assert code == 0, out
    base, text = await sitemap_of(data, {})
    assert not base.endswith(":8000")  # a free port, not the default one
    assert f"<loc>{base}/" in text and "127.0.0.1:8000" not in text
    public = "https://hdnd.example.gov.vn"
    base, text = await sitemap_of(data, {"QUORUM_PUBLIC_URL": public})
    assert f"<loc>{public}/" in text and base not in text


def test_every_address_at_once_warns_and_names_none(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--host 0.0.0.0` has no address to put in a link: the operator is told to set one."""
    monkeypatch.delenv("QUORUM_PUBLIC_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    cli._public_url(settings, "0.0.0.0", 8080)
    assert "QUORUM_PUBLIC_URL is not set" in capsys.readouterr().err
    assert "QUORUM_PUBLIC_URL" not in os.environ
    cli._public_url(settings, "::1", 8080)
    assert os.environ["QUORUM_PUBLIC_URL"] == "http://[::1]:8080"
    assert Settings(data_dir=tmp_path).public_url == "http://[::1]:8080"
    # set by the operator: left as it is, whatever the host
    monkeypatch.setenv("QUORUM_PUBLIC_URL", "https://hdnd.example.gov.vn")
    cli._public_url(Settings(data_dir=tmp_path), "127.0.0.1", 9000)
    assert os.environ["QUORUM_PUBLIC_URL"] == "https://hdnd.example.gov.vn"
