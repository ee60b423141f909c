"""Thin typer glue over the library: parse arguments, call, print, exit. Only this module prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from enum import Enum
from typing import Callable, List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

from .atomic import locked, write_all, write_atomic, write_set
from .audit import AuditRun, audit_paths
from .baseline import baseline_json, baseline_of, gate, load_baseline
from .errors import AuditError
from .render.json_out import run_json
from .render.junit import check_json, junit_xml
from .render.markdown import Versions, leftovers, report_files, stale
from .render.diff import code_vs_prose_view, paper_deviations_view
from .render.terminal import compare_table, inspect_view
from .render.training import training_summary
from .spec import load_spec, spec_json_schema
from .train.loop import Progress
from .train.plot import curves_png
from .train.record import record_json
from .train.run import TrainOptions, train_spec

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Audit written descriptions of classic CNNs.")
# A table with a column per spec needs room; logs and pipes get a wide page instead of 80 columns.
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)


def _report_broken(run: AuditRun) -> None:
    for broken in run.broken:
        err.print(f"error: {broken.error}", markup=False, highlight=False, soft_wrap=True)


def _bad_input(exc: AuditError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _say(line: str) -> None:
    err.print(line, markup=False, highlight=False, soft_wrap=True)


def _write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text.encode())
    except AuditError as exc:
        raise _bad_input(exc) from None


TRAINING_DIR = Path("reports/training")


def _recorded(training_dir: Path) -> Path | None:
    """Recorded training runs (from `alexnet-audit train`) judge the training claims, where there are any."""
    return training_dir if training_dir.is_dir() else None


@app.command()
def compare(
    specs: List[Path] = typer.Argument(..., help="Spec files (YAML)."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the results as JSON here."),
) -> None:
    """Audit specs and show them side by side. Exit 0: all claims hold; 1: some fail; 2: bad input."""
    run = audit_paths(specs, training_dir=_recorded(TRAINING_DIR))
    if run.audits:
        wide = out if sys.stdout.isatty() else Console(width=max(200, 24 + 26 * len(run.audits)))
        wide.print(compare_table(run))
        wide.print(code_vs_prose_view(run))
        wide.print(paper_deviations_view(run))
    _report_broken(run)
    if json_path:
        _write(json_path, run_json(run))
    raise typer.Exit(run.exit_code)


@app.command()
def inspect(
    spec: Path = typer.Argument(..., help="One spec file (YAML)."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the result as JSON here."),
) -> None:
    """Show one spec in full: every layer, every claim with its verdict and diagnosis."""
    run = audit_paths([spec], training_dir=_recorded(TRAINING_DIR))
    for audit in run.audits:
        out.print(inspect_view(audit))
    _report_broken(run)
    if json_path:
        _write(json_path, run_json(run))
    raise typer.Exit(run.exit_code)


@app.command()
def schema() -> None:
    """Print the spec format's JSON Schema (for editor completion)."""
    out.print_json(json.dumps(spec_json_schema()))




class Device(str, Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"


def _progress_to(bars: Bars, spec_id: str) -> Callable[[str, Progress], None]:
    tasks: dict[str, int] = {}

    def show(phase: str, p: Progress) -> None:
        if phase not in tasks:
            tasks[phase] = bars.add_task(f"{spec_id} {phase}", total=p.steps, stats="")
        stats = f"loss {p.loss:.4g}  acc {p.accuracy:.0%}  {p.images_per_s:,.0f} img/s"
        bars.update(tasks[phase], completed=p.step, stats=stats)

    return show


@app.command()
def train(
    specs: List[Path] = typer.Argument(..., help="Spec files (YAML)."),
    data: str = typer.Option("digits", "--data", help="digits or shapes (built in), or a directory: CIFAR-10's "
                             "python batches, MNIST's IDX files or an ImageFolder tree."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default 150 on CPU, 1000 on a GPU)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1, help="Train for this many epochs instead."),
    budget: Optional[float] = typer.Option(None, "--budget", min=1, help="Seconds per spec, all phases together "
                                           "(default 60 on CPU, 45 on a GPU)."),
    device: Device = typer.Option(Device.auto, "--device", help="auto takes CUDA when present."),
    seed: int = typer.Option(0, "--seed", help="Initial weights, batch order, dropout."),
    out_dir: Path = typer.Option(TRAINING_DIR, "--out", help="Where <spec-id>.json and <spec-id>.png go."),
    max_memory: Optional[float] = typer.Option(None, "--max-memory", help="GiB a run may take (estimated before "
                                               "allocating; default 80% of the free memory of the device used)."),
) -> None:
    """Train each spec's network as its source did and judge: converges or fails to converge.
    Exit 0: every spec converges; 1: some fail to converge; 2: bad input."""
    if steps and epochs:
        err.print("error: give --steps or --epochs, not both", markup=False)
        raise typer.Exit(2)
    try:
        options = TrainOptions(data=data, steps=steps, epochs=epochs, budget_s=budget, device=device.value, seed=seed,
                               max_memory_gib=max_memory)
    except AuditError as exc:
        raise _bad_input(exc) from None
    code = 0
    for path in specs:
        spec_id = path.stem
        try:
            spec = load_spec(path)
            spec_id = spec.id
            with Bars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
                      TimeElapsedColumn(), console=out, transient=True) as bars:
                record = train_spec(spec, options, _progress_to(bars, spec.id))
        except KeyboardInterrupt:
            # Results are written only once a run ends, and atomically: the last one stands.
            previous = out_dir / f"{spec_id}.json"
            kept = f"the previous result {previous} is intact" if previous.is_file() else "no result was written"
            err.print(f"interrupted: {kept}", markup=False, soft_wrap=True)
            raise typer.Exit(130) from None
        except AuditError as exc:
            err.print(f"error: {exc.located(file=str(path))}", markup=False, highlight=False, soft_wrap=True)
            code = 2
            continue
        json_path, png_path = out_dir / f"{spec.id}.json", out_dir / f"{spec.id}.png"
        try:
            result = {json_path: record_json(record).encode(), png_path: curves_png(record)}  # both rendered, then both written
            with locked(out_dir, on_wait=_say):
                write_set(result)
        except AuditError as exc:
            raise _bad_input(exc) from None
        out.print(training_summary(record, json_path, png_path), highlight=False, soft_wrap=True)
        code = max(code, 0 if record.verdict == "converges" else 1)
    raise typer.Exit(code)


