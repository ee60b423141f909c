"""Atomic file writes: a reader (or an interrupted run) sees the old file or the new one, never
half of one. Each file is written to a temporary file in the same directory (so the rename
stays on one file system), flushed to disk, then renamed over the target."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Mapping

from .errors import AuditError


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step. Raises AuditError when the directory is unwritable."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # os.open rather than mkstemp: the new file gets the usual 0o666 & ~umask, not 0o600.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise AuditError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise AuditError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
        raise
    _sync_dir(path.parent)


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); where directories cannot be opened, skip."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename has still happened
    finally:
        os.close(fd)


def write_all(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write every file (names relative to `directory`) atomically, in name order."""
    for name in sorted(files):
        write_atomic(directory / name, files[name])
