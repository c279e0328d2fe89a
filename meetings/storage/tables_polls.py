"""Tables of the polls subsystem (docs/ARCHITECTURE.md, "Storage"). Filled in by its issue."""

from __future__ import annotations
