"""Test aids: a throw-away PKI and a SoftHSM2 token (docs/features/signing.md, "Test PKI").

Tests and benchmarks sign with them without anything downloaded; they stay out of the wheel
(the demo council's keys are `create_demo_pki`'s, in meetings/services/archive/signing_keys.py).
`create_test_pki` writes a root CA, an intermediate CA, signer certificates (chair, seal, a
revoked one, an expired one), a TSA certificate and an unrelated root ("wrong trust root") into a
folder. Revocation and time-stamp URLs point at `base_url`, where `tests.support.pki_services`
serves them on loopback.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from meetings.documents.signing.api import Pkcs11Config, Pkcs12Config

TEST_PASSPHRASE = b"quorum-test"
"""Passphrase of every PKCS#12 file the test PKI writes."""

SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class TestIdentity:
    """One key pair with its certificate, as files."""

    __test__ = False  # not a pytest class

    name: str
    """Short name (`chair`, `seal`, ...), also the file stem."""
    key_path: Path
    """Unencrypted PKCS#8 PEM private key."""
    cert_path: Path
    """PEM certificate."""
    pkcs12_path: Path
    """PKCS#12 bundle (key, certificate, intermediate CA) protected by `TEST_PASSPHRASE`."""
    serial: int
    """Certificate serial number (the OCSP responder and CRL look it up)."""

    def pkcs12_config(self) -> Pkcs12Config:
        """A signer configuration for this identity's PKCS#12 file."""
        return Pkcs12Config(path=str(self.pkcs12_path), passphrase=TEST_PASSPHRASE)

    def cert_pem(self) -> bytes:
        return self.cert_path.read_bytes()


@dataclass(frozen=True)
class TestPki:
    """Paths of a generated PKI; see `create_test_pki`."""

    __test__ = False

    directory: Path
    base_url: str
    """Where the TSA, OCSP responder and CRLs are served (no trailing slash)."""
    root_cert_path: Path
    intermediate: TestIdentity
    chair: TestIdentity
    seal: TestIdentity
    revoked: TestIdentity
    expired: TestIdentity
    tsa: TestIdentity
    other_root_cert_path: Path
    """A root CA that signed none of the above: the "wrong trust root"."""

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    def crl_url(self, issuer: str) -> str:
        return f"{self.base_url}/crl/{issuer}.crl"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quorum Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class _Issuer:
    name: x509.Name
    key: rsa.RSAPrivateKey
    cert: x509.Certificate | None  # None for the self-signed root


def _issue(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: _Issuer,
    *,
    ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
    crl_url: str | None,
    ocsp_url: str | None,
    eku: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.name if issuer.cert is not None else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=1 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    if ca:
        usage.update(key_cert_sign=True, crl_sign=True, digital_signature=True)
    else:
        usage.update(digital_signature=True, content_commitment=eku is None)
    builder = builder.add_extension(x509.KeyUsage(**usage), critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP,
            x509.UniformResourceIdentifier(ocsp_url),
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


def _write_identity(
    directory: Path,
    name: str,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
) -> TestIdentity:
    key_path = directory / f"{name}.key.pem"
    cert_path = directory / f"{name}.cert.pem"
    p12_path = directory / f"{name}.p12"
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    p12_path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name.encode(),
            key,
            cert,
            chain,
            serialization.BestAvailableEncryption(TEST_PASSPHRASE),
        )
    )
    return TestIdentity(name, key_path, cert_path, p12_path, cert.serial_number)


