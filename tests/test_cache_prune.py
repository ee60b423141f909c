"""Bounding the analysis cache (cache_prune.py): after a run that wrote entries, the most recently
used `max_entries` are kept and none unused for `max_age_days`; a read is a use; the run's own
entries always stay; nothing but our own entries is ever removed; two runs at once, or an entry
vanishing while it is read, is never a crash; and keeping an entry costs no read of it."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

import alexnet_audit.cache as cache_module
import alexnet_audit.cache_prune as prune_module
from alexnet_audit.audit import audit_paths
from alexnet_audit.cache import MAX_AGE_DAYS, MAX_ENTRIES, AnalysisCache
from alexnet_audit.cache_prune import prune
from helpers import LENET, spec_text

DAY = 86400.0
NOW = 1_800_000_000.0  # a fixed "now" for the tests that call prune directly


def _key(n: int) -> str:
    return f"{n:064x}"


def _entry(directory: Path, n: int, days_unused: float, now: float = NOW) -> Path:
    """A file as cache.py writes one (its header line names its key), last used `days_unused` ago."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_key(n)}.json"
    header = {"format": 1, "key": _key(n), "sha256": "0" * 64}
    path.write_bytes(json.dumps(header, separators=(",", ":")).encode() + b"\n{}")
    os.utime(path, (now - days_unused * DAY, now - days_unused * DAY))
    return path


