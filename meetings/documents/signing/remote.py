"""Interrupted (remote) signing, key on the signer's token (docs/features/signing.md, "Remote
signing").

1. The server calls `prepare_remote(pdf, signer_cert_pem, ...)`: pyHanko lays out the signature
   (field, stamp, placeholder), hashes the byte range and builds the CMS signed attributes. It
   returns a `RemoteSigningState` to store (`to_bytes()`) and the digest the token must sign.
2. The signer's machine signs that digest on its PKCS#11 token: `sign_digest_pkcs11(config,
   digest)` (what `quorum sign-remote` does).
3. The server calls `complete_remote(state, signature)`: the signature is checked against the
   certificate, wrapped into CMS (plus a signature time-stamp for B-T and up) and written into
   the placeholder; B-LT adds revocation data, B-LTA a document time-stamp.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from io import BytesIO

import pkcs11
from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ecdsa_signature
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.validation import async_add_validation_info  # type: ignore[attr-defined]
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from meetings.documents.signing.api import (
    Pkcs11Config,
    SignatureLevel,
    SignerUnavailable,
    SigningFailed,
    StampText,
    TsaUnavailable,
)
from meetings.documents.signing.sign import (
    MD_ALGORITHM,
    add_archive_timestamp,
    check_level,
    create_stamp_style,
    open_pdf_writer,
    stamp_text_params,
)


@dataclass(frozen=True)
class RemoteSigningState:
    """What the server keeps between `prepare_remote` and `complete_remote` (serialisable)."""

    prepared_pdf: bytes
    """The document with the signature placeholder, as hashed."""
    document_digest: bytes
    reserved_region_start: int
    reserved_region_end: int
    signed_attrs: bytes
    """DER of the CMS signed attributes; their SHA-256 is the digest the token signs."""
    signer_cert: bytes
    """DER of the signer's certificate."""
    extra_certs: tuple[bytes, ...]
    level: SignatureLevel
    digest_algorithm: str = MD_ALGORITHM

    @property
    def digest_to_sign(self) -> bytes:
        return hashlib.new(self.digest_algorithm, self.signed_attrs).digest()

    def to_bytes(self) -> bytes:
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return json.dumps(
            {
                "prepared_pdf": b64(self.prepared_pdf),  # type: ignore[no-untyped-call]
                "document_digest": b64(self.document_digest),  # type: ignore[no-untyped-call]
                "reserved": [self.reserved_region_start, self.reserved_region_end],
                "signed_attrs": b64(self.signed_attrs),  # type: ignore[no-untyped-call]
                "signer_cert": b64(self.signer_cert),  # type: ignore[no-untyped-call]
                "extra_certs": [b64(c) for c in self.extra_certs],  # type: ignore[no-untyped-call]
                "level": self.level.value,
                "digest_algorithm": self.digest_algorithm,
            }
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> RemoteSigningState:
        raw = json.loads(data)
        d = base64.b64decode
        return cls(
            d(raw["prepared_pdf"]),
            d(raw["document_digest"]),
            int(raw["reserved"][0]),
            int(raw["reserved"][1]),
            d(raw["signed_attrs"]),
            d(raw["signer_cert"]),
            tuple(d(c) for c in raw["extra_certs"]),
            SignatureLevel(raw["level"]),
            raw["digest_algorithm"],
        )


def _certs(pem_or_der: bytes) -> list[asn1_x509.Certificate]:
    try:
        return list(load_certs_from_pemder_data(pem_or_der))
    except ValueError as exc:
        raise SigningFailed(f"not a certificate: {exc}") from exc


async def prepare_remote(
    pdf: bytes,
    signer_cert_pem: bytes,
    *,
    field_name: str,
    stamp: StampText | None,
    level: SignatureLevel = SignatureLevel.B_T,
    extra_certs_pem: bytes = b"",
    signing_time: dt.datetime | None = None,
) -> tuple[RemoteSigningState, bytes]:
    """Lay out a signature for `signer_cert_pem`; return the state and the digest to sign."""
    certs = _certs(signer_cert_pem)
    if not certs:
        raise SigningFailed("no signer certificate given")
    cert, extras = certs[0], certs[1:] + (_certs(extra_certs_pem) if extra_certs_pem else [])
    registry = SimpleCertificateStore.from_certs(extras)  # type: ignore[no-untyped-call]
    key_bytes = cert.public_key.byte_size if cert.public_key.algorithm == "rsa" else 72
    ext = signers.ExternalSigner(cert, registry, signature_value=bytes(key_bytes))
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm=MD_ALGORITHM,
            subfilter=fields.SigSeedSubFilter.PADES,
        ),
        signer=ext,
        stamp_style=create_stamp_style(stamp) if stamp else None,
        new_field_spec=fields.SigFieldSpec(
            field_name, on_page=stamp.page if stamp else 0, box=stamp.box if stamp else None
        ),
    )
    when = signing_time or dt.datetime.now(dt.UTC)
    der = sum(len(c.dump()) for c in [cert, *extras]) + key_bytes + 2048
    reserved = 2 * (der + (8192 if level.needs_timestamper else 0))
    try:
        prep, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
            open_pdf_writer(pdf),
            bytes_reserved=reserved,
            appearance_text_params=stamp_text_params(stamp, when) if stamp else None,
        )
        attrs = await ext.signed_attrs(
            prep.document_digest,
            MD_ALGORITHM,
            attr_settings=PdfCMSSignedAttributes(signing_time=when),
            use_pades=True,
        )
    except Exception as exc:  # pyHanko raises several types for unusable input
        if isinstance(exc, SigningFailed):
            raise
        raise SigningFailed(f"cannot prepare the document for signing: {exc}") from exc
    state = RemoteSigningState(
        prepared_pdf=bytes(output.getvalue()),  # type: ignore[attr-defined]
        document_digest=prep.document_digest,
        reserved_region_start=prep.reserved_region_start,
        reserved_region_end=prep.reserved_region_end,
        signed_attrs=attrs.dump(),
        signer_cert=cert.dump(),
        extra_certs=tuple(c.dump() for c in extras),
        level=level,
    )
    return state, state.digest_to_sign


