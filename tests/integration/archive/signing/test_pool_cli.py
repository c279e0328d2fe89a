"""The signing pool (off the event loop) and `quorum verify` exit codes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import statistics
import time
from pathlib import Path

import pytest

from meetings.documents.signing.api import SignatureLevel, SigningSettings, TrustSettings
from meetings.documents.signing.cli import main_verify
from meetings.documents.signing.pool import SigningPool
from meetings.documents.signing.validate import VerificationReport, verify_pdf_bytes
from tests.support.pki import TestPki

from .conftest import CHAIR_STAMP, SEAL_STAMP


@pytest.fixture(scope="module")
async def pool_signed(draft_pdf: bytes, pki: TestPki, trust: TrustSettings) -> dict[str, object]:
    chair = SigningSettings(pki.chair.pkcs12_config(), SignatureLevel.B_LT, pki.tsa_url, trust)
    seal = SigningSettings(pki.seal.pkcs12_config(), SignatureLevel.B_T, pki.tsa_url, trust)
    async with SigningPool(max_workers=2) as pool:
        pids = await pool.warm_up(chair)
        # the event loop keeps ticking while workers sign
        gaps: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        docs = await asyncio.gather(
            *[pool.sign(draft_pdf, chair, "Chair", CHAIR_STAMP) for _ in range(6)]
        )
        stop.set()
        await tick
        both = await pool.sign(docs[0], seal, "Seal", SEAL_STAMP)
        pids_after = await pool.warm_up(chair)
        checked = await pool.verify(both, (pki.root_cert_path,))
    return {
        "docs": docs, "both": both, "pids": pids, "pids_after": pids_after, "gaps": gaps,
        "checked": checked,
    }  # fmt: skip


async def test_pool_signs_off_the_loop_and_keeps_workers(
    pool_signed: dict[str, object], pki: TestPki
) -> None:
    docs = pool_signed["docs"]
    assert isinstance(docs, list) and len(docs) == 6
    for doc in docs[:2]:
        report = await verify_pdf_bytes(doc, [pki.root_cert_path], allow_fetching=False)
        assert report.ok, report.summary()
    report = await verify_pdf_bytes(pool_signed["both"], [pki.root_cert_path])  # type: ignore[arg-type]
    assert report.ok and len(report.signatures) == 2, report.summary()
    assert pool_signed["pids"] == pool_signed["pids_after"]  # same workers, keys kept
    gaps = pool_signed["gaps"]
    # the loop keeps ticking while workers sign (the loopback TSA/OCSP thread shares this
    # process's GIL, so allow an occasional slow tick on a busy 2-core machine)
    assert isinstance(gaps, list) and len(gaps) > 10
    assert statistics.median(gaps) < 0.02 and max(gaps) < 0.5


async def test_pool_verifies(pool_signed: dict[str, object]) -> None:
    checked = pool_signed["checked"]
    assert isinstance(checked, VerificationReport)
    assert checked.ok and [s.field_name for s in checked.signatures] == ["Chair", "Seal"]
    assert checked.archive_hash == hashlib.sha256(pool_signed["both"]).hexdigest()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def files(
    pool_signed: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("verify")
    good = folder / "good.pdf"
    good.write_bytes(pool_signed["both"])  # type: ignore[arg-type]
    bad = folder / "bad.pdf"
    data = bytearray(good.read_bytes())
    data[300] ^= 0x01
    bad.write_bytes(bytes(data))
    return {"good": good, "bad": bad, "missing": folder / "missing.pdf"}


def test_verify_exit_codes(
    files: dict[str, Path],
    pki: TestPki,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = str(pki.root_cert_path)
    assert main_verify([str(files["good"]), "--trust", root]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main_verify([str(files["bad"]), "--trust", root]) == 1
    assert "NOT VALID" in capsys.readouterr().out
    assert main_verify([str(files["good"]), "--trust", str(pki.other_root_cert_path)]) == 1
    assert "trust roots" in capsys.readouterr().out
    monkeypatch.delenv("QUORUM_TRUST_ROOTS", raising=False)
    assert main_verify([str(files["good"])]) == 2
    assert "QUORUM_TRUST_ROOTS" in capsys.readouterr().err
    assert main_verify([str(files["missing"]), "--trust", root]) == 2
    monkeypatch.setenv("QUORUM_TRUST_ROOTS", f"{pki.other_root_cert_path}:{root}")
    assert main_verify([str(files["good"]), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is True and [s["field_name"] for s in body["signatures"]] == ["Chair", "Seal"]
    assert len(body["archive_hash"]) == 64
