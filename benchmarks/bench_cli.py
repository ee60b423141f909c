"""The command line's speed and memory against its floor, measured in one run.

Every figure is a median over fresh processes, each started as a user starts it:

- floor: `python -c "import torch, fvcore.nn"`, the imports a cold `compare` cannot avoid;
- cold: `compare specs/*.yaml` and `inspect` of one spec with `--no-cache`, as ratios to the floor
  (the issue's targets hold here);
- warm: the same with an analysis cache that holds every spec (the every-save case), and
  `compare` with one spec edited before each run (the others reused);
- `--help`, `--version`, `schema` and a bad spec, in seconds (none of them imports torch);
- the peak resident memory of a cold `compare` (the child's own maximum RSS, from wait4);
- beside each ratio, the same ratio of CPU time (user + system, from wait4), which other jobs
  on a shared machine disturb less than wall time; and the load average before and after;
- with `--bytecode`, every child may write and read bytecode (in a temporary PYTHONPYCACHEPREFIX,
  after one unmeasured run of each command), as Python does by default: where the environment
  sets PYTHONDONTWRITEBYTECODE, our modules compile from source on every run while torch's and
  fvcore's were compiled when pip installed them;
- with `--suite`, the test suite's wall time (`pytest -q`), once.

Specs are copied to a temporary directory (the edited run changes one of them) and the cache
lives there too: nothing outside it is read or written.

    python benchmarks/bench_cli.py              # the figures for benchmarks/README.md
    python benchmarks/bench_cli.py --bytecode   # the same with bytecode cached
    python benchmarks/bench_cli.py --suite      # also the test suite
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_SPEC = "torchvision-alexnet.yaml"
EDITED = "torchvision-alexnet.yaml"  # its dropout rates change before each edited run
FLOOR = [sys.executable, "-c", "import torch, fvcore.nn"]
CLI = [sys.executable, "-m", "alexnet_audit"]

# The targets: a ratio to the floor, seconds, or MiB.
TARGETS = {"compare / floor": 1.5, "inspect / floor": 1.2, "--help (s)": 1.0, "compare peak RSS (MiB)": 400.0,
           "test suite (s)": 60.0}


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_mib: float
    code: int


@dataclass(frozen=True)
class Bench:
    cwd: Path
    env: dict[str, str]
    repeat: int

    def once(self, cmd: list[str]) -> Run:
        """One fresh process: wall time, its own CPU time and peak RSS, exit code (output discarded)."""
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,  # ru_maxrss: KiB
                   os.waitstatus_to_exitcode(status))

    def interleaved(self, commands: dict[str, list[str]], before: dict[str, Callable[[int], None]]) -> dict[str, Run]:
        """Each command `repeat` times, taking turns (floor, compare, inspect, ..., then again), so
        that a machine slowing down or speeding up mid-run moves every command alike; the median of
        each. `before[label](i)` runs before that command's i-th run."""
        runs: dict[str, list[Run]] = {label: [] for label in commands}
        for i in range(self.repeat):
            for label, cmd in commands.items():
                if label in before:
                    before[label](i)
                runs[label].append(self.once(cmd))
        return {label: Run(statistics.median(r.seconds for r in rs), statistics.median(r.cpu_seconds for r in rs),
                           max(r.peak_mib for r in rs), rs[0].code) for label, rs in runs.items()}


def child_env(tmp: Path, bytecode: bool) -> dict[str, str]:
    """Our tree on the path; the default cache inside `tmp`; no cache setting from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALEXNET_AUDIT_")}
    env |= {"PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp / "xdg")}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def ratio(run: Run, floor: Run) -> str:
    return f"{run.seconds:.2f} s = {run.seconds / floor.seconds:.2f} x floor (CPU {run.cpu_seconds / floor.cpu_seconds:.2f} x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median; default 3)")
    parser.add_argument("--bytecode", action="store_true", help="let the children cache bytecode, as Python does by default")
    parser.add_argument("--suite", action="store_true", help="also time the test suite once")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        specs_dir = tmp / "specs"
        shutil.copytree(ROOT / "specs", specs_dir)
        specs = sorted(str(p) for p in specs_dir.glob("*.yaml"))
        one, cache = str(specs_dir / ONE_SPEC), ["--cache-dir", str(tmp / "cache")]
        bad = tmp / "bad.yaml"
        bad.write_text("id: bad\n", encoding="utf-8")
        bench = Bench(tmp, child_env(tmp, args.bytecode), args.repeat)  # no reports/training in tmp
        commands = {
            "floor": FLOOR,
            "compare cold": [*CLI, "compare", "--no-cache", *specs],
            "inspect cold": [*CLI, "inspect", "--no-cache", one],
            "compare warm": [*CLI, "compare", *cache, *specs],
            "inspect warm": [*CLI, "inspect", *cache, one],
        }
        for cmd in (commands.values() if args.bytecode else ()):
            bench.once(cmd)  # writes the bytecode
        bench.once(commands["compare warm"])  # fills the cache
        edited = specs_dir / EDITED

        def edit(i: int) -> None:
            edited.write_text(re.sub(r"p: 0\.\d+", f"p: 0.4{i}", edited.read_text(encoding="utf-8")), encoding="utf-8")

        def restore(_: int) -> None:  # each round starts from the shipped spec, whose entry is cached
            edited.write_text((ROOT / "specs" / EDITED).read_text(encoding="utf-8"), encoding="utf-8")

        commands["compare, one spec edited"] = commands["compare warm"]
        quick = {"--help": ["--help"], "--version": ["--version"], "schema": ["schema"],
                 "bad spec": ["compare", "--no-cache", str(bad)]}
        runs = bench.interleaved({**commands, **{label: [*CLI, *cmd] for label, cmd in quick.items()}},
                                 {"floor": restore, "compare, one spec edited": edit})
        quick_s = {label: runs.pop(label).seconds for label in quick}
    figures = {
        "compare / floor": runs["compare cold"].seconds / runs["floor"].seconds,
        "inspect / floor": runs["inspect cold"].seconds / runs["floor"].seconds,
        "--help (s)": quick_s["--help"],
        "compare peak RSS (MiB)": runs["compare cold"].peak_mib,
    }
    if args.suite:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        figures["test suite (s)"] = time.perf_counter() - start

    from importlib.metadata import version

    floor = runs["floor"]
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, torch {version('torch')}, {len(specs)} specs, median of {args.repeat}, "
          f"bytecode {'cached' if args.bytecode else 'as the environment says'}"
          f"{' (PYTHONDONTWRITEBYTECODE set: compiled on every run)' if not args.bytecode and os.environ.get('PYTHONDONTWRITEBYTECODE') else ''}, "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"floor (import torch, fvcore.nn): {floor.seconds:.2f} s ({floor.cpu_seconds:.2f} s CPU)")
    for label, run in runs.items():
        if label != "floor":
            print(f"{label}: {ratio(run, floor)}, exit {run.code}")
    print("quick commands: " + ", ".join(f"{k} {v:.2f} s" for k, v in quick_s.items()))
    for label, value in figures.items():
        verdict = "meets" if value <= TARGETS[label] else "misses"
        print(f"{label}: {value:.2f} (target <= {TARGETS[label]:g}: {verdict})")


if __name__ == "__main__":
    main()