def _check_signature(state: RemoteSigningState, signature: bytes) -> None:
    key = x509.load_der_x509_certificate(state.signer_cert).public_key()
    hash_algo = hashes.SHA256()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, state.signed_attrs, padding.PKCS1v15(), hash_algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, state.signed_attrs, ec.ECDSA(hash_algo))
        else:
            raise SigningFailed("only RSA and ECDSA keys are supported for remote signing")
    except InvalidSignature as exc:
        raise SigningFailed("the signature does not match the signer's certificate") from exc


def _as_cms(signature: bytes) -> cms.ContentInfo | None:
    try:
        info = cms.ContentInfo.load(signature)
        return info if info["content_type"].native == "signed_data" else None
    except (ValueError, TypeError, KeyError):
        return None


async def complete_remote(
    state: RemoteSigningState,
    signature: bytes,
    *,
    certificate_pem: bytes | None = None,
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
) -> bytes:
    """Embed the token's signature (raw, or a complete CMS) and return the signed PDF."""
    check_level(state.level, timestamper, validation_context)
    cert = asn1_x509.Certificate.load(state.signer_cert)
    if certificate_pem is not None:
        sent = _certs(certificate_pem)
        if not sent or sent[0].dump() != state.signer_cert:
            raise SigningFailed("the certificate sent is not the one the session was prepared for")
    sig_cms = _as_cms(signature)
    if sig_cms is None:
        _check_signature(state, signature)
        registry = SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [asn1_x509.Certificate.load(c) for c in state.extra_certs]
        )
        ext = signers.ExternalSigner(cert, registry, signature_value=signature)
        try:
            sig_cms = await ext.async_sign_prescribed_attributes(
                state.digest_algorithm,
                signed_attrs=cms.CMSAttributes.load(state.signed_attrs),
                timestamper=timestamper if state.level.needs_timestamper else None,
            )
        except TimestampRequestError as exc:  # the server's side failed, not the signer's
            raise TsaUnavailable.because(exc) from exc
    prep = PreparedByteRangeDigest(
        state.document_digest, state.reserved_region_start, state.reserved_region_end
    )
    output = BytesIO(state.prepared_pdf)
    try:
        await PdfTBSDocument.async_finish_signing(output, prep, sig_cms)
        signed = output.getvalue()
        if state.level.needs_validation_context:
            assert validation_context is not None
            reader = PdfFileReader(BytesIO(signed), strict=False)
            out = await async_add_validation_info(
                reader.embedded_signatures[-1], validation_context
            )
            signed = out.getvalue()
            if state.level is SignatureLevel.B_LTA and timestamper is not None:
                signed = await add_archive_timestamp(signed, timestamper, validation_context)
    except SigningFailed:
        raise
    except TimestampRequestError as exc:
        raise TsaUnavailable.because(exc) from exc
    except Exception as exc:
        raise SigningFailed(f"cannot complete the signature: {exc}") from exc
    return bytes(signed)


def sign_digest_pkcs11(
    config: Pkcs11Config, digest: bytes, digest_algorithm: str = "sha256"
) -> bytes:
    """Sign a prepared digest with the key on a PKCS#11 token (client side of remote signing).

    RSA keys sign the DER DigestInfo with CKM_RSA_PKCS (PKCS#1 v1.5); EC keys sign the digest with
    CKM_ECDSA and the result is DER-encoded. Returns the raw signature value for the server.
    """
    try:
        token = pkcs11.lib(config.module_path).get_token(token_label=config.token_label)
        with token.open(user_pin=config.pin) as session:
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=config.key_label)
            if key.key_type == KeyType.RSA:
                info = algos.DigestInfo(
                    {
                        "digest_algorithm": {
                            "algorithm": digest_algorithm,
                            "parameters": core.Null(),
                        },
                        "digest": digest,
                    }
                )
                return bytes(key.sign(info.dump(), mechanism=Mechanism.RSA_PKCS))  # type: ignore[attr-defined]
            if key.key_type == KeyType.EC:
                return bytes(encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA)))  # type: ignore[attr-defined]
            raise SignerUnavailable(f"unsupported key type {key.key_type!r} on the token")
    except SignerUnavailable:
        raise
    except Exception as exc:  # python-pkcs11 raises its own hierarchy and OSError
        raise SignerUnavailable(f"PKCS#11 signing failed: {exc!r}") from exc


def read_certificate_pkcs11(config: Pkcs11Config) -> bytes:
    """The signer's certificate (PEM) stored on the token next to the key."""
    try:
        token = pkcs11.lib(config.module_path).get_token(token_label=config.token_label)
        with token.open(user_pin=config.pin) as session:
            obj = next(
                session.get_objects(
                    {
                        Attribute.CLASS: ObjectClass.CERTIFICATE,
                        Attribute.LABEL: config.cert_label or config.key_label,
                    }
                )
            )
            der = bytes(obj[Attribute.VALUE])
    except StopIteration as exc:
        raise SignerUnavailable("no certificate with that label on the token") from exc
    except Exception as exc:
        raise SignerUnavailable(f"cannot read the certificate from the token: {exc!r}") from exc
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
