"""Reading a user's file without trusting it: only regular files, and never more than a limit.

A FIFO would block forever, `/dev/zero` never ends and a 3 GB file would be read whole before
its size is checked. `read_bounded` opens without blocking, refuses anything that is not a
regular file, and reads at most `limit + 1` bytes, so the caller sees that it is too large
without holding more than that.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import AuditError


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """At most `limit + 1` bytes of the regular file `path`; AuditError for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise AuditError(f"cannot read {what}: {exc.strerror or exc}", file=str(path)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AuditError(f"cannot read {what}: not a regular file", file=str(path))
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise AuditError(f"cannot read {what}: {exc.strerror or exc}", file=str(path)) from None
    finally:
        os.close(fd)
