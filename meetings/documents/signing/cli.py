"""`quorum verify FILE.pdf`: check a signed PDF (docs/features/signing.md, "Verifying").

Exit status: 0 when every signature is valid and trusted and the file is unchanged since the
last signature; 1 when the file fails a check; 2 on usage errors (no trust roots, unreadable file).
Trust roots come from `--trust ROOT.pem` (repeatable) or, without it, from the environment
variable QUORUM_TRUST_ROOTS (PEM paths separated by ':').
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from meetings.documents.signing.validate import verify_pdf_bytes

TRUST_ROOTS_ENV = "QUORUM_TRUST_ROOTS"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quorum verify", description="Check a signed PDF.")
    p.add_argument("file", help="the PDF to check")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="ROOT.pem",
        help=f"trusted root certificate (repeatable; default: ${TRUST_ROOTS_ENV})",
    )
    p.add_argument(
        "--cert",
        action="append",
        default=[],
        metavar="CA.pem",
        help="extra intermediate certificate to build chains (repeatable)",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="do not fetch OCSP/CRL data; use only what the file embeds",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--lang",
        choices=["en", "vi", "both"],
        default="en",
        help="language of the summary: en, vi (tiếng Việt) or both",
    )
    return p


def main_verify(argv: list[str]) -> int:
    """Entry point for `quorum verify`; returns the exit status."""
    args = _parser().parse_args(argv)
    roots: list[str] = list(args.trust)
    if not roots:
        roots = [p for p in os.environ.get(TRUST_ROOTS_ENV, "").split(":") if p]
    if not roots:
        print(
            f"quorum verify: no trust roots: pass --trust ROOT.pem or set {TRUST_ROOTS_ENV}",
            file=sys.stderr,
        )
        return 2
    try:
        pdf = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"quorum verify: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    report = asyncio.run(
        verify_pdf_bytes(pdf, roots, extra_certs=args.cert, allow_fetching=not args.offline)
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        texts = {"en": [report.summary()], "vi": [report.summary_vi()]}
        texts["both"] = texts["vi"] + texts["en"]
        print("\n\n".join(texts[args.lang]))
    return 0 if report.ok else 1
