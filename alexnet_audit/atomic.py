"""Output files: a reader (or an interrupted run) sees the old file or the new one, never half of one.

A regular file is written to a temporary file in the same directory (so the rename stays on one
file system), flushed to disk, then renamed over the target. A target that exists and is not a
regular file (a FIFO, `/dev/stdout`, `/dev/null`) cannot be renamed over without destroying it:
it is written directly, and `-` means standard output. A set of related files (a report's pages
and index, a training run's JSON and chart) is written together by `write_set`: every temporary
file first, then the renames, with SIGINT and SIGTERM held back between the first rename and the
last, so a failing or interrupted run leaves the old set whole. A run killed outright leaves
temporary files named after its process id; the next write to that directory removes them.
`locked` keeps two runs from updating one directory at the same time.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import signal
import stat
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from .errors import AuditError

STDOUT = "-"
LOCK_NAME = ".alexnet-audit.lock"
LOCK_WAIT_S = 60.0
_TMP = re.compile(r"^\..+\.aa(\d+)-[0-9a-f]{12}\.tmp$")
_HELD = (signal.SIGINT, signal.SIGTERM)


class Terminated(SystemExit):
    """SIGTERM, raised as an exception while files are being written so the temporary ones go."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def _cannot(path: Path | str, exc: OSError | str) -> AuditError:
    why = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    return AuditError(f"cannot write: {why}", file=str(path))


def _kind(path: Path) -> int | None:
    """The file type of what `path` names now (following links), or None when nothing is there."""
    try:
        return stat.S_IFMT(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _cannot(path, exc) from None


def _write_through(path: Path, data: bytes) -> None:
    """Write into an existing non-regular file (a FIFO, a terminal, /dev/null) without replacing it."""
    try:
        # O_NONBLOCK on open only: a FIFO nobody reads gives ENXIO at once instead of hanging.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason = "a FIFO with no reader" if exc.errno == errno.ENXIO else exc
        raise _cannot(path, reason) from None
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        os.close(fd)


def _write_stdout(data: bytes) -> None:
    stream = getattr(sys.stdout, "buffer", None)
    try:
        if stream is None:
            sys.stdout.write(data.decode("utf-8", "replace"))
        else:
            stream.write(data)
        sys.stdout.flush()
    except OSError as exc:
        raise _cannot("standard output", exc) from None


def _temp_name(target: Path) -> Path:
    # The pid lets a later run tell a dead run's leftover from a live run's file in progress.
    return target.with_name(f".{target.name}.aa{os.getpid()}-{secrets.token_hex(6)}.tmp")


def clean_leftovers(directory: Path) -> list[str]:
    """Remove the temporary files that runs killed before they could clean up left in `directory`."""
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        m = _TMP.match(name)
        if m and not _alive(int(m.group(1))):
            try:
                os.unlink(directory / name)
                removed.append(name)
            except OSError:
                continue  # gone already, or not ours to remove
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def _create_temp(target: Path, data: bytes) -> Path:
    tmp = _temp_name(target)
    try:
        # os.open rather than mkstemp: the new file gets the usual 0o666 & ~umask, not 0o600.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise _cannot(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot(target, exc) from None
        raise
    return tmp


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While writing, SIGTERM raises `Terminated` (so `finally` removes the temporary files)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (then act as they would have): the renames
    of a set are not split. Python runs signal handlers in the main thread whichever thread the
    signal reached, so deferring them there holds them for the whole process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in _HELD}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(received):
            handler = previous[signal.Signals(signum)]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


def _targets(files: Mapping[Path, bytes]) -> tuple[dict[Path, bytes], dict[Path, bytes], bytes]:
    """Split the targets into regular (renamed into place), direct (written through) and stdout."""
    regular: dict[Path, bytes] = {}
    direct: dict[Path, bytes] = {}
    stdout = b""
    for path, data in files.items():
        if str(path) == STDOUT:
            stdout += data
            continue
        kind = _kind(path)
        if kind == stat.S_IFDIR:
            raise _cannot(path, "it is a directory")
        if kind is None or kind == stat.S_IFREG:
            # A symbolic link to a regular file: replace the file it points to, keep the link.
            regular[Path(os.path.realpath(path)) if path.is_symlink() else path] = data
        elif kind in (stat.S_IFIFO, stat.S_IFCHR):
            direct[path] = data
        else:
            raise _cannot(path, "not a regular file, a FIFO or a character device")
    return regular, direct, stdout


def write_set(files: Mapping[Path, bytes], remove: Iterable[Path] = ()) -> None:
    """Write every file in `files` and delete every path in `remove`, as one change as far as
    possible: nothing is renamed into place until every temporary file is written, so a failure
    or an interrupt before that leaves every old file as it was. Raises AuditError when a target
    cannot be written."""
    regular, direct, stdout = _targets(files)
    directories = sorted({p.parent for p in regular})
    temps: dict[Path, Path] = {}
    with _sigterm_raises():
        try:
            for directory in directories:
                _make_dir(directory)
                clean_leftovers(directory)
            for target in sorted(regular):
                temps[target] = _create_temp(target, regular[target])
            with _signals_held():
                for target, tmp in temps.items():
                    os.replace(tmp, target)
                temps.clear()
                for path in remove:
                    path.unlink(missing_ok=True)
        except OSError as exc:
            raise _cannot(next(iter(temps), "the output"), exc) from None
        finally:
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)
    for directory in directories:
        _sync_dir(directory)
    for path in sorted(direct):
        _write_through(path, direct[path])
    if stdout:
        _write_stdout(stdout)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step (or write through a FIFO or device, or to standard
    output for `-`). Raises AuditError when it cannot be written."""
    write_set({path: data})


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot(directory, exc) from None


def _sync_dir(directory: Path) -> None:
    """Make the renames themselves durable (POSIX); where directories cannot be opened, skip."""
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


def write_all(directory: Path, files: Mapping[str, bytes], remove: Iterable[str] = ()) -> None:
    """Write every file (names relative to `directory`) and delete the names in `remove`, as one set."""
    write_set({directory / name: data for name, data in files.items()}, [directory / name for name in remove])


@contextmanager
def locked(directory: Path, on_wait: Callable[[str], None] | None = None, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold `directory`'s lock file while the block runs, and remove it afterwards. Another run
    holding it is waited for (saying so through `on_wait`) for up to `wait_s` seconds, then
    refused with an AuditError."""
    _make_dir(directory)
    lock = directory / LOCK_NAME
    fd = _acquire(lock, directory, on_wait, wait_s)
    try:
        yield
    finally:
        # Unlinked while still held: a run waiting on this inode sees it is gone and opens anew.
        lock.unlink(missing_ok=True)
        os.close(fd)


def _open_lock(lock: Path) -> int:
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise _cannot(lock, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _cannot(lock, "the lock file is not a regular file")
    return fd


def _still_there(fd: int, lock: Path) -> bool:
    try:
        return os.stat(lock).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _acquire(lock: Path, directory: Path, on_wait: Callable[[str], None] | None, wait_s: float) -> int:
    deadline, told = time.monotonic() + wait_s, False
    while True:
        fd = _open_lock(lock)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _still_there(fd, lock):
                return fd
        except BlockingIOError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if time.monotonic() >= deadline:
            raise AuditError(f"another alexnet-audit run is still writing here after {wait_s:g} s; try again when it "
                             f"ends (its lock: {LOCK_NAME})", file=str(directory))
        if not told and on_wait:
            on_wait(f"waiting for another alexnet-audit run writing {directory} (up to {wait_s:g} s)")
            told = True
        time.sleep(0.1)
