"""Fixtures for the archive tests (docs/features/archive.md): a server that signs with the test PKI.

The test PKI, its TSA, OCSP responder and CRLs run on loopback (tests/support/pki_services.py);
the server reads its keys from QUORUM_* variables, set here before the `server` fixture builds
Settings.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from meetings.documents.fonts import serif_font
from realtime.client import QuorumClient
from tests.conftest import DELEGATES, PASSWORD, Running
from tests.support.pki import TEST_PASSPHRASE, TestPki
from tests.support.pki_services import TestServices, start_test_services

CHAIR_PASSWORD = {"password": PASSWORD}
"""The body of POST …/sign: the chair's password, typed again."""


@pytest.fixture(scope="session")
def pki_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServices]:
    with start_test_services(tmp_path_factory.mktemp("archive-pki")) as running:
        yield running


@pytest.fixture(scope="session")
def pki(pki_services: TestServices) -> TestPki:
    return pki_services.pki


@pytest.fixture
def signing_env(pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> TestPki:
    env = {
        "QUORUM_SIGNING_PKCS12": str(pki.chair.pkcs12_path),
        "QUORUM_SIGNING_PASSPHRASE": TEST_PASSPHRASE.decode(),
        "QUORUM_SEAL_PKCS12": str(pki.seal.pkcs12_path),
        "QUORUM_SEAL_PASSPHRASE": TEST_PASSPHRASE.decode(),
        "QUORUM_SIGNING_EXTRA_CERTS": str(pki.intermediate.cert_path),
        "QUORUM_TSA_URL": pki.tsa_url,
        "QUORUM_TRUST_ROOTS": str(pki.root_cert_path),
        "QUORUM_SIGNING_WORKERS": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return pki


def make_draft(title: str = "Dự thảo nghị quyết về ngân sách tỉnh năm 2026") -> bytes:
    doc = FPDF()
    doc.add_font("serif", "", str(serif_font()))
    doc.add_page()
    doc.set_font("serif", size=14)
    doc.multi_cell(0, 8, text=f"{title}\nĐiều 1. Phê chuẩn dự toán thu ngân sách nhà nước.")
    return bytes(doc.output())


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)


@dataclass
class Flow:
    server: Running
    chair: QuorumClient
    delegates: list[QuorumClient]
    secretary: str
    chair_token: str
    pki: TestPki

    @property
    def meeting_id(self) -> int:
        return self.server.meeting_id

    async def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        status, body, _ = await self.server.http(method, path, token=token or self.secretary, **kw)
        assert status < 300, (status, body)
        return body

    async def adopted_poll(self, title: str = "Thông qua nghị quyết về ngân sách") -> int:
        """A motion on the first agenda item, adopted 4 yes / 1 no (open ballot)."""
        ack = await self.chair.command(
            "poll.create",
            {"meeting_id": self.meeting_id, "kind": "motion", "title": title, "secret": False},
        )
        poll_id = int(ack["poll_id"])
        await self.chair.command("poll.open", {"poll_id": poll_id})
        choices = ["yes", "yes", "yes", "no", "yes"]
        await asyncio.gather(
            *(
                d.call("ballot.cast",
                       {"poll_id": poll_id, "choice": c, "idempotency_key": uuid.uuid4().hex})
                for d, c in zip(self.delegates[:5], choices, strict=True)
            )
        )  # fmt: skip
        closed = await self.chair.command("poll.close", {"poll_id": poll_id})
        assert closed["poll"]["result"]["outcome"] == "adopted"
        return poll_id

    async def draft(self, poll_id: int | None, title: str, item_id: int | None = None) -> Any:
        params = {"title": title}
        if poll_id:
            params["poll_id"] = str(poll_id)
        if item_id:
            params["agenda_item_id"] = str(item_id)
        return await self.call(
            "POST", f"/api/meetings/{self.meeting_id}/resolutions", params=params,
            data=make_draft(title), headers={"content-type": "application/pdf"},
        )  # fmt: skip


@pytest.fixture
async def flow(signing_env: TestPki, server: Running) -> Flow:
    chair = await server.client("chair")
    await chair.join(server.meeting_id)
    await chair.command("meeting.open", {"meeting_id": server.meeting_id})
    delegates = [await server.client(f"delegate{i:03d}") for i in range(1, DELEGATES + 1)]
    await asyncio.gather(*(d.join(server.meeting_id) for d in delegates))
    for client in delegates[:5]:
        await client.command("attendance.check_in", {"meeting_id": server.meeting_id})
    return Flow(server, chair, delegates, await server.token("secretary"),
                await server.token("chair"), signing_env)  # fmt: skip


def pdf_path(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path
