"""`quorum sign-remote`: sign a server's digest on a token (docs/features/signing.md, "Remote
signing").

The server holds the document; this client only fetches a digest, signs it on the PKCS#11 token
(the key never leaves it) and posts the signature and certificate back. It authenticates with the
session's one-time signing ticket from `QUORUM_SIGNING_TICKET` (what the web app's command sets;
docs/SECURITY.md, "Signing tickets"), or else with an API token (`--token` / `QUORUM_TOKEN`):

    GET  {url}/api/signing-sessions/{id}            -> {"digest_b64", "digest_algorithm",
                                                         "signer_cert_pem_required"}
    POST {url}/api/signing-sessions/{id}/signature  <- {"signature_b64", "certificate_pem"}
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import os
import sys
from typing import Any

import aiohttp

from meetings.documents.signing.api import Pkcs11Config
from meetings.documents.signing.remote import read_certificate_pkcs11, sign_digest_pkcs11
from meetings.documents.signing.remote_args import TICKET_ENV, parser


def create_signature_payload(config: Pkcs11Config, session_info: dict[str, Any]) -> dict[str, str]:
    """Sign the session's digest on the token; the JSON body to post back."""
    digest = base64.b64decode(session_info["digest_b64"])
    algorithm = str(session_info.get("digest_algorithm", "sha256")).lower().replace("-", "")
    signature = sign_digest_pkcs11(config, digest, algorithm)
    return {
        "signature_b64": base64.b64encode(signature).decode(),
        "certificate_pem": read_certificate_pkcs11(config).decode(),
    }


class Refused(Exception):
    """The server answered with an error: its code and message, as it gave them."""


RETRY_LATER = {"tsa_unavailable", "signing_failed", "busy", "signer_unavailable"}
"""Codes that are the server's side failing: the same command can be run again later."""


async def check_answer(resp: aiohttp.ClientResponse) -> None:
    """Raise `Refused` with the server's own words for an error answer."""
    if resp.status < 400:
        return
    try:
        error = (await resp.json(content_type=None))["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError, aiohttp.ContentTypeError):
        raise Refused(f"the server answered {resp.status} {resp.reason}") from None
    hint = " (the server's side failed: run the same command again later)"
    if code not in RETRY_LATER:
        hint = ""
    raise Refused(f"{message} [{resp.status} {code}]{hint}")


async def _run(args: argparse.Namespace, config: Pkcs11Config) -> None:
    ticket = os.environ.get(TICKET_ENV, "").strip()
    headers = {"Authorization": f"Bearer {ticket or args.token}"}
    url = f"{args.url.rstrip('/')}/api/signing-sessions/{args.session}"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
        async with http.get(url) as resp:
            await check_answer(resp)
            info = await resp.json()
        payload = await asyncio.to_thread(create_signature_payload, config, info)
        async with http.post(f"{url}/signature", json=payload) as resp:
            await check_answer(resp)


def main_sign_remote(argv: list[str]) -> int:
    """Entry point; returns the exit code (0 signed, 1 failed, 2 usage)."""
    args = parser().parse_args(argv)
    pin = args.pin if args.pin is not None else getpass.getpass("Token PIN: ")
    config = Pkcs11Config(
        module_path=args.pkcs11_module,
        token_label=args.token_label,
        key_label=args.key_label,
        pin=pin,
    )
    try:
        asyncio.run(_run(args, config))
    except Exception as exc:  # report any failure in one line and exit non-zero
        print(f"signing failed: {exc}", file=sys.stderr)
        return 1
    print("signed: the server has the signature")
    return 0
