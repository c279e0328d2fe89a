"""The options of `quorum sign-remote` (meetings/documents/signing/remote_cli.py), apart from
the signing: `quorum` builds its parser from them on every run, whatever the sub-command, and
importing the signing client (pyHanko, aiohttp) for that cost 0.6 s of each run's start.
"""

from __future__ import annotations

import argparse
import os

TICKET_ENV = "QUORUM_SIGNING_TICKET"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="quorum sign-remote", description="sign a server's digest on a PKCS#11 token"
    )
    p.add_argument("--url", required=True, help="server base URL, e.g. https://hdnd.example.vn")
    p.add_argument(
        "--token",
        default=os.environ.get("QUORUM_TOKEN"),
        required=not ({"QUORUM_TOKEN", TICKET_ENV} & os.environ.keys()),
        help="API bearer token of the signing user (or set QUORUM_TOKEN, which `ps` does not "
        f"show); not needed when {TICKET_ENV} holds the session's signing ticket",
    )
    p.add_argument("--session", required=True, help="signing session id shown by the server")
    p.add_argument("--pkcs11-module", required=True, help="path of the token's PKCS#11 module")
    p.add_argument("--token-label", required=True, help="label of the PKCS#11 token")
    p.add_argument("--key-label", required=True, help="label of the signing key on the token")
    p.add_argument("--pin", help="token PIN (asked for when omitted)")
    return p
