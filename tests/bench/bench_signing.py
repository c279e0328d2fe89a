"""Signing benchmark (docs/features/signing.md; figures in docs/PERFORMANCE.md, "Signing").

Run: uv run python -m tests.bench.bench_signing [--runs N] [--batch N]
Signs one resolution with a B-T time-stamp from the loopback TSA, in-process and through the
SigningPool, next to a naive baseline (reload the key each time, let pyHanko size the container
with a throw-away signature); then signs a batch of resolutions at B-LT through the pool.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from meetings.documents.certification import CertificationData, OptionCount, build_resolution_pdf
from meetings.documents.signing.api import (
    SignatureLevel,
    SigningSettings,
    StampText,
    TrustSettings,
    create_signer,
)
from meetings.documents.signing.pool import SigningPool
from meetings.documents.signing.sign import create_stamp_style, create_timestamper, sign_pdf_bytes
from tests.support.pki_services import start_test_services

STAMP = StampText("Nguyễn Văn An", "Chủ tịch Hội đồng nhân dân")


def _resolution() -> bytes:
    from fpdf import FPDF

    draft = FPDF()
    for i in range(4):
        draft.add_page()
        draft.set_font("helvetica", size=11)
        draft.multi_cell(0, 6, f"Article {i + 1}. " + "Lorem ipsum dolor sit amet. " * 60)
    cert = CertificationData(
        "Hội đồng nhân dân tỉnh Thử Nghiệm",
        "Kỳ họp thứ Năm",
        dt.date(2025, 3, 4),
        "Nghị quyết số 12/NQ-HĐND",
        "Về dự toán ngân sách",
        45,
        50,
        (
            OptionCount("Tán thành", 40),
            OptionCount("Không tán thành", 3),
            OptionCount("Không biểu quyết", 2),
        ),
        "tổng số đại biểu",
        50,
        "quá 1/2",
        True,
    )
    return build_resolution_pdf(bytes(draft.output()), cert)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _line(name: str, samples: list[float]) -> str:
    return (
        f"| {name} | {_pct(samples, 0.5):.1f} | {_pct(samples, 0.99):.1f} | "
        f"{statistics.mean(samples) * 1000:.1f} | {len(samples)} |"
    )


async def _naive(pdf: bytes, p12: Path, passphrase: bytes, tsa_url: str) -> bytes:
    signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=passphrase)  # reload each time
    assert signer is not None
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Chair", subfilter=fields.SigSeedSubFilter.PADES),
        signer=signer,
        timestamper=create_timestamper(tsa_url),
        stamp_style=create_stamp_style(STAMP),
        new_field_spec=fields.SigFieldSpec("Chair", on_page=-1, box=STAMP.box),
    )
    out = await pdf_signer.async_sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        appearance_text_params={
            "heading": "Đã ký số bởi",
            "signer_name": STAMP.name,
            "signer_title": STAMP.title,
            "time_label": "Thời gian ký",
            "signed_at": "now",
        },
    )
    return bytes(out.getvalue())


async def run(runs: int, batch: int) -> list[str]:
    pdf = _resolution()
    with tempfile.TemporaryDirectory() as tmp, start_test_services(Path(tmp)) as services:
        pki = services.pki
        trust = TrustSettings((str(pki.root_cert_path),), (str(pki.intermediate.cert_path),))
        session = LazySession()
        ts = create_timestamper(pki.tsa_url, session=session)
        signer = create_signer(pki.chair.pkcs12_config())
        await sign_pdf_bytes(pdf, signer, SignatureLevel.B_T, "Chair", STAMP, ts)  # warm up
        kept: list[float] = []
        naive: list[float] = []
        for _ in range(runs):
            t = time.perf_counter()
            await sign_pdf_bytes(pdf, signer, SignatureLevel.B_T, "Chair", STAMP, ts)
            kept.append(time.perf_counter() - t)
            t = time.perf_counter()
            await _naive(pdf, pki.chair.pkcs12_path, b"quorum-test", pki.tsa_url)
            naive.append(time.perf_counter() - t)
        await session.close()
        settings_bt = SigningSettings(
            pki.chair.pkcs12_config(), SignatureLevel.B_T, pki.tsa_url, trust
        )
        settings_lt = SigningSettings(
            pki.chair.pkcs12_config(), SignatureLevel.B_LT, pki.tsa_url, trust
        )
        async with SigningPool(max_workers=2) as pool:
            await pool.warm_up(settings_lt)
            pooled: list[float] = []
            for _ in range(runs):
                t = time.perf_counter()
                await pool.sign(pdf, settings_bt, "Chair", STAMP)
                pooled.append(time.perf_counter() - t)
            done = 0
            started = time.perf_counter()

            async def one() -> None:
                nonlocal done
                await pool.sign(pdf, settings_lt, "Chair", STAMP)
                done += 1
                if done % 50 == 0 or done == batch:
                    print(
                        f"  batch B-LT: {done}/{batch} signed, "
                        f"{time.perf_counter() - started:.1f} s",
                        flush=True,
                    )

            limit = asyncio.Semaphore(8)

            async def bounded() -> None:
                async with limit:
                    await one()

            await asyncio.gather(*[bounded() for _ in range(batch)])
            batch_s = time.perf_counter() - started
    return [
        "| sign + time-stamp one resolution (B-T, HTTP TSA) | p50 ms | p99 ms | mean ms | runs |",
        "|---|---|---|---|---|",
        _line("Quorum signer, in-process (key kept, bytes_reserved)", kept),
        _line("Quorum signer, via SigningPool (2 workers)", pooled),
        _line("naive baseline (reload key, pyHanko sizes by dry run)", naive),
        "",
        f"Batch: {batch} resolutions signed B-LT (TSA + OCSP + CRL over HTTP) through the pool "
        f"in {batch_s:.1f} s ({batch / batch_s:.1f}/s; target ≤ 60 s for 400).",
    ]


def main() -> None:
    """Prints the figures with the command and the machine, as a journal entry wants them
    (docs/performance-journal.md); like every benchmark's, they reach docs/PERFORMANCE.md by hand,
    where the "Signing" section is a summary table this output must not replace."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=400)
    args = parser.parse_args()
    lines = asyncio.run(run(args.runs, args.batch))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    command = f"uv run python -m tests.bench.bench_signing --runs {args.runs} --batch {args.batch}"
    today = dt.date.today().isoformat()
    print(f"Command: `{command}`")
    print(f"Machine: {machine}; {today}. RSA-2048 test PKI, TSA/OCSP/CRL on loopback.\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
