"""`quorum sign-remote` and `quorum archive verify|export` (docs/features/archive.md, "Commands").

`add_parsers(sub)` adds the sub-commands to the `quorum` parser (meetings/cli.py).
Exit status: 0 fine, 1 a check failed (tampering found) or the work failed, 2 usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

REMOTE_OPTIONS = ("url", "token", "session", "pkcs11_module", "token_label", "key_label", "pin")


def cmd_sign_remote(args: argparse.Namespace) -> int:
    from meetings.documents.signing.remote_cli import main_sign_remote

    argv: list[str] = []
    for name in REMOTE_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            argv += ["--" + name.replace("_", "-"), str(value)]
    return main_sign_remote(argv)


def _with_services(work: Any) -> Any:
    from meetings.config import load_settings
    from meetings.services.assembly import create_services
    from meetings.storage.migrate import check_schema

    async def main() -> Any:
        services = create_services(load_settings())
        try:
            await check_schema(services.db.write_engine)
            return await work(services)
        finally:
            await services.db.dispose()

    return asyncio.run(main())


def cmd_archive(args: argparse.Namespace) -> int:
    from meetings.services.archive.check import export_bundle, verify_archive

    if args.action == "verify":
        quiet = args.json

        def progress(line: str) -> None:
            if not quiet:
                print(line)

        check = _with_services(
            lambda s: verify_archive(s, fetch=not args.offline, progress=progress)
        )
        if args.json:
            print(json.dumps(check.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(
                f"Checked {check.records} archived files and {check.audit_entries} audit entries "
                f"(head {check.audit_head})."
            )
            for problem in check.problems:
                print(f"TAMPERING: {problem}")
            print("The archive is intact." if check.ok else f"{len(check.problems)} problems.")
        return 0 if check.ok else 1
    if not args.output:
        print("error: give the output file: quorum archive export OUT.zip", file=sys.stderr)
        return 2
    councils = {args.council} if args.council is not None else None
    data = _with_services(lambda s: export_bundle(s, councils))
    Path(args.output).write_bytes(data)
    print(f"Wrote {args.output} ({len(data)} bytes): PDFs, manifest.json and SHA256SUMS.")
    return 0


def add_parsers(sub: Any) -> None:
    """Add `sign-remote` and `archive` to the `quorum` sub-command parsers."""
    from meetings.documents.signing.remote_args import parser as remote_parser

    remote = sub.add_parser(
        "sign-remote",
        help="sign a server's signing session on a PKCS#11 token",
        parents=[remote_parser()],
        add_help=False,
    )
    remote.set_defaults(func=cmd_sign_remote)

    archive = sub.add_parser("archive", help="check or export the archive of signed documents")
    archive.add_argument("action", choices=["verify", "export"])
    archive.add_argument("output", nargs="?", help="export: the zip file to write")
    archive.add_argument("--council", type=int, help="export: only this council")
    archive.add_argument(
        "--offline", action="store_true", help="verify: use only revocation data in the files"
    )
    archive.add_argument("--json", action="store_true", help="verify: print a JSON report")
    archive.set_defaults(func=cmd_archive)
