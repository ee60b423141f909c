"""Bounding the analysis cache: after a run that wrote entries, the entries no run has used lately go.

Every edit of a spec's network, and every change of the package, keys new entries; the old ones
are never read again. So, like ccache's cleanup after a write, a run that wrote at least one entry
keeps the `max_entries` most recently used entries and drops any unused for `max_age_days`. Use
is an entry's modification time: writing sets it, and a read that gives back the analysis sets it
again (cache.py), so an entry a run keeps reading stays however old it is. The entries the run
itself read or wrote are always kept, even past the bounds.

Cheap: one directory listing and one `lstat` per file named like an entry; only the entries about
to go are opened, and only their header line is read. Safe in a directory shared with other
files: only a regular file named `<64 hex digits>.json` whose header line is an entry's header
naming that same key is ever removed; links, directories and every other file are left alone.
Safe against a second run doing the same: an entry gone before it is looked at or removed is
simply gone.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .cache import AnalysisCache, header_key

_ENTRY_NAME = re.compile(r"^([0-9a-f]{64})\.json$")
_HEADER_BYTES = 512  # an entry's header line is about 160 bytes
_DAY_S = 86400.0


@dataclass(frozen=True)
class _Found:
    key: str
    used: float  # the entry's modification time: its last write or read


def prune(cache: AnalysisCache, keep: Collection[str], now: float) -> int:
    """Remove the entries past `cache`'s bounds (none of `keep`, the keys this run used); how many went."""
    found = _entries(cache.directory)
    if found is None:
        return 0
    oldest = now - cache.max_age_days * _DAY_S
    others = sorted((f for f in found if f.key not in keep), key=lambda f: f.used, reverse=True)
    room = max(cache.max_entries - (len(found) - len(others)), 0)
    doomed = others[room:] + [f for f in others[:room] if f.used < oldest]
    return sum(_remove(cache.entry(f.key), f.key) for f in doomed)


def _entries(directory: Path) -> list[_Found] | None:
    """Each regular file named like an entry, with its last use; None when the directory cannot be listed."""
    try:
        listing = os.scandir(directory)
    except OSError:
        return None
    found = []
    with listing:
        for item in listing:
            match = _ENTRY_NAME.match(item.name)
            if match is None:
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue  # removed since the listing: another run's prune
            if stat.S_ISREG(info.st_mode):
                found.append(_Found(match.group(1), info.st_mtime))
    return found


def _remove(path: Path, key: str) -> bool:
    """Remove `path` if it is still an entry of ours under `key`; whether it was removed by us."""
    try:
        # O_NOFOLLOW: a link put there since the listing is not ours to follow, nor to remove.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        ours = stat.S_ISREG(os.fstat(fd).st_mode) and header_key(os.read(fd, _HEADER_BYTES)) == key
    except OSError:
        return False
    finally:
        os.close(fd)
    if not ours:
        return False
    try:
        os.unlink(path)
    except OSError:
        return False  # gone already (another run's prune), or a directory that refuses it
    return True
