"""Composition root: settings → services → Socket.IO server → ASGI app (docs/ARCHITECTURE.md).

The only place that sees both `meetings` and `realtime`. Run with
`uvicorn realtime.asgi:create_asgi_app --factory`, or `quorum serve`.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import socketio

from meetings.config import Settings, load_settings
from meetings.domain.signals import AccessChanged, BallotsCounted
from meetings.http.app import create_app
from meetings.http.routes import accounts as account_routes
from meetings.http.routes import annotations as annotation_routes
from meetings.http.routes import archive as archive_routes
from meetings.http.routes import voting as voting_routes
from meetings.ratelimit import RateLimiter
from meetings.services.assembly import create_services
from meetings.services.context import Services
from realtime import commands
from realtime.engine import QuorumServer
from realtime.fanout import SocketFanout
from realtime.manager import DirectEmitManager, DirectEmitRedisManager, JsonPacket
from realtime.namespace import MAX_PAYLOAD, QuorumNamespace
from realtime.origin import origin_check
from realtime.presence import Presence
from realtime.tally import PollTimer, TallyBroadcaster

MAX_FRAME = MAX_PAYLOAD + 64 * 1024
"""Largest Engine.IO message or polling body the server reads, before any login: a command's
payload (2 MiB, docs/PROTOCOL.md) and its packet framing. A payload a little over 2 MiB still
gets the `too_large` ack; a bigger frame closes the connection before it is decoded."""
FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


def create_sio(settings: Settings) -> socketio.AsyncServer:
    manager = (
        DirectEmitRedisManager(settings.redis_url, channel=settings.redis_channel)
        if settings.redis_url
        else DirectEmitManager()
    )
    return QuorumServer(
        async_mode="asgi",
        client_manager=manager,
        serializer=JsonPacket,
        max_http_buffer_size=MAX_FRAME,
        http_compression=False,
        cors_allowed_origins=origin_check(settings),
        logger=False,
        engineio_logger=False,
    )


def create_asgi_app(
    settings: Settings | None = None, frontend_dir: Path = FRONTEND_DIST
) -> socketio.ASGIApp:
    """The whole server; `frontend_dir` is the built web app it serves (tests pass a copy)."""
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    sio = create_sio(settings)
    services: Services = create_services(settings, SocketFanout(sio))
    tally = TallyBroadcaster(services, sio, settings.tally_interval_ms / 1000)
    services.after_commit.on(BallotsCounted, tally.counted)
    timer = PollTimer()
    limiter = RateLimiter(settings.command_rate, settings.command_burst)
    presence = Presence(services)
    namespace = QuorumNamespace(services, commands.ALL, limiter, presence)
    sio.register_namespace(namespace)
    services.after_commit.on(AccessChanged, namespace.access.announce)

    async def tune_gc(_services: Services) -> None:
        # the bare-stack measurements (docs/PERFORMANCE.md): default GC thresholds made large
        # broadcasts 2.5 × slower; freeze start-up objects and collect young objects less often
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)

    apis = [*voting_routes.ROUTES, *annotation_routes.ROUTES, *archive_routes.ROUTES]
    app = create_app(
        services,
        apis=apis,
        on_start=[
            tune_gc,
            presence.start,
            timer.start,
            namespace.access.start,
            *account_routes.ON_START,
            *archive_routes.ON_START,
        ],
        on_stop=[
            presence.stop,
            timer.stop,
            namespace.access.stop,
            *account_routes.ON_STOP,
            *archive_routes.ON_STOP,
        ],
        frontend_dir=frontend_dir,
    )
    asgi = socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")
    asgi.quorum_services = services  # for tests and tools that run the app in-process
    asgi.quorum_namespace = namespace
    return asgi
