"""What bounding the analysis cache costs a run that wrote entries, against what every cached run
already pays: hashing the package for the key (cache.package_digest).

Three directories, each pruned many times (median): a full cache (`MAX_ENTRIES` entries, none to
remove: the usual case), the same with 1,000 files of the user's beside them, and one with 50
entries past the bound (each opened, its header read, then removed; refilled between rounds).

    python benchmarks/bench_cache_prune.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from alexnet_audit.cache import MAX_ENTRIES, AnalysisCache, package_digest
from alexnet_audit.cache_prune import prune

ENTRY_BYTES = 20_000  # about the shipped specs' mean entry


def _fill(directory: Path, count: int, now: float, start: int = 0) -> None:
    for n in range(start, start + count):
        key = f"{n:064x}"
        header = json.dumps({"format": 1, "key": key, "sha256": "0" * 64}, separators=(",", ":")).encode()
        path = directory / f"{key}.json"
        path.write_bytes(header + b"\n" + b" " * ENTRY_BYTES)
        os.utime(path, (now - n, now - n))  # entry n last used n seconds ago


def _median_ms(rounds: int, work: Callable[[], object], before: Callable[[], object] = lambda: None) -> float:
    times = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args().rounds
    now = time.time()
    digest_ms = _median_ms(rounds, package_digest)
    with tempfile.TemporaryDirectory() as tmp:
        full, mixed, over = (Path(tmp) / name for name in ("full", "mixed", "over"))
        for d in (full, mixed, over):
            d.mkdir()
        _fill(full, MAX_ENTRIES, now)
        _fill(mixed, MAX_ENTRIES, now)
        for n in range(1000):
            (mixed / f"user-{n}.txt").write_text("a file of the user's")
        _fill(over, MAX_ENTRIES, now)
        rows = [
            ("package digest (every cached run)", digest_ms),
            (f"prune, {MAX_ENTRIES} entries, none to remove", _median_ms(rounds, lambda: prune(AnalysisCache(full), (), now))),
            (f"prune, {MAX_ENTRIES} entries and 1,000 other files", _median_ms(rounds, lambda: prune(AnalysisCache(mixed), (), now))),
            (f"prune, {MAX_ENTRIES + 50} entries, 50 to remove",
             _median_ms(rounds, lambda: prune(AnalysisCache(over), (), now), lambda: _fill(over, 50, now, MAX_ENTRIES))),
        ]
    for what, ms in rows:
        print(f"{what:<48} {ms:7.2f} ms  {ms / digest_ms:5.2f} x the digest")


if __name__ == "__main__":
    main()