def create_test_pki(directory: Path, base_url: str) -> TestPki:
    """Generate the whole test PKI (RSA-2048) into `directory`; URLs point at `base_url`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    long_ago, far_ahead = now - dt.timedelta(days=400), now + dt.timedelta(days=3650)

    root_key = _key()
    root = _Issuer(_name("Quorum Test Root CA"), root_key, None)
    root_cert = _issue(
        "Quorum Test Root CA",
        root_key,
        root,
        ca=True,
        not_before=long_ago,
        not_after=far_ahead,
        crl_url=None,
        ocsp_url=None,
    )
    root.cert = root_cert
    root_path = directory / "root.cert.pem"
    root_path.write_bytes(root_cert.public_bytes(serialization.Encoding.PEM))

    inter_key = _key()
    inter_cert = _issue(
        "Quorum Test Intermediate CA",
        inter_key,
        root,
        ca=True,
        not_before=long_ago,
        not_after=far_ahead,
        crl_url=f"{base_url}/crl/root.crl",
        ocsp_url=None,
    )
    inter = _Issuer(inter_cert.subject, inter_key, inter_cert)
    intermediate = _write_identity(directory, "intermediate", inter_key, inter_cert, [])

    def leaf(
        name: str,
        common_name: str,
        *,
        not_after: dt.datetime = far_ahead,
        eku: x509.ObjectIdentifier | None = None,
    ) -> TestIdentity:
        key = _key()
        cert = _issue(
            common_name,
            key,
            inter,
            ca=False,
            not_before=long_ago,
            not_after=not_after,
            crl_url=f"{base_url}/crl/intermediate.crl",
            ocsp_url=f"{base_url}/ocsp",
            eku=eku,
        )
        return _write_identity(directory, name, key, cert, [inter_cert])

    chair = leaf("chair", "Nguyễn Văn An")
    seal = leaf("seal", "Hội đồng nhân dân tỉnh Thử Nghiệm")
    revoked = leaf("revoked", "Trần Thị Bình (revoked)")
    expired = leaf("expired", "Lê Văn Cường (expired)", not_after=now - dt.timedelta(days=30))
    tsa = leaf("tsa", "Quorum Test TSA", eku=ExtendedKeyUsageOID.TIME_STAMPING)

    other_key = _key()
    other = _Issuer(_name("Unrelated Root CA"), other_key, None)
    other_cert = _issue(
        "Unrelated Root CA",
        other_key,
        other,
        ca=True,
        not_before=long_ago,
        not_after=far_ahead,
        crl_url=None,
        ocsp_url=None,
    )
    other_path = directory / "other-root.cert.pem"
    other_path.write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(directory / "root.key.pem", root_key)
    return TestPki(
        directory, base_url, root_path, intermediate, chair, seal, revoked, expired, tsa, other_path
    )


# -- SoftHSM2 -----------------------------------------------------------------------------------


def softhsm_module() -> str | None:
    """Path of the SoftHSM2 PKCS#11 module, or None when SoftHSM2 is not installed."""
    if shutil.which("softhsm2-util") is None:
        return None
    for candidate in SOFTHSM_MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


_IMPORT_CERT = """
import sys, pkcs11
from pkcs11 import Attribute, CertificateType, ObjectClass
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
module, token_label, pin, label, cert_path = sys.argv[1:6]
cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
token = pkcs11.lib(module).get_token(token_label=token_label)
with token.open(user_pin=pin, rw=True) as session:
    session.create_object({
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
        Attribute.TOKEN: True,
        Attribute.LABEL: label,
        Attribute.ID: b"\\x01",
        Attribute.SUBJECT: cert.subject.public_bytes(),
        Attribute.VALUE: cert.public_bytes(Encoding.DER),
    })
"""


def create_softhsm_token(
    directory: Path,
    identity: TestIdentity,
    *,
    token_label: str = "quorum-test",
    pin: str = "1234",
    so_pin: str = "123456",
) -> Pkcs11Config:
    """Put `identity`'s key and certificate on a fresh SoftHSM2 token under `directory`.

    Sets `SOFTHSM2_CONF` in this process's environment (SoftHSM reads it when the module is
    first initialised; process-pool workers inherit it). Raises RuntimeError without SoftHSM2.
    """
    module = softhsm_module()
    if module is None:
        raise RuntimeError("SoftHSM2 is not installed (apt-get install softhsm2)")
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    env = dict(os.environ)

    def run(*args: str) -> None:
        subprocess.run(args, check=True, env=env, capture_output=True, timeout=60)

    run(
        "softhsm2-util",
        "--init-token",
        "--free",
        "--label",
        token_label,
        "--so-pin",
        so_pin,
        "--pin",
        pin,
    )
    run(
        "softhsm2-util",
        "--import",
        str(identity.key_path),
        "--token",
        token_label,
        "--label",
        identity.name,
        "--id",
        "01",
        "--pin",
        pin,
    )
    run(
        sys.executable,
        "-c",
        _IMPORT_CERT,
        module,
        token_label,
        pin,
        identity.name,
        str(identity.cert_path),
    )
    return Pkcs11Config(
        module_path=module,
        token_label=token_label,
        pin=pin,
        key_label=identity.name,
        cert_label=identity.name,
    )
