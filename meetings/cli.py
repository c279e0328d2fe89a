"""The `quorum` command (README.md, "The `quorum` command").

An entry point: it sees both `meetings` and `realtime`. Each sub-command prints what it does
and exits non-zero with a one-line reason when it cannot.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from meetings.config import ConfigError, Settings, load_settings
from meetings.domain.errors import DomainError

DEMO_PASSWORD = "quorum-demo"


def _settings() -> Settings:
    return load_settings()


def _services(settings: Settings) -> Any:
    from meetings.services.assembly import create_services

    return create_services(settings)


def _run(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        from meetings.storage.migrate import check_schema

        services = _services(settings)
        try:
            await check_schema(services.db.write_engine)
            return await work(services)
        finally:
            await services.db.dispose()

    return asyncio.run(main())


def cmd_db(args: argparse.Namespace) -> int:
    from meetings.storage.migrate import SchemaMismatch, check_schema, head_revision, upgrade

    settings = _settings()
    url = settings.resolved_database_url
    if args.action == "upgrade":
        print(f"Migrating {_safe_url(url)} to revision {head_revision()} …")
        upgrade(url)
        print("The database schema is up to date.")
        return 0
    if args.action == "verify-audit":
        from meetings.storage.audit import verify_audit_chain

        async def verify(services: Any) -> Any:
            async with services.db.reading() as session:
                return await verify_audit_chain(session)

        report = _run(settings, verify)
        print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
        return 0 if report.ok else 1

    async def check() -> None:
        services = _services(settings)
        try:
            await check_schema(services.db.write_engine)
        finally:
            await services.db.dispose()

    try:
        asyncio.run(check())
    except SchemaMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"The database schema is at {head_revision()}, as this Quorum expects.")
    return 0


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def _password(given: str | None, prompt: str) -> str:
    if given:
        return given
    if not sys.stdin.isatty():
        raise SystemExit("error: no terminal to ask for a password; pass --password")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from meetings.services.accounts import auth

    settings = _settings()
    if args.action == "create":
        password = _password(args.password, f"Password for {args.username}: ")
        user = _run(
            settings,
            lambda s: auth.create_user(
                s, None, args.username, args.name or args.username, password, is_admin=args.admin
            ),
        )
        print(
            f"Created user {user.username} (id {user.id})"
            + (" with administrator rights." if args.admin else ".")
        )
    elif args.action in ("deactivate", "activate"):
        active = args.action == "activate"
        _run(settings, lambda s: auth.set_active(s, None, args.username, active))
        print(
            f"Activated {args.username}."
            if active
            else f"Deactivated {args.username}; their sessions were ended."
        )
    elif args.action == "passwd":
        password = _password(args.password, f"New password for {args.username}: ")
        _run(settings, lambda s: auth.set_password(s, None, args.username, password))
        print(f"Changed the password of {args.username}; their sessions were ended.")
    else:
        users = _run(settings, lambda s: auth.list_users(s, None))
        for u in users:
            flags = " admin" if u.is_admin else ""
            flags += "" if u.is_active else " inactive"
            print(f"{u.id:>6}  {u.username:<20} {u.name}{flags}")
        print(f"{len(users)} users.")
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    from realtime.asgi import MAX_FRAME

    os.environ.setdefault("QUORUM_DATA_DIR", str(settings.data_dir))
    os.umask(0o077)  # whatever the server writes (temporary files too) is the owner's alone
    os.environ.setdefault("QUORUM_SECRET_KEY", settings.secret_key)
    if workers > 1 and not settings.redis_url:
        print(
            "warning: several workers without QUORUM_REDIS_URL cannot share live events",
            file=sys.stderr,
        )
    _public_url(settings, host, port)
    print(f"Serving Quorum on http://{host}:{port} (Ctrl+C stops)")
    uvicorn.run(
        "realtime.asgi:create_asgi_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=MAX_FRAME,  # uvicorn stops a bigger WebSocket message before buffering it
        # Engine.IO pings every client itself (25 s, and drops one that does not answer within
        # 20 s); uvicorn's own WebSocket pings on top cost a timer and a write per connection
        # every 20 s, a tenth of the worker's busy time with 3,000 tablets connected
        # (docs/performance-journal.md, "A province on one server")
        ws_ping_interval=None,
        ws_ping_timeout=None,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return 0


ANY_ADDRESS = ("0.0.0.0", "::", "")


def _public_url(settings: Settings, host: str, port: int) -> None:
    """Without QUORUM_PUBLIC_URL, the links the server prints into signed PDFs (their QR
    codes), the calendar feeds and the sitemap name the address it serves on, for the workers
    too (they read it from the environment); for every address at once (0.0.0.0) no such
    address exists, so the operator is told to set it before a PDF is signed."""
    if "public_url" in settings.model_fields_set:
        return
    if host in ANY_ADDRESS:
        print(
            f"warning: QUORUM_PUBLIC_URL is not set, so signed PDFs, calendar feeds and the"
            f" sitemap will link to {settings.public_url}; set it to the address the public"
            " reaches this server at (for example https://hdnd.example.gov.vn)",
            file=sys.stderr,
        )
        return
    name = f"[{host}]" if ":" in host else host
    os.environ["QUORUM_PUBLIC_URL"] = f"http://{name}:{port}"


def cmd_serve(args: argparse.Namespace) -> int:
    from meetings.storage.migrate import SchemaMismatch

    settings = _settings()
    try:
        _run(settings, lambda s: asyncio.sleep(0))
    except SchemaMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _serve(settings, args.host, args.port, args.workers)


def cmd_demo(args: argparse.Namespace) -> int:
    from meetings import demo
    from meetings.storage.migrate import upgrade

    settings = _settings()
    print("Preparing the database …")
    upgrade(settings.resolved_database_url)
    if args.delegates is not None:
        if args.delegates < 1 or args.delegates > 10000:
            print("error: --delegates is between 1 and 10000", file=sys.stderr)
            return 2
        password = args.password or DEMO_PASSWORD
        report = _run(settings, lambda s: demo.seed_rehearsal(s, args.delegates, password))
    else:
        password = args.password or DEMO_PASSWORD
        report = _run(settings, lambda s: demo.seed_demo(s, password))
    _print_accounts(report, password, args.host, args.port)
    if args.no_serve:
        return 0
    return _serve(settings, args.host, args.port, 1)


def _print_accounts(report: Any, password: str, host: str, port: int) -> None:
    state = "Seeded" if report.created else "Found the already seeded"
    print(f"\n{state} council {report.council_id}, meeting {report.meeting_id}.")
    shown = report.accounts if len(report.accounts) <= 12 else report.accounts[:8]
    print(f"{'username':<16} {'role':<10} name")
    for username, name, role in shown:
        print(f"{username:<16} {role:<10} {name}")
    if len(report.accounts) > len(shown):
        print(
            f"… and {len(report.accounts) - len(shown)} more accounts"
            f" ({report.accounts[-1][0]} is the last)"
        )
    if report.created:
        print(f"Every account's password: {password}")
    else:
        print("Passwords are as they were set when the council was seeded.")
    print(f"Open http://{host}:{port} and log in.\n")


def cmd_verify(args: argparse.Namespace) -> int:
    from meetings.documents.signing.cli import main_verify

    return main_verify(args.rest)


def cmd_loadtest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from realtime.loadtest import LoadSpec, run_loadtest

    spec = LoadSpec(
        url=args.url.rstrip("/"),
        delegates=args.delegates,
        password=args.password,
        meeting_id=args.meeting,
        broadcasts=args.broadcasts,
        processes=args.processes,
        server_pid=args.server_pid,
        tokens_file=Path(args.tokens_file) if args.tokens_file else None,
    )
    result = asyncio.run(run_loadtest(spec))
    print(result.summary())
    return 0 if result.joined == args.delegates else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quorum", description="Paperless council meetings.")
    sub = parser.add_subparsers(dest="command", required=True)

    def net(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)

    serve = sub.add_parser("serve", help="run the server")
    net(serve)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "check", "verify-audit"])
    db.set_defaults(func=cmd_db)

    user = sub.add_parser("user", help="accounts")
    user.add_argument("action", choices=["create", "passwd", "deactivate", "activate", "list"])
    user.add_argument("username", nargs="?")
    user.add_argument("--name")
    user.add_argument("--password")
    user.add_argument("--admin", action="store_true")
    user.set_defaults(func=cmd_user)

    demo = sub.add_parser("demo", help="seed a demo (or rehearsal) council and serve")
    net(demo)
    demo.add_argument("--delegates", type=int, help="seed a rehearsal council of N delegates")
    demo.add_argument(
        "--password", help=f"password of every seeded account (default {DEMO_PASSWORD})"
    )
    demo.add_argument("--no-serve", action="store_true", help="seed only")
    demo.set_defaults(func=cmd_demo)

    load = sub.add_parser("loadtest", help="rehearse: N delegates join, the chair broadcasts")
    load.add_argument("--url", default="http://127.0.0.1:8000")
    load.add_argument("--delegates", type=int, required=True)
    load.add_argument("--password", required=True, help="the rehearsal accounts' password")
    load.add_argument("--meeting", type=int, help="meeting id (default: the first open one)")
    load.add_argument("--broadcasts", type=int, default=20)
    load.add_argument("--processes", type=int, default=2, help="client processes")
    load.add_argument("--server-pid", type=int, help="read the server's memory (same host)")
    load.add_argument("--tokens-file", help="keep delegates' tokens here between runs")
    load.set_defaults(func=cmd_loadtest)

    verify = sub.add_parser("verify", help="verify a signed PDF", add_help=False)
    verify.add_argument("rest", nargs=argparse.REMAINDER)
    verify.set_defaults(func=cmd_verify)

    from meetings import cli_archive

    cli_archive.add_parsers(sub)  # sign-remote, archive verify|export
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):  # `quorum … | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["verify"]:  # its own options, in any order: `verify --trust R.pem F.pdf`
        from meetings.documents.signing.cli import main_verify

        return main_verify(words[1:])
    args = build_parser().parse_args(words)
    if args.command == "user" and args.action != "list" and not args.username:
        print("error: give a username", file=sys.stderr)
        return 2
    from meetings.storage.migrate import SchemaMismatch

    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except SchemaMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
