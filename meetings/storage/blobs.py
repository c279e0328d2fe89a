"""Content-addressed, write-once file store (docs/ARCHITECTURE.md, "Storage").

A blob's name is the sha256 of its bytes; file names given by users never reach the file system.
Writes go to a temporary file in the same folder, are fsynced and renamed into place, so a
crash leaves either the whole blob or nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a sha256 digest")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes | Path) -> str:
        """Store `data` (blocking: call from a thread) and return its sha256."""
        return self.put_new(data)[0]

    def put_new(self, data: bytes | Path) -> tuple[str, bool]:
        """Store `data` (bytes, or a file copied in chunks); return its sha256 and whether this
        call created the file, so a caller whose transaction then fails can `discard` it
        (nothing half-written)."""
        if isinstance(data, Path):
            with data.open("rb") as source:
                digest = hashlib.file_digest(source, "sha256").hexdigest()
        else:
            digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest, False
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, Path):
                    with data.open("rb") as source:
                        shutil.copyfileobj(source, handle, 1 << 20)
                else:
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o400)  # write-once, and the owner's alone (docs/SECURITY.md)
            os.replace(tmp, target)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return digest, True

    def discard(self, sha256: str) -> None:
        """Remove a blob this process just created for a change that was not committed."""
        path = self.path(sha256)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # only when empty
        except OSError:
            pass

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size
