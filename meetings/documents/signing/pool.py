"""Signing off the event loop in worker processes (docs/features/signing.md, "Signing pool").

pyHanko's signing is CPU-bound Python (ASN.1, font subsetting, hashing): run in the server's
event loop it stalls broadcasts. `SigningPool` sends picklable `SigningSettings` and the PDF to a
process pool. Each worker keeps its loaded signers, its time-stamp client session and one event
loop for its whole life, so the key is loaded once per worker, not once per document. Checking a
signed file (`verify`: parsing, diff analysis, certificate paths) is as heavy and runs there too.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession

from meetings.documents.signing.api import (
    QuorumSigner,
    SignerConfig,
    SigningSettings,
    StampText,
    create_signer,
)
from meetings.documents.signing.sign import (
    create_timestamper,
    create_validation_context,
    sign_pdf_bytes,
    stamp_font_path,
)
from meetings.documents.signing.validate import CertSource, VerificationReport, verify_pdf_bytes

WARM_UP_S = 60.0
"""How long `warm_up` waits for every worker to have started."""


@dataclass
class _WorkerState:
    loop: asyncio.AbstractEventLoop
    signers: dict[SignerConfig, QuorumSigner] = field(default_factory=dict)
    timestampers: dict[str, Any] = field(default_factory=dict)
    session: Any = None


_state: _WorkerState | None = None  # one per worker process, set by _init_worker


def _init_worker() -> None:
    global _state
    _state = _WorkerState(loop=asyncio.new_event_loop())
    atexit.register(_close_worker)


def _close_worker() -> None:
    if _state is not None and _state.session is not None:
        _state.loop.run_until_complete(_state.session.close())
        _state.session = None


def _worker() -> _WorkerState:
    if _state is None:
        _init_worker()
    assert _state is not None
    return _state


async def _sign(
    state: _WorkerState,
    pdf: bytes,
    settings: SigningSettings,
    field_name: str,
    stamp: StampText | None,
) -> bytes:
    signer = state.signers.get(settings.signer)
    if signer is None:
        signer = state.signers[settings.signer] = create_signer(settings.signer)
    timestamper = None
    if settings.tsa_url and settings.level.needs_timestamper:
        if state.session is None:
            state.session = LazySession()  # type: ignore[no-untyped-call]
        timestamper = state.timestampers.get(settings.tsa_url)
        if timestamper is None:
            timestamper = create_timestamper(settings.tsa_url, session=state.session)
            state.timestampers[settings.tsa_url] = timestamper
    vc = (
        create_validation_context(settings.trust)
        if settings.level.needs_validation_context
        else None
    )
    try:
        return await sign_pdf_bytes(
            pdf,
            signer,
            settings.level,
            field_name,
            stamp,
            timestamper,
            vc,
            timestamp_allowance=settings.timestamp_allowance,
        )
    finally:
        if vc is not None:
            await vc.aclose()  # type: ignore[no-untyped-call]


def sign_in_worker(
    pdf: bytes, settings: SigningSettings, field_name: str, stamp: StampText | None
) -> bytes:
    """Entry point run inside a worker process (also callable directly, without a pool)."""
    state = _worker()
    return state.loop.run_until_complete(_sign(state, pdf, settings, field_name, stamp))


def verify_in_worker(
    pdf: bytes,
    trust_roots: tuple[CertSource, ...],
    extra_certs: tuple[CertSource, ...],
    allow_fetching: bool,
) -> VerificationReport:
    """`verify_pdf_bytes` inside a worker process (also callable directly, without a pool)."""
    return _worker().loop.run_until_complete(
        verify_pdf_bytes(pdf, trust_roots, extra_certs=extra_certs, allow_fetching=allow_fetching)
    )


def _warm(settings: SigningSettings) -> int:
    state = _worker()
    signer = state.signers.get(settings.signer)
    if signer is None:
        signer = state.signers[settings.signer] = create_signer(settings.signer)
    signer.pyhanko_signer  # noqa: B018 - loads the key

    stamp_font_path()
    return os.getpid()


class SigningPool:
    """A process pool for signing; create once at start-up (lifespan), `close()` at shutdown."""

    def __init__(self, max_workers: int | None = None, *, start_method: str = "spawn") -> None:
        self.max_workers = max_workers or max(1, (os.cpu_count() or 2) - 1)
        self._executor = ProcessPoolExecutor(
            max_workers=self.max_workers,
            mp_context=multiprocessing.get_context(start_method),
            initializer=_init_worker,
        )

    async def warm_up(self, settings: SigningSettings) -> set[int]:
        """Start every worker and load the key there; returns the worker process ids.

        A worker that is still starting (importing pyHanko) misses a round that the started
        ones finish in milliseconds, so rounds repeat until every worker has answered, for at
        most `WARM_UP_S` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WARM_UP_S
        pids: set[int] = set()
        while True:
            jobs = [
                loop.run_in_executor(self._executor, _warm, settings)
                for _ in range(self.max_workers * 2)
            ]
            pids.update(await asyncio.gather(*jobs))
            if len(pids) >= self.max_workers or loop.time() > deadline:
                return pids
            await asyncio.sleep(0.05)

    async def sign(
        self,
        pdf: bytes,
        settings: SigningSettings,
        field_name: str,
        stamp: StampText | None = None,
    ) -> bytes:
        """Sign `pdf` in a worker; same contract as `sign_pdf_bytes`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, sign_in_worker, pdf, settings, field_name, stamp
        )

    async def verify(
        self,
        pdf: bytes,
        trust_roots: tuple[CertSource, ...],
        extra_certs: tuple[CertSource, ...] = (),
        *,
        allow_fetching: bool = True,
    ) -> VerificationReport:
        """Check `pdf` in a worker; same contract as `verify_pdf_bytes`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, verify_in_worker, pdf, trust_roots, extra_certs, allow_fetching
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> SigningPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)
