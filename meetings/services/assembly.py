"""Building the services: the container and what follows a commit (docs/ARCHITECTURE.md,
"After commit").

Above the feature packages: it registers their after-commit handlers, so the package that
commits (documents) never imports the packages that follow up (page images, annotations). The
realtime server adds its own (live vote progress) in `realtime/asgi.py`.
"""

from __future__ import annotations

from functools import partial

from meetings.config import Settings
from meetings.domain.signals import VersionStored
from meetings.services.annotations.carry import carry_after_upload
from meetings.services.context import Services
from meetings.services.documents.page_images import prerender_soon
from meetings.storage.blobs import BlobStore
from meetings.storage.db import Database
from meetings.storage.ports import EventPublisher, NullPublisher


def create_services(settings: Settings, publisher: EventPublisher | None = None) -> Services:
    services = Services(
        settings=settings,
        db=Database(
            settings.resolved_database_url,
            pool_size=settings.db_pool_size,
            pool_overflow=settings.db_pool_overflow,
        ),
        blobs=BlobStore(settings.blob_dir),
        publisher=publisher or NullPublisher(),
    )
    services.after_commit.on(VersionStored, partial(prerender_soon, services))
    services.after_commit.on(VersionStored, partial(carry_after_upload, services))
    return services
