"""Signing settings and key holders (docs/features/signing.md, "Settings" and "Keys").

Settings are frozen, picklable dataclasses so a `SigningPool` can ship them to worker processes.
A `QuorumSigner` loads its key once (PKCS#12 file or PKCS#11 token) and keeps it; it also fixes
`bytes_reserved` from its certificate chain so pyHanko never signs twice just to size the
signature container.
"""

from __future__ import annotations

import abc
import enum
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from meetings.domain.errors import DomainError


class SigningFailed(DomainError):
    """Signing could not be completed (bad input document, TSA down, policy refused...)."""

    code = "signing_failed"
    status = 502


class TsaUnavailable(SigningFailed):
    """The time-stamp authority did not answer (down, unreachable, or refused the request)."""

    code = "tsa_unavailable"
    status = 502

    @classmethod
    def because(cls, exc: Exception) -> TsaUnavailable:
        """The refusal for pyHanko's `TimestampRequestError` `exc`, in one wording."""
        return cls(f"the time-stamp authority did not answer: {exc}")


class SignerUnavailable(DomainError):
    """The configured key could not be loaded (wrong passphrase or PIN, missing file or token)."""

    code = "signer_unavailable"
    status = 503


class SignatureLevel(enum.Enum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    """Basic signature: CMS with signed attributes, no trusted time."""
    B_T = "B-T"
    """B-B plus a signature time-stamp from an RFC 3161 TSA."""
    B_LT = "B-LT"
    """B-T plus revocation data (OCSP responses, CRLs) and certificates in the DSS."""
    B_LTA = "B-LTA"
    """B-LT plus a document time-stamp covering the DSS, renewable for long-term archives."""

    @property
    def needs_timestamper(self) -> bool:
        return self is not SignatureLevel.B_B

    @property
    def needs_validation_context(self) -> bool:
        return self in (SignatureLevel.B_LT, SignatureLevel.B_LTA)


@dataclass(frozen=True)
class Pkcs12Config:
    """A key and certificate chain in a PKCS#12 (.p12/.pfx) file."""

    path: str
    """File system path of the PKCS#12 file."""
    passphrase: bytes | None = None
    """Passphrase protecting the file; None for an unprotected file."""
    extra_cert_paths: tuple[str, ...] = ()
    """PEM/DER certificates to embed besides those in the file (intermediate CAs)."""


@dataclass(frozen=True)
class Pkcs11Config:
    """A key on a PKCS#11 token (SoftHSM2 in tests, USB tokens and HSMs in production)."""

    module_path: str
    """Path of the PKCS#11 module (`libsofthsm2.so`, a vendor's token driver)."""
    token_label: str
    """Label of the token holding the key."""
    key_label: str
    """Label of the private key object."""
    pin: str | None = field(default=None, repr=False)
    """User PIN; None when the token authenticates out of band (PIN pad)."""
    cert_label: str | None = None
    """Label of the certificate object; defaults to `key_label`."""
    extra_cert_paths: tuple[str, ...] = ()
    """PEM/DER certificates to embed besides the signer's (intermediate CAs)."""


SignerConfig = Pkcs12Config | Pkcs11Config
"""Where a signer's key lives."""


@dataclass(frozen=True)
class StampText:
    """What the visible signature stamp says (Vietnamese by default)."""

    name: str
    """Signer's name as printed, e.g. "Nguyễn Văn An"."""
    title: str
    """Signer's office, e.g. "Chủ tịch Hội đồng nhân dân"."""
    heading: str = "Đã ký số bởi"
    """First line of the stamp ("digitally signed by")."""
    time_label: str = "Thời gian ký"
    """Label before the signing time."""
    page: int = -1
    """Page index for the stamp; negative counts from the end (-1 = last page)."""
    box: tuple[int, int, int, int] = (60, 60, 290, 150)
    """Stamp rectangle (x1, y1, x2, y2) in PDF points from the lower-left corner."""
    utc_offset_hours: int = 7
    """Time zone the signing time is shown in (Vietnam: UTC+7)."""


@dataclass(frozen=True)
class TrustSettings:
    """Which certificates anchor trust, and which extra certificates help build paths."""

    trust_root_paths: tuple[str, ...] = ()
    """PEM/DER files with trusted root certificates."""
    extra_cert_paths: tuple[str, ...] = ()
    """PEM/DER files with intermediate certificates (not trusted by themselves)."""
    allow_fetching: bool = True
    """Fetch OCSP responses and CRLs over HTTP (needed for B-LT and for revocation checks)."""


@dataclass(frozen=True)
class SigningSettings:
    """Everything a worker process needs to sign, besides the document."""

    signer: SignerConfig
    """Where the key lives."""
    level: SignatureLevel = SignatureLevel.B_T
    """PAdES level to produce."""
    tsa_url: str | None = None
    """RFC 3161 time-stamp authority; required from B-T up."""
    trust: TrustSettings = TrustSettings()
    """Trust roots and certificates used to collect revocation data (B-LT, B-LTA)."""
    timestamp_allowance: int = 8192
    """Bytes (DER) reserved in the signature container for the signature time-stamp token."""


def load_certificates(paths: tuple[str, ...] | list[str]) -> list[asn1_x509.Certificate]:
    """Read every certificate from PEM or DER files."""
    try:
        return list(load_certs_from_pemder(list(paths)))  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as exc:
        raise SignerUnavailable(f"cannot read certificates: {exc}") from exc


class QuorumSigner(abc.ABC):
    """Holds one loaded key; subclasses say where it comes from.

    The key is loaded on first use and kept. `bytes_reserved` sizes the signature container from
    the certificate chain once, so pyHanko does not make a throw-away signature to measure it.
    """

    def __init__(self, config: SignerConfig) -> None:
        self.config = config
        self._signer: Signer | None = None
        self._lock = threading.Lock()

    @abc.abstractmethod
    def _load(self) -> Signer:
        """Load the key and certificates; raise SignerUnavailable on failure."""

    def close(self) -> None:
        """Release the key (closes a PKCS#11 session). The signer reloads on next use."""
        self._signer = None

    @property
    def pyhanko_signer(self) -> Signer:
        """The loaded pyHanko signer (loaded once, then reused)."""
        if self._signer is None:
            with self._lock:
                if self._signer is None:
                    self._signer = self._load()
        return self._signer

    @property
    def certificate(self) -> asn1_x509.Certificate:
        cert = self.pyhanko_signer.signing_cert
        if cert is None:  # pragma: no cover - both loaders set it
            raise SignerUnavailable("signer has no certificate")
        return cert

    def bytes_reserved(self, *, timestamped: bool, timestamp_allowance: int = 8192) -> int:
        """Hex bytes to reserve for the CMS container: certificates + signature + attributes."""
        signer = self.pyhanko_signer
        certs = [self.certificate, *signer.cert_registry]
        der = sum(len(cert.dump()) for cert in certs)
        der += self.certificate.public_key.byte_size + 2048
        if timestamped:
            der += timestamp_allowance
        return 2 * der  # type: ignore[no-any-return]


class _KeptKeySigner(SimpleSigner):
    """SimpleSigner that parses its private key once (pyHanko re-parses it on every signature)."""

    _pyca_key: Any = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        name = mechanism["algorithm"].native
        if self._pyca_key is None:
            self._pyca_key = serialization.load_der_private_key(self.signing_key.dump(), None)
        key = self._pyca_key
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if name in ("rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa") and isinstance(
            key, rsa.RSAPrivateKey
        ):
            return bytes(key.sign(data, padding.PKCS1v15(), hash_algo))
        if name in ("ecdsa", "sha256_ecdsa", "sha384_ecdsa", "sha512_ecdsa") and isinstance(
            key, ec.EllipticCurvePrivateKey
        ):
            return bytes(key.sign(data, ec.ECDSA(hash_algo)))
        return bytes(super().sign_raw(data, digest_algorithm))


class Pkcs12Signer(QuorumSigner):
    """A key read from a PKCS#12 file."""

    config: Pkcs12Config

    def __init__(self, config: Pkcs12Config) -> None:
        super().__init__(config)

    def _load(self) -> Signer:
        path = Path(self.config.path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SignerUnavailable(f"cannot read PKCS#12 file {path}: {exc}") from exc
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(data, self.config.passphrase)
        except (ValueError, TypeError) as exc:
            raise SignerUnavailable(
                f"cannot load PKCS#12 file {path} (wrong passphrase or damaged file)"
            ) from exc
        if key is None or cert is None:
            raise SignerUnavailable(f"PKCS#12 file {path} holds no key or no certificate")
        der = serialization.Encoding.DER
        key_info = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        others = [asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain]
        others += load_certificates(self.config.extra_cert_paths)
        signer = _KeptKeySigner(
            signing_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs(others),  # type: ignore[no-untyped-call]
        )
        signer._pyca_key = key
        return signer


class Pkcs11Signer(QuorumSigner):
    """A key on a PKCS#11 token; the session stays open while the signer lives."""

    config: Pkcs11Config

    def __init__(self, config: Pkcs11Config) -> None:
        super().__init__(config)
        self._session: Any = None

    def _load(self) -> Signer:
        cfg = self.config
        try:
            self._session = open_pkcs11_session(
                cfg.module_path,
                token_criteria=TokenCriteria(label=cfg.token_label),
                user_pin=cfg.pin,
            )
            return PKCS11Signer(
                self._session,
                cert_label=cfg.cert_label or cfg.key_label,
                key_label=cfg.key_label,
                ca_chain=load_certificates(cfg.extra_cert_paths),
            )
        except SignerUnavailable:
            raise
        except Exception as exc:  # pkcs11 raises many unrelated types
            raise SignerUnavailable(
                f"cannot open key {cfg.key_label!r} on token {cfg.token_label!r}: {exc!r}"
            ) from exc

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        super().close()


def create_signer(config: SignerConfig) -> QuorumSigner:
    """The signer for a configuration."""
    if isinstance(config, Pkcs12Config):
        return Pkcs12Signer(config)
    return Pkcs11Signer(config)
