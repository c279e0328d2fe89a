"""Session fixtures: one test PKI with loopback TSA/OCSP/CRL, signers, a SoftHSM2 token."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from meetings.documents.signing.api import Pkcs11Config, StampText, TrustSettings
from meetings.documents.signing.sign import create_timestamper
from tests.support.pki import TestPki, create_softhsm_token, softhsm_module
from tests.support.pki_services import TestServices, start_test_services

CHAIR_STAMP = StampText("Nguyễn Văn An", "Chủ tịch Hội đồng nhân dân")
SEAL_STAMP = StampText("Hội đồng nhân dân tỉnh Thử Nghiệm", "Con dấu", box=(310, 60, 540, 150))


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServices]:
    with start_test_services(tmp_path_factory.mktemp("pki")) as running:
        yield running


@pytest.fixture(scope="session")
def pki(services: TestServices) -> TestPki:
    return services.pki


@pytest.fixture(scope="session")
def trust(pki: TestPki) -> TrustSettings:
    return TrustSettings((str(pki.root_cert_path),), (str(pki.intermediate.cert_path),))


@pytest.fixture(scope="session")
async def http_timestamper(pki: TestPki) -> AsyncIterator[TimeStamper]:
    session = LazySession()
    yield create_timestamper(pki.tsa_url, session=session)
    await session.close()


@pytest.fixture(scope="session")
def softhsm(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Pkcs11Config:
    if softhsm_module() is None:
        if os.environ.get("QUORUM_REQUIRE_SERVICES") == "1":
            pytest.fail("SoftHSM2 is required (QUORUM_REQUIRE_SERVICES=1) but not installed")
        pytest.skip("SoftHSM2 not installed (apt-get install softhsm2)")
    return create_softhsm_token(tmp_path_factory.mktemp("softhsm"), pki.chair)


def make_pdf(text: str = "Dự thảo nghị quyết", pages: int = 1) -> bytes:
    from meetings.documents.fonts import serif_font

    doc = FPDF()
    doc.add_font("serif", "", str(serif_font()))
    for i in range(pages):
        doc.add_page()
        doc.set_font("serif", size=14)
        doc.cell(text=f"{text} — trang {i + 1}")
    return bytes(doc.output())


@pytest.fixture(scope="session")
def draft_pdf() -> bytes:
    return make_pdf()


def root_paths(pki: TestPki) -> list[Path]:
    return [pki.root_cert_path]
