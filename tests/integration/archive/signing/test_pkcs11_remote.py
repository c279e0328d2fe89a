"""Keys on a PKCS#11 token (SoftHSM2): direct signing and interrupted (remote) signing."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pyhanko.sign.timestamps import TimeStamper

from meetings.documents.signing.api import (
    Pkcs11Config,
    SignatureLevel,
    SignerUnavailable,
    SigningFailed,
    TrustSettings,
    create_signer,
)
from meetings.documents.signing.remote import (
    RemoteSigningState,
    complete_remote,
    prepare_remote,
    read_certificate_pkcs11,
    sign_digest_pkcs11,
)
from meetings.documents.signing.remote_cli import create_signature_payload
from meetings.documents.signing.sign import create_validation_context, sign_pdf_bytes
from meetings.documents.signing.validate import verify_pdf_bytes
from tests.support.pki import TestPki

from .conftest import CHAIR_STAMP


async def test_pkcs11_signer_b_t(
    softhsm: Pkcs11Config, draft_pdf: bytes, pki: TestPki, http_timestamper: TimeStamper
) -> None:
    signer = create_signer(softhsm)
    try:
        signed = await sign_pdf_bytes(
            draft_pdf, signer, SignatureLevel.B_T, "Chair", CHAIR_STAMP, http_timestamper
        )
        again = await sign_pdf_bytes(signed, signer, SignatureLevel.B_B, "Again", None)
    finally:
        signer.close()
    report = await verify_pdf_bytes(again, [pki.root_cert_path])
    assert report.ok, report.summary()
    assert [s.signer_name for s in report.signatures] == ["Nguyễn Văn An"] * 2


async def test_pkcs11_wrong_pin(softhsm: Pkcs11Config) -> None:
    bad = Pkcs11Config(softhsm.module_path, softhsm.token_label, softhsm.key_label, pin="0000")
    with pytest.raises(SignerUnavailable):
        create_signer(bad).pyhanko_signer  # noqa: B018
    with pytest.raises(SignerUnavailable):
        sign_digest_pkcs11(bad, b"\0" * 32)


@pytest.mark.parametrize("level", [SignatureLevel.B_T, SignatureLevel.B_LTA])
async def test_remote_signing_round_trip_with_key_on_softhsm(
    level: SignatureLevel,
    softhsm: Pkcs11Config,
    draft_pdf: bytes,
    pki: TestPki,
    http_timestamper: TimeStamper,
    trust: TrustSettings,
) -> None:
    # server: lay out the signature for the certificate the client announced
    cert_pem = read_certificate_pkcs11(softhsm)
    assert cert_pem == pki.chair.cert_pem()
    state, digest = await prepare_remote(
        draft_pdf,
        cert_pem,
        field_name="Chair",
        stamp=CHAIR_STAMP,
        level=level,
        extra_certs_pem=pki.intermediate.cert_pem(),
    )
    stored = state.to_bytes()
    assert hashlib.sha256(state.signed_attrs).digest() == digest
    # client: the key never leaves the token
    payload = create_signature_payload(
        softhsm, {"digest_b64": base64.b64encode(digest).decode(), "digest_algorithm": "sha256"}
    )
    # server, later, possibly in another process
    restored = RemoteSigningState.from_bytes(stored)
    vc = create_validation_context(trust)
    try:
        signed = await complete_remote(
            restored,
            base64.b64decode(payload["signature_b64"]),
            certificate_pem=payload["certificate_pem"].encode(),
            timestamper=http_timestamper,
            validation_context=vc,
        )
    finally:
        await vc.aclose()
    report = await verify_pdf_bytes(signed, [pki.root_cert_path], allow_fetching=False)
    assert report.ok, report.summary()
    assert report.signatures[0].signer_name == "Nguyễn Văn An"
    assert report.signatures[0].timestamp_time is not None


async def test_remote_refuses_wrong_signature_or_certificate(
    softhsm: Pkcs11Config, draft_pdf: bytes, pki: TestPki, http_timestamper: TimeStamper
) -> None:
    state, digest = await prepare_remote(
        draft_pdf, pki.chair.cert_pem(), field_name="Chair", stamp=None, level=SignatureLevel.B_B
    )
    wrong = sign_digest_pkcs11(softhsm, hashlib.sha256(b"another document").digest())
    with pytest.raises(SigningFailed, match="does not match"):
        await complete_remote(state, wrong)
    good = sign_digest_pkcs11(softhsm, digest)
    with pytest.raises(SigningFailed, match="not the one"):
        await complete_remote(state, good, certificate_pem=pki.seal.cert_pem())
    signed = await complete_remote(state, good)
    # no intermediate was embedded: it must come from the verifier's side
    report = await verify_pdf_bytes(signed, [pki.root_cert_path])
    assert not report.ok and "does not chain" in report.summary()
    report = await verify_pdf_bytes(
        signed, [pki.root_cert_path], extra_certs=[pki.intermediate.cert_path]
    )
    assert report.ok, report.summary()