def _check_reports(out_dir: Path, files: dict[str, bytes]) -> None:
    problems = stale(out_dir, files)
    for line in problems:
        out.print(f"stale: {out_dir / line}", markup=False, highlight=False, soft_wrap=True)
    if problems:
        err.print(f"error: the reports in {out_dir} are stale; regenerate them with `alexnet-audit report SPEC... -o {out_dir}`",
                  markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"{len(files)} report files in {out_dir} are up to date", markup=False, highlight=False, soft_wrap=True)


@app.command()
def report(
    specs: List[Path] = typer.Argument(..., help="Spec files (YAML)."),
    out_dir: Path = typer.Option(..., "-o", "--output", help="The report directory (created if missing)."),
    check_only: bool = typer.Option(False, "--check", help="Write nothing: exit 1 if the directory's reports are not "
                                    "exactly what this run would write (stale, missing or left over)."),
) -> None:
    """Write markdown reports with charts: index.md (all specs side by side) and one page per spec.
    Exit 0: written (or, with --check, up to date); 1: --check found stale reports; 2: bad input."""
    run = audit_paths(specs, training_dir=_recorded(out_dir / "training"))
    if run.broken:
        _report_broken(run)
        raise typer.Exit(2)  # a report set silently missing a spec would read as complete
    try:
        files = report_files(run, out_dir, Versions.installed())
        if check_only:
            _check_reports(out_dir, files)
            return
        with locked(out_dir, on_wait=_say):  # another run's pages are neither mixed in nor deleted mid-write
            gone = leftovers(out_dir, files)
            write_all(out_dir, files, remove=gone)
    except AuditError as exc:
        raise _bad_input(exc) from None
    except OSError as exc:
        raise _bad_input(AuditError(f"cannot update the reports: {exc.strerror or exc}", file=str(out_dir))) from None
    removed = f"; removed {', '.join(gone)}" if gone else ""
    out.print(f"wrote {len(files)} files to {out_dir}{removed}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def check(
    specs: List[Path] = typer.Argument(..., help="Spec files (YAML)."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Fail only on changes against this baseline."),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline", help="Record the current verdicts here "
                                                  "as the accepted state (then exit 0 unless the input is bad)."),
    junit: Optional[Path] = typer.Option(None, "--junit", help="Also write JUnit XML here (one test case per claim)."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the results as JSON here."),
) -> None:
    """The CI gate. Exit 0: no failing claim (with --baseline: nothing changed); 1: a failing claim
    (with --baseline: a claim that newly fails, no longer fails, or was added or removed); 2: bad input."""
    try:
        accepted = load_baseline(baseline) if baseline else None
    except AuditError as exc:
        raise _bad_input(exc) from None
    run = audit_paths(specs, training_dir=_recorded(TRAINING_DIR))
    outcome = gate(run, accepted)
    for line in outcome.lines():
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    _report_broken(run)
    try:
        if junit:
            write_atomic(junit, junit_xml(outcome).encode())
        if json_path:
            write_atomic(json_path, check_json(outcome).encode())
        if write_baseline and not run.broken:
            write_atomic(write_baseline, baseline_json(baseline_of(run)).encode())
            out.print(f"baseline written: {write_baseline}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(0)
    except AuditError as exc:
        raise _bad_input(exc) from None
    raise typer.Exit(outcome.exit_code)


def main() -> None:  # pragma: no cover - console entry for `python -m alexnet_audit`
    try:
        app()
    except AuditError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        raise SystemExit(2) from None
