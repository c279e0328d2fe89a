"""The council's signing keys and the signing pool (docs/features/archive.md, "Keys and
configuration").

`load_keys(settings)` turns `QUORUM_SIGNING_*`, `QUORUM_SEAL_*`, `QUORUM_TSA_URL` and
`QUORUM_TRUST_ROOTS` into `SigningSettings` for the chair's key and the council's seal. Without a
configured key, a demo PKI found in `DATA_DIR/demo-pki` (written by `quorum demo`) is used.
`SigningRuntime` signs in a `SigningPool` (worker processes, created by the app's start hook) or,
in the CLI and the demo seeding, in the calling process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from meetings.config import Settings
from meetings.documents.signing.api import (
    Pkcs11Config,
    Pkcs12Config,
    SignatureLevel,
    SignerConfig,
    SignerUnavailable,
    SigningSettings,
    StampText,
    TrustSettings,
    create_signer,
)
from meetings.documents.signing.pool import SigningPool
from meetings.documents.signing.sign import (
    add_archive_timestamp,
    create_timestamper,
    create_validation_context,
    sign_pdf_bytes,
)
from meetings.documents.signing.validate import VerificationReport, verify_pdf_bytes
from meetings.services.context import Services

log = logging.getLogger(__name__)

DEMO_PKI = "demo-pki"
SEAL_BOX = (310, 60, 540, 150)
"""Where the seal's stamp goes on the certification page (the chair's is bottom-left)."""


@dataclass(frozen=True)
class SigningKeys:
    """What the server signs with; `chair` None means only remote signing is possible."""

    chair: SigningSettings | None
    seal: SigningSettings | None
    trust: TrustSettings
    level: SignatureLevel
    tsa_url: str | None
    demo: bool = False

    @property
    def trust_roots(self) -> tuple[str, ...]:
        return self.trust.trust_root_paths

    @property
    def extra_certs(self) -> tuple[str, ...]:
        return self.trust.extra_cert_paths


def _paths(raw: str) -> tuple[str, ...]:
    return tuple(p for p in raw.split(":") if p)


def _level(settings: Settings, tsa: str | None, roots: tuple[str, ...]) -> SignatureLevel:
    if settings.signing_level:
        try:
            return SignatureLevel(settings.signing_level.upper())
        except ValueError:
            raise SignerUnavailable(
                f"QUORUM_SIGNING_LEVEL is one of {[lv.value for lv in SignatureLevel]}"
            ) from None
    if tsa and roots:
        return SignatureLevel.B_LT
    return SignatureLevel.B_T if tsa else SignatureLevel.B_B


def load_keys(settings: Settings) -> SigningKeys:
    """The configured keys (no file is opened here: keys load in the signing workers)."""
    extra = _paths(settings.signing_extra_certs)
    roots = _paths(settings.trust_roots)
    chair: SignerConfig | None = None
    seal: SignerConfig | None = None
    demo = False
    if settings.signing_pkcs12:
        chair = Pkcs12Config(
            settings.signing_pkcs12, settings.signing_passphrase.encode() or None, extra
        )
    elif settings.signing_pkcs11_module:
        chair = Pkcs11Config(
            settings.signing_pkcs11_module,
            settings.signing_pkcs11_token,
            settings.signing_pkcs11_key,
            settings.signing_pkcs11_pin or None,
            extra_cert_paths=extra,
        )
    if settings.seal_pkcs12:
        seal = Pkcs12Config(settings.seal_pkcs12, settings.seal_passphrase.encode() or None, extra)
    found = demo_pki(settings.data_dir)
    if chair is None and found is not None:
        chair, seal, demo = found.chair, found.seal, True
        roots = roots or (found.root,)
    tsa = settings.tsa_url or None
    trust = TrustSettings(roots, extra, allow_fetching=True)
    level = _level(settings, tsa, roots)

    def signing(config: SignerConfig | None) -> SigningSettings | None:
        return None if config is None else SigningSettings(config, level, tsa, trust)

    return SigningKeys(signing(chair), signing(seal), trust, level, tsa, demo)


# -- demo PKI -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPki:
    root: str
    chair: Pkcs12Config
    seal: Pkcs12Config


def demo_pki(data_dir: Path) -> DemoPki | None:
    """The demo PKI written by `create_demo_pki`, if there is one."""
    folder = data_dir / DEMO_PKI
    meta = folder / "pki.json"
    if not meta.is_file():
        return None
    raw = json.loads(meta.read_text())
    passphrase = str(raw["passphrase"]).encode()
    return DemoPki(
        str(folder / "root.cert.pem"),
        Pkcs12Config(str(folder / "chair.p12"), passphrase),
        Pkcs12Config(str(folder / "seal.p12"), passphrase),
    )


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    now: dt.datetime,
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quorum demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, subject),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def create_demo_pki(data_dir: Path, chair_name: str, council_name: str) -> DemoPki:
    """Write a demo root CA with chair and seal keys (PKCS#12) into `DATA_DIR/demo-pki`.

    Made with `cryptography` on this machine; nothing is downloaded. The certificates carry no
    revocation URLs (there is no demo OCSP responder), so verification reports them as good.
    Only for demonstrations: anyone with the data folder holds the keys.
    """
    existing = demo_pki(data_dir)
    if existing is not None:
        return existing
    folder = data_dir / DEMO_PKI
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quorum demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Quorum Demo Root CA"),
        ]
    )
    root = _cert("Quorum Demo Root CA", root_key, root_name, root_key, ca=True, now=now)
    (folder / "root.cert.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    passphrase = secrets.token_urlsafe(16)
    for stem, common_name in (("chair", chair_name), ("seal", council_name)):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = _cert(common_name, key, root_name, root_key, ca=False, now=now)
        p12 = pkcs12.serialize_key_and_certificates(
            stem.encode(),
            key,
            cert,
            [root],
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
        path = folder / f"{stem}.p12"
        path.write_bytes(p12)
        path.chmod(0o600)
    meta = folder / "pki.json"
    meta.write_text(json.dumps({"passphrase": passphrase, "created": now.isoformat()}))
    meta.chmod(0o600)
    found = demo_pki(data_dir)
    assert found is not None
    return found


# -- signing --------------------------------------------------------------------------------------


class SigningRuntime:
    """Signs with the configured keys: in the pool when the server runs, else in-process."""

    def __init__(self, keys: SigningKeys, pool: SigningPool | None = None) -> None:
        self.keys = keys
        self.pool = pool
        self._signers: dict[SignerConfig, Any] = {}
        self.turns = asyncio.Semaphore((pool.max_workers if pool else 0) + 1)
        """Held while one document goes through read → sign → check → store: as many at once
        as the pool has workers, plus one being read or stored. A batch of requests is then
        signed in order, each answered when done, and the server's own part (database, files)
        is spread over the batch instead of done for every document at once."""

    async def sign(
        self, pdf: bytes, settings: SigningSettings, field_name: str, stamp: StampText
    ) -> bytes:
        if self.pool is not None:
            return await self.pool.sign(pdf, settings, field_name, stamp)
        return await self._sign_here(pdf, settings, field_name, stamp)

    async def _sign_here(
        self, pdf: bytes, settings: SigningSettings, field_name: str, stamp: StampText
    ) -> bytes:
        signer = self._signers.get(settings.signer)
        if signer is None:
            signer = self._signers[settings.signer] = create_signer(settings.signer)
        ts = create_timestamper(settings.tsa_url) if settings.tsa_url else None
        vc = (
            create_validation_context(settings.trust)
            if settings.level.needs_validation_context
            else None
        )
        try:
            return await sign_pdf_bytes(
                pdf, signer, settings.level, field_name, stamp, ts, vc,
                timestamp_allowance=settings.timestamp_allowance,
            )  # fmt: skip
        finally:
            if vc is not None:
                await vc.aclose()  # type: ignore[no-untyped-call]

    async def verify(self, pdf: bytes, *, allow_fetching: bool = True) -> VerificationReport:
        """Check `pdf` against the configured trust roots, off the event loop: in the pool,
        else in a thread with its own loop (a server without a key of its own has no pool)."""
        roots, extra = self.keys.trust_roots, self.keys.extra_certs
        if self.pool is not None:
            return await self.pool.verify(pdf, roots, extra, allow_fetching=allow_fetching)

        async def work() -> VerificationReport:
            return await verify_pdf_bytes(
                pdf, roots, extra_certs=extra, allow_fetching=allow_fetching
            )

        return await anyio.to_thread.run_sync(lambda: asyncio.run(work()))

    def seal_stamp(self, council_name: str) -> StampText:
        return StampText(council_name, "Dấu của Hội đồng", heading="Đóng dấu số bởi", box=SEAL_BOX)

    async def sign_with_seal(self, pdf: bytes, council_name: str) -> bytes:
        """Add the council's seal as a second signature, if a seal key is configured."""
        if self.keys.seal is None:
            return pdf
        return await self.sign(pdf, self.keys.seal, "Seal", self.seal_stamp(council_name))

    async def archive_timestamp(self, pdf: bytes) -> bytes:
        """B-LTA: revocation data and a document time-stamp (in a thread with its own loop)."""
        if not self.keys.tsa_url or not self.keys.trust_roots:
            return pdf
        tsa_url, trust = self.keys.tsa_url, self.keys.trust

        async def work() -> bytes:
            vc = create_validation_context(trust)
            try:
                return await add_archive_timestamp(pdf, create_timestamper(tsa_url), vc)
            finally:
                await vc.aclose()  # type: ignore[no-untyped-call]

        return await anyio.to_thread.run_sync(lambda: asyncio.run(work()))

    def close(self) -> None:
        for signer in self._signers.values():
            signer.close()
        self._signers.clear()
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def runtime(services: Services) -> SigningRuntime:
    """This app's signing runtime (made on first use where no start hook ran: CLI, demo)."""
    found = services.subsystems.get("signing")
    if isinstance(found, SigningRuntime):
        return found
    made = SigningRuntime(load_keys(services.settings))
    services.subsystems["signing"] = made
    return made


def require_chair_key(keys: SigningKeys) -> SigningSettings:
    if keys.chair is None:
        raise SignerUnavailable(
            "no signing key is configured on the server (QUORUM_SIGNING_PKCS12 or "
            "QUORUM_SIGNING_PKCS11_*); sign with your own token: `quorum sign-remote`"
        )
    return keys.chair


async def start_signing(services: Services) -> None:
    """App start hook: the signing pool, warmed up with the configured keys."""
    keys = load_keys(services.settings)
    pool: SigningPool | None = None
    if keys.chair is not None:
        pool = SigningPool(max(1, services.settings.signing_workers))
        try:
            await pool.warm_up(keys.chair)
            if keys.seal is not None:
                await pool.warm_up(keys.seal)
        except SignerUnavailable as exc:
            log.error("signing keys could not be loaded: %s", exc.message)
    services.subsystems["signing"] = SigningRuntime(keys, pool)


async def stop_signing(services: Services) -> None:
    found = services.subsystems.pop("signing", None)
    if isinstance(found, SigningRuntime):
        await anyio.to_thread.run_sync(found.close)
