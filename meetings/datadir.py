"""The data folder is the owner's alone (docs/SECURITY.md, "Files on the server").

It holds the database, every uploaded paper (confidential ones included), page images, the
secret key and demo signing keys. Folders are made 0700 and files 0600 (blobs 0400: they are
write-once), so no other local account can read them. A folder made by an older Quorum, or by
hand, is fixed at start: every entry with group or other bits loses them, in one log line.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("quorum.datadir")

OWNER_ONLY = 0o077
"""The group and other permission bits: none may be set inside the data folder."""


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents inside it) as 0700; an existing one is left alone."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_private_file(path: Path, data: bytes = b"") -> None:
    """Create `path` 0600 from the first byte on (no window where it is readable by others);
    an existing file is left alone."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def restrict_tree(root: Path) -> int:
    """Remove group and other bits from `root` and everything under it (symbolic links are
    not followed). Returns how many entries were changed."""
    changed = 0
    for folder, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            path = os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:  # removed meanwhile
                continue
            if stat.S_ISLNK(mode) or not mode & OWNER_ONLY:
                continue
            os.chmod(path, stat.S_IMODE(mode) & ~OWNER_ONLY)
            changed += 1
    return changed


def secure_data_dir(root: Path) -> None:
    """Make the data folder if missing, owner-only, and fix what an older start left open."""
    make_private_dir(root)
    changed = restrict_tree(root)
    if changed:
        log.warning(
            "data folder %s was readable by other local accounts: made %d entries owner-only",
            root.resolve(),
            changed,
        )
