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
from meetings.http.app import create_app
from meetings.services.context import Services, create_services
from realtime.fanout import SocketFanout
from realtime.namespace import QuorumNamespace
from realtime.protocol import CORE_COMMANDS
from realtime.ratelimit import RateLimiter

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


def create_sio(settings: Settings) -> socketio.AsyncServer:
    manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        max_http_buffer_size=16 * 1024 * 1024,
        http_compression=False,
        cors_allowed_origins=[],
        logger=False,
        engineio_logger=False,
    )


def create_asgi_app(settings: Settings | None = None) -> socketio.ASGIApp:
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    sio = create_sio(settings)
    services: Services = create_services(settings, SocketFanout(sio))
    limiter = RateLimiter(settings.command_rate, settings.command_burst)
    sio.register_namespace(QuorumNamespace(services, list(CORE_COMMANDS), limiter))

    async def tune_gc(_services: Services) -> None:
        # the bare-stack measurements (DESIGN §6): default GC thresholds made large
        # broadcasts 2.5 × slower; freeze start-up objects and collect young objects less often
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)

    app = create_app(services, on_start=[tune_gc], frontend_dir=FRONTEND_DIST)
    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")
