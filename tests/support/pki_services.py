"""Loopback TSA, OCSP responder and CRLs for the test PKI (docs/features/signing.md, "Test PKI").

`start_test_services(directory)` binds 127.0.0.1 on a free port, generates the test PKI with URLs
pointing there, and serves (aiohttp, in a background thread with its own event loop, so sync
code, pytest's loop and process-pool workers can all reach it):

- `POST /tsa`: RFC 3161 time-stamps signed by the test TSA certificate;
- `POST /ocsp`: OCSP responses signed by the intermediate CA (the revoked signer is revoked);
- `GET /crl/root.crl`, `GET /crl/intermediate.crl`: CRLs.

`create_in_process_timestamper` is the same TSA without HTTP (pyHanko's DummyTimeStamper).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from tests.support.pki import TestIdentity, TestPki, create_test_pki

REVOKED_SINCE = dt.timedelta(days=1)
"""How long before "now" the revoked signer's certificate was revoked."""


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def create_in_process_timestamper(pki: TestPki) -> DummyTimeStamper:
    """The test TSA as an in-process pyHanko time-stamper (no HTTP)."""
    tsa_cert = asn1_x509.Certificate.load(
        _load_cert(pki.tsa.cert_path).public_bytes(serialization.Encoding.DER)
    )
    tsa_key = asn1_keys.PrivateKeyInfo.load(
        _load_key(pki.tsa.key_path).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    inter = asn1_x509.Certificate.load(
        _load_cert(pki.intermediate.cert_path).public_bytes(serialization.Encoding.DER)
    )
    return _KeptKeyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=[inter])  # type: ignore[arg-type]


class _KeptKeyTimeStamper(DummyTimeStamper):
    """DummyTimeStamper that parses its key once (the stock one re-parses it per token)."""

    _pyca_key: rsa.RSAPrivateKey | None = None

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),  # type: ignore[no-untyped-call]
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),  # type: ignore[no-untyped-call]
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute("message_digest", digest.finalize()),  # type: ignore[no-untyped-call]
            ]
        )
        if self._pyca_key is None:
            key = serialization.load_der_private_key(self.tsa_key.dump(), None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self._pyca_key = key
        signature = self._pyca_key.sign(
            signed_attrs.dump(), padding.PKCS1v15(), get_pyca_cryptography_hash(md_algorithm)
        )
        return signature, signed_attrs


@dataclass
class _Responder:
    pki: TestPki
    timestamper: DummyTimeStamper
    leaves: dict[int, x509.Certificate]
    inter_cert: x509.Certificate
    inter_key: rsa.RSAPrivateKey
    root_key: rsa.RSAPrivateKey
    root_cert: x509.Certificate
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def create(cls, pki: TestPki) -> _Responder:
        identities: list[TestIdentity] = [pki.chair, pki.seal, pki.revoked, pki.expired, pki.tsa]
        leaves = {i.serial: _load_cert(i.cert_path) for i in identities}
        return cls(
            pki,
            create_in_process_timestamper(pki),
            leaves,
            _load_cert(pki.intermediate.cert_path),
            _load_key(pki.intermediate.key_path),
            _load_key(pki.directory / "root.key.pem"),
            _load_cert(pki.root_cert_path),
        )

    def revocation_time(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0) - REVOKED_SINCE

    async def tsa(self, request: web.Request) -> web.Response:
        self.counts["tsa"] += 1
        req = tsp.TimeStampReq.load(await request.read())
        resp = await self.timestamper.async_request_tsa_response(req)
        return web.Response(body=resp.dump(), content_type="application/timestamp-reply")

    async def ocsp(self, request: web.Request) -> web.Response:
        self.counts["ocsp"] += 1
        req = ocsp.load_der_ocsp_request(await request.read())
        cert = self.leaves.get(req.serial_number)
        if cert is None:
            resp = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
            return web.Response(
                body=resp.public_bytes(serialization.Encoding.DER),
                content_type="application/ocsp-response",
            )
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = req.serial_number == self.pki.revoked.serial
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert,
            issuer=self.inter_cert,
            algorithm=req.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(minutes=1),
            next_update=now + dt.timedelta(days=1),
            revocation_time=self.revocation_time() if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.inter_cert)
        for ext in req.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        resp = builder.sign(self.inter_key, hashes.SHA256())
        return web.Response(
            body=resp.public_bytes(serialization.Encoding.DER),
            content_type="application/ocsp-response",
        )

    async def crl(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.counts[f"crl:{name}"] += 1
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        if name == "root":
            issuer_cert, key, revoked_serials = self.root_cert, self.root_key, []
        elif name == "intermediate":
            issuer_cert, key = self.inter_cert, self.inter_key
            revoked_serials = [self.pki.revoked.serial]
        else:
            raise web.HTTPNotFound()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer_cert.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                critical=False,
            )
        )
        for serial in revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(self.revocation_time())
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        crl = builder.sign(key, hashes.SHA256())
        return web.Response(
            body=crl.public_bytes(serialization.Encoding.DER), content_type="application/pkix-crl"
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/tsa", self.tsa)
        app.router.add_post("/ocsp", self.ocsp)
        app.router.add_get("/crl/{name}.crl", self.crl)
        return app


class TestServices:
    """A running loopback TSA/OCSP/CRL server and the PKI it serves; `stop()` when done."""

    __test__ = False

    def __init__(self, pki: TestPki, responder: _Responder, sock: socket.socket) -> None:
        self.pki = pki
        self._responder = responder
        self._sock = sock
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="quorum-test-pki", daemon=True)

    @property
    def counts(self) -> Counter[str]:
        """Requests served so far, by kind (`tsa`, `ocsp`, `crl:root`, `crl:intermediate`)."""
        return self._responder.counts

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._responder.app(), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    def start(self) -> TestServices:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("test PKI services did not start")
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> TestServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_test_services(directory: Path) -> TestServices:
    """Generate a test PKI under `directory` and serve its TSA, OCSP and CRLs on loopback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    pki = create_test_pki(directory, f"http://127.0.0.1:{port}")
    return TestServices(pki, _Responder.create(pki), sock).start()
