"""The command line's speed and memory against its floor, measured in one run.

Every figure is a median of cold runs, each a fresh process as a user would start it:

- floor: `python -c "import torch, fvcore.nn"`, the imports `compare` cannot avoid;
- `compare specs/*.yaml` and `inspect` of one spec, as ratios to the floor;
- `--help`, `--version`, `schema` and a bad spec, in seconds (none of them should import torch);
- the peak resident memory of `compare` (the child's own maximum RSS, from wait4);
- beside each ratio, the same ratio of CPU time (the child's user + system time, from wait4),
  which other jobs on a shared machine disturb less than wall time; and the load average
  before and after, since five other engineers share the two cores;
- with `--suite`, the test suite's wall time (`pytest -q`), once.

    python benchmarks/bench_cli.py            # the ratios and the table row for benchmarks/README.md
    python benchmarks/bench_cli.py --suite    # also the test suite
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(str(p) for p in (ROOT / "specs").glob("*.yaml"))
ONE_SPEC = str(ROOT / "specs/torchvision-alexnet.yaml")
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


def run(cmd: list[str], cwd: Path) -> Run:
    """One cold process: wall time, its own peak RSS, exit code (output discarded)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)  # ru_maxrss: KiB


def median(cmd: list[str], cwd: Path, repeat: int) -> Run:
    runs = [run(cmd, cwd) for _ in range(repeat)]
    return Run(statistics.median(r.seconds for r in runs), statistics.median(r.cpu_seconds for r in runs),
               max(r.peak_mib for r in runs), runs[0].code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median; default 3)")
    parser.add_argument("--suite", action="store_true", help="also time the test suite once")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)  # no reports/training here: every command runs as on a fresh checkout
        bad = cwd / "bad.yaml"
        bad.write_text("id: bad\n", encoding="utf-8")
        floor = median([sys.executable, "-c", "import torch, fvcore.nn"], cwd, args.repeat)
        compare = median([*CLI, "compare", *SPECS], cwd, args.repeat)
        inspect = median([*CLI, "inspect", ONE_SPEC], cwd, args.repeat)
        quick = {name: median([*CLI, *cmd], cwd, args.repeat).seconds for name, cmd in
                 (("--help", ["--help"]), ("--version", ["--version"]), ("schema", ["schema"]), ("bad spec", ["compare", str(bad)]))}
    figures = {
        "compare / floor": compare.seconds / floor.seconds,
        "inspect / floor": inspect.seconds / floor.seconds,
        "--help (s)": quick["--help"],
        "compare peak RSS (MiB)": compare.peak_mib,
    }
    if args.suite:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        figures["test suite (s)"] = time.perf_counter() - start

    import torch  # only for the versions line, after every timing

    print(f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, torch {torch.__version__}, {len(SPECS)} specs, median of {args.repeat}, "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"floor (import torch, fvcore.nn): {floor.seconds:.2f} s ({floor.cpu_seconds:.2f} s CPU)")
    print(f"compare specs/*.yaml: {compare.seconds:.2f} s ({compare.cpu_seconds:.2f} s CPU, exit {compare.code}); "
          f"inspect {Path(ONE_SPEC).name}: {inspect.seconds:.2f} s ({inspect.cpu_seconds:.2f} s CPU, exit {inspect.code})")
    print(f"CPU-time ratios: compare / floor {compare.cpu_seconds / floor.cpu_seconds:.2f}, "
          f"inspect / floor {inspect.cpu_seconds / floor.cpu_seconds:.2f}")
    print("quick commands: " + ", ".join(f"{k} {v:.2f} s" for k, v in quick.items()))
    for name, value in figures.items():
        verdict = "meets" if value <= TARGETS[name] else "misses"
        print(f"{name}: {value:.2f} (target <= {TARGETS[name]:g}: {verdict})")


if __name__ == "__main__":
    main()
