"""Content-addressed files: a blob is stored once under its sha256, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class Artifacts:
    """``ROOT/ab/abcdef...``: two-level fan-out keeps folders small with many runs."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its sha256; on disk and fsynced when this returns,
        so a row that names it, committed afterwards, never points at a missing file."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)  # atomic: a reader sees the whole file or none
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def size(self, sha: str) -> int:
        return self.path(sha).stat().st_size

    def all(self) -> Iterator[tuple[str, Path]]:
        """Every stored blob and half-written temp file (``.tmp-*``, named by their path)."""
        for folder in self.root.iterdir():
            if folder.is_dir():
                for path in folder.iterdir():
                    yield path.name, path