def _left(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_the_bounds_are_the_documented_ones() -> None:
    assert (MAX_ENTRIES, MAX_AGE_DAYS) == (200, 30.0)
    cache = AnalysisCache(Path("x"))
    assert (cache.max_entries, cache.max_age_days) == (200, 30.0)
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert "the 200 most recently used entries" in readme and "unused for 30 days" in readme


# ---------------------------------------------------------------- the policy


def test_the_most_recently_used_entries_up_to_the_bound_are_kept(tmp_path: Path) -> None:
    for n, days in enumerate([1, 5, 2, 4, 3]):
        _entry(tmp_path, n, days)
    # five entries, three may stay: the ones used 1, 2 and 3 days ago (entries 0, 2, 4)
    assert prune(AnalysisCache(tmp_path, max_entries=3), keep=(), now=NOW) == 2
    assert _left(tmp_path) == [f"{_key(n)}.json" for n in (0, 2, 4)]


def test_an_entry_unused_for_the_age_bound_goes_however_few_there_are(tmp_path: Path) -> None:
    _entry(tmp_path, 1, days_unused=10)
    _entry(tmp_path, 2, days_unused=40)  # 40 days > 30
    _entry(tmp_path, 3, days_unused=29.9)
    assert prune(AnalysisCache(tmp_path), keep=(), now=NOW) == 1
    assert _left(tmp_path) == [f"{_key(1)}.json", f"{_key(3)}.json"]


def test_the_runs_own_entries_stay_past_both_bounds(tmp_path: Path) -> None:
    for n in range(4):
        _entry(tmp_path, n, days_unused=50)
    # the run used entries 1 and 2; a bound of one entry leaves no room for 0 and 3
    assert prune(AnalysisCache(tmp_path, max_entries=1), keep={_key(1), _key(2)}, now=NOW) == 2
    assert _left(tmp_path) == [f"{_key(1)}.json", f"{_key(2)}.json"]


def test_files_that_are_not_our_entries_are_never_removed(tmp_path: Path) -> None:
    outside = _entry(tmp_path / "elsewhere", 9, days_unused=100)
    cache_dir = tmp_path / "cache"
    ours = _entry(cache_dir, 1, days_unused=100)
    foreign = {
        "notes.txt": b"my notes\n",
        "data.json": b'{"a": 1}\n',
        f"{_key(2)}.json": b'{"a": 1}\n{"b": 2}',  # named like an entry, a user's own JSON inside
        f"{_key(3)}.json": json.dumps({"format": 1, "key": _key(4), "sha256": "0" * 64}).encode() + b"\n{}",
        f"{_key(5).upper()}.json": b"upper-case digits: not a name cache.py writes",
        f".{_key(6)}.json.aa1-000000000000.tmp": b"",
    }
    for name, data in foreign.items():
        (cache_dir / name).write_bytes(data)
        os.utime(cache_dir / name, (NOW - 100 * DAY, NOW - 100 * DAY))
    (cache_dir / f"{_key(7)}.json").symlink_to(outside)
    (cache_dir / f"{_key(8)}.json").mkdir()
    os.mkfifo(cache_dir / f"{_key(10)}.json")
    before = _left(cache_dir)
    assert prune(AnalysisCache(cache_dir, max_entries=0, max_age_days=0), keep=(), now=NOW) == 1
    assert _left(cache_dir) == sorted(set(before) - {ours.name})
    assert outside.exists() and all((cache_dir / n).read_bytes() == d for n, d in foreign.items())


def test_a_directory_that_cannot_be_listed_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    assert prune(AnalysisCache(tmp_path / "file", max_entries=0), keep=(), now=NOW) == 0
    assert prune(AnalysisCache(tmp_path / "absent", max_entries=0), keep=(), now=NOW) == 0


# ---------------------------------------------------------------- in a run


def test_a_run_that_writes_prunes_and_a_read_counts_as_a_use(write_spec: Callable[[str, str], Path],
                                                            tmp_path: Path) -> None:
    a = write_spec(spec_text(LENET, id="a"), "a.yaml")
    b = write_spec(spec_text(LENET.replace("out_channels: 16", "out_channels: 12"), id="b"), "b.yaml")
    c = write_spec(spec_text(LENET.replace("out_channels: 16", "out_channels: 8"), id="c"), "c.yaml")
    cache = AnalysisCache(tmp_path / "cache")
    audit_paths([a, b], cache=cache)
    entry_a, entry_b = sorted(cache.directory.iterdir(), key=lambda p: p.name)
    month_ago = time.time() - 40 * DAY
    for path in (entry_a, entry_b):
        os.utime(path, (month_ago, month_ago))
    stale = [_entry(cache.directory, n, days_unused=40, now=time.time()) for n in range(3)]

    # a run that only reads: a hit, which marks the entry used now; nothing is removed
    started = time.time()
    hit = audit_paths([a], cache=cache)
    assert hit.cache is not None and (hit.cache.reused, hit.cache.analysed) == (1, 1)
    used = next(p for p in (entry_a, entry_b) if p.stat().st_mtime >= started - 1)
    assert len(_left(cache.directory)) == 2 + 3

    # a run that writes (c is new): every entry unused for 40 days goes, the one just read stays
    audit_paths([c], cache=cache)
    left = _left(cache.directory)
    assert len(left) == 2 and used.name in left
    assert not any(p.exists() for p in stale)


def test_a_run_over_the_bound_keeps_every_entry_it_used(write_spec: Callable[[str, str], Path], tmp_path: Path) -> None:
    specs = [write_spec(spec_text(LENET.replace("out_channels: 16", f"out_channels: {n}"), id=f"s{n}"), f"s{n}.yaml")
             for n in (4, 5, 6)]
    cache = AnalysisCache(tmp_path / "cache", max_entries=2)
    _entry(cache.directory, 1, days_unused=0, now=time.time() + 60)  # newer than the run's own
    run = audit_paths(specs, cache=cache)
    assert run.cache is not None and run.cache.analysed == 3
    assert len(_left(cache.directory)) == 3 and f"{_key(1)}.json" not in _left(cache.directory)


# ---------------------------------------------------------------- races and cost


def test_an_entry_removed_while_it_is_read_is_a_miss_not_a_note(write_spec: Callable[[str, str], Path],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = write_spec(spec_text(LENET, id="a"), "a.yaml")
    cache = AnalysisCache(tmp_path / "cache")
    audit_paths([spec], cache=cache)
    (entry,) = cache.directory.iterdir()
    real = cache_module.read_bounded

    def pruned_meanwhile(path: Path, limit: int, what: str) -> bytes:
        path.unlink()  # another run's prune, between the stat and the open
        return real(path, limit, what)

    monkeypatch.setattr(cache_module, "read_bounded", pruned_meanwhile)
    run = audit_paths([spec], cache=cache)
    assert run.cache is not None and (run.cache.reused, run.cache.analysed, run.cache.notes) == (0, 1, ())
    assert entry.exists()  # measured afresh and written again
    assert run.audits[0].analysis.layer("conv2").params == 16 * 5 * 5 * 6 + 16


def test_entries_gone_since_the_listing_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):
        _entry(tmp_path, n, days_unused=40)
    real = prune_module._entries

    def listed_then_pruned(directory: Path) -> object:
        found = real(directory)
        for path in directory.iterdir():
            path.unlink()  # a second run removed them all after this one listed them
        return found

    monkeypatch.setattr(prune_module, "_entries", listed_then_pruned)
    assert prune(AnalysisCache(tmp_path), keep=(), now=NOW) == 0
    assert _left(tmp_path) == []


def test_two_runs_pruning_at_once_remove_each_entry_once(tmp_path: Path) -> None:
    for n in range(300):
        _entry(tmp_path, n, days_unused=40)
    (tmp_path / "notes.txt").write_text("mine")
    removed: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            removed.append(prune(AnalysisCache(tmp_path), keep=(), now=NOW))
        except BaseException as exc:  # noqa: BLE001 - the test reports any exception of either run
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(removed) == 300
    assert _left(tmp_path) == ["notes.txt"]


def test_only_the_entries_that_go_are_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(250):
        _entry(tmp_path, n, days_unused=n / 100)
    opened: list[str] = []
    real = os.open

    def counting(path: object, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(prune_module.os, "open", counting)
    # 250 entries, 200 kept: the 50 least recently used (entries 200 to 249) are opened and removed
    assert prune(AnalysisCache(tmp_path), keep=(), now=NOW) == 50
    assert sorted(opened) == sorted(str(tmp_path / f"{_key(n)}.json") for n in range(200, 250))
