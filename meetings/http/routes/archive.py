"""HTTP routes of the archive subsystem (docs/API.md). Filled in by its issue."""

from __future__ import annotations

from meetings.http.api import Api

ROUTES: list[Api] = []
