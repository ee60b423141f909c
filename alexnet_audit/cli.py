"""Thin typer glue over the library: parse arguments, call, print, exit. Only this module (with
cli_base.py, its plumbing) prints.

Each command imports what it needs when it runs, so `--help`, `--version`, `schema` and a bad
spec answer without importing torch, fvcore, pandas or matplotlib.
"""

from __future__ import annotations

import gc
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional

import typer

from . import __version__
from .cli_base import (
    EXIT_INTERNAL, TRAINING_DIR, OneLineGroup, PlainCommand, analysis_cache, cache_lines, fail, note, out_console, parse_input, say,
)
from .errors import AuditError
from .render.safe import plain

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as Bars

    from .audit import AuditRun
    from .baseline import CheckOutcome
    from .train.loop import Progress
    from .train.record import TrainingRecord
    from .train.run import TrainOptions

app = typer.Typer(cls=OneLineGroup, add_completion=False, rich_markup_mode=None, invoke_without_command=True,
                  help="Audit written descriptions of classic CNNs.")


def _version(value: bool) -> None:
    if value:
        say(f"alexnet-audit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Print the traceback of an internal error (exit 3)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


SPECS_ARG = typer.Argument(..., help="Spec files (YAML).", metavar="SPEC")
JSON_OPT = typer.Option(None, "--json", metavar="FILE", help="Also write the results as JSON here.")
CSV_OPT = typer.Option(None, "--csv", metavar="FILE", help="Also write the table as CSV here.")
MD_OPT = typer.Option(None, "--markdown", metavar="FILE", help="Also write the table as markdown here.")
INPUT_OPT = typer.Option(None, "--input", metavar="CxHxW", help="Build every spec for this input instead "
                         "(a what-if), e.g. 3x227x227.")
TRAINING_OPT = typer.Option(TRAINING_DIR, "--training-dir", metavar="DIR", help="Recorded training runs "
                            "(<spec-id>.json from `train`) that judge the training claims.")
CACHE_DIR_OPT = typer.Option(None, "--cache-dir", metavar="DIR", envvar="ALEXNET_AUDIT_CACHE_DIR", help="Keep "
                             "measured analyses here and reuse them while spec, tool, torch and fvcore are unchanged "
                             "(default: $XDG_CACHE_HOME/alexnet-audit, else ~/.cache/alexnet-audit).")
NO_CACHE_OPT = typer.Option(False, "--no-cache", envvar="ALEXNET_AUDIT_NO_CACHE", help="Measure every spec; "
                            "read and write no analysis cache.")


def _audit(specs: List[Path], training_dir: Path, cache_dir: Optional[Path], no_cache: bool,
           input_shape: Optional[str] = None) -> AuditRun:
    from .audit import audit_paths

    return audit_paths(specs, training_dir=training_dir if training_dir.is_dir() else None,
                       input_shape=parse_input(input_shape), cache=analysis_cache(cache_dir, no_cache))


def _finish(run: AuditRun, training_dir: Path, json_path: Optional[Path] = None) -> None:
    """What every auditing command ends with: which training records were read, where the analyses
    came from, what broke, the JSON."""
    if run.audits:
        say(f"training records: {training_dir}" if run.training_dir else
             f"training records: none ({training_dir} does not exist)")
        for line in cache_lines(run):
            note(line)
    for broken in run.broken:
        fail(str(broken.error))
    if json_path:
        from .render.json_out import run_json

        _write(json_path, run_json(run))


def _write(path: Path, text: str | bytes) -> None:
    from .atomic import write_atomic

    write_atomic(path, text.encode() if isinstance(text, str) else text)


def _tables(frame: Any, csv_path: Optional[Path], md_path: Optional[Path]) -> None:
    from .render.tables import to_csv, to_markdown

    if csv_path:
        _write(csv_path, to_csv(frame))
    if md_path:
        _write(md_path, to_markdown(frame))


@app.command(cls=PlainCommand)
def compare(
    specs: List[Path] = SPECS_ARG, json_path: Optional[Path] = JSON_OPT, csv_path: Optional[Path] = CSV_OPT,
    md_path: Optional[Path] = MD_OPT, input_shape: Optional[str] = INPUT_OPT, training_dir: Path = TRAINING_OPT,
    cache_dir: Optional[Path] = CACHE_DIR_OPT, no_cache: bool = NO_CACHE_OPT,
) -> None:
    """Audit specs and show them side by side. Exit 0: all claims hold; 1: some fail; 2: bad input."""
    run = _audit(specs, training_dir, cache_dir, no_cache, input_shape)
    if run.audits:
        from .render.terminal import compare_view

        out = out_console()
        out.print(compare_view(run, out.width))
    if run.audits and (csv_path or md_path):
        from .render.tables import compare_frame

        _tables(compare_frame(run), csv_path, md_path)
    _finish(run, training_dir, json_path)
    raise typer.Exit(run.exit_code)


@app.command(cls=PlainCommand)
def inspect(
    spec: Path = typer.Argument(..., help="One spec file (YAML).", metavar="SPEC"), json_path: Optional[Path] = JSON_OPT,
    csv_path: Optional[Path] = CSV_OPT, md_path: Optional[Path] = MD_OPT, input_shape: Optional[str] = INPUT_OPT,
    training_dir: Path = TRAINING_OPT, cache_dir: Optional[Path] = CACHE_DIR_OPT, no_cache: bool = NO_CACHE_OPT,
) -> None:
    """Show one spec in full: every layer, every claim with its verdict and diagnosis."""
    run = _audit([spec], training_dir, cache_dir, no_cache, input_shape)
    for audit in run.audits:
        from .render.terminal import inspect_view

        out = out_console()
        out.print(inspect_view(audit, out.width))
        if csv_path or md_path:  # pandas costs half a second to import: only when a table is written
            from .render.tables import layers_frame

            _tables(layers_frame(audit), csv_path, md_path)
    _finish(run, training_dir, json_path)
    raise typer.Exit(run.exit_code)


@app.command(cls=PlainCommand)
def schema() -> None:
    """Print the spec format's JSON Schema (for editor completion)."""
    import json

    from .spec import spec_json_schema

    out_console().print_json(json.dumps(spec_json_schema()))


@app.command("import", cls=PlainCommand)
def import_(
    code: Optional[Path] = typer.Argument(None, metavar="CODE", help="A model's code: a .py file, or a post's text "
                                          "with the code in it."),
    output: Path = typer.Option(..., "-o", "--output", metavar="SPEC", help="Where the spec YAML goes."),
    module: Optional[str] = typer.Option(None, "--module", metavar="FILE.py:NAME", help="Run your own file and read "
                                         "the live nn.Module NAME instead of reading code statically."),
    model: Optional[str] = typer.Option(None, "--model", metavar="NAME", help="Which model, when the listing defines several."),
    input_shape: Optional[str] = typer.Option(None, "--input", metavar="CxHxW", help="The input, e.g. 3x224x224."),
    sets: List[str] = typer.Option([], "--set", metavar="NAME=VALUE", help="A value the listing leaves open (repeatable)."),
    spec_id: Optional[str] = typer.Option(None, "--id", metavar="ID", help="The spec's id (default: the model's name + -code)."),
) -> None:
    """Write a spec from a model's code (read with Python's ast, never run) or from a live model."""
    from .importer import import_spec, summary

    result = import_spec(code, module=module, model=model, input=input_shape, sets=sets, spec_id=spec_id)
    _write(output, result.text)
    for line in summary(result, output):
        say(line)


class Device(str, Enum):
    auto = "auto"
    cuda = "cuda"
    cpu = "cpu"


def _progress_to(bars: Bars, spec_id: str) -> Callable[[str, Progress], None]:
    tasks: dict[str, Any] = {}

    def show(phase: str, p: Progress) -> None:
        if phase not in tasks:
            tasks[phase] = bars.add_task(plain(f"{spec_id} {phase}"), total=p.steps, stats="")
        stats = f"loss {p.loss:.4g}  acc {p.accuracy:.0%}  {p.images_per_s:,.0f} img/s  {p.seconds_left:,.0f} s left"
        bars.update(tasks[phase], completed=p.step, stats=stats)

    return show


@app.command(cls=PlainCommand)
def train(
    specs: List[Path] = SPECS_ARG,
    data: str = typer.Option("digits", "--data", metavar="NAME|DIR", help="digits, mnist5k or shapes (built "
                             "in), or a directory: CIFAR-10's python batches, MNIST's IDX files or an ImageFolder tree."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, metavar="N", help="Training steps (default 150 on CPU, 1000 on a GPU)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1, metavar="N", help="Train for this many epochs instead."),
    budget: Optional[float] = typer.Option(None, "--budget", min=1, metavar="SECONDS", help="Seconds per spec, all "
                                           "phases together (default 60 on CPU, 45 on a GPU)."),
    device: Device = typer.Option(Device.auto, "--device", metavar="auto|cuda|cpu", help="auto takes CUDA when present."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Initial weights, batch order, dropout."),
    out_dir: Path = typer.Option(TRAINING_DIR, "--out", metavar="DIR", help="Where <spec-id>.json and <spec-id>.png "
                                 "go (what --training-dir reads)."),
    max_memory: Optional[float] = typer.Option(None, "--max-memory", metavar="GIB", help="GiB a run may take "
                                               "(estimated before allocating; default 80% of the free memory of the "
                                               "device used)."),
    seeds: Optional[int] = typer.Option(None, "--seeds", min=1, metavar="N", help="Seeds of each ReLU-vs-baseline "
                                        "experiment, each its own weights and batch order (default 3 on CPU, 5 on a GPU)."),
    nproc: int = typer.Option(1, "--nproc", min=1, metavar="N", help="Data-parallel processes (DDP; one per GPU "
                              "on CUDA), as torchrun --nproc_per_node N; the batch size is per process."),
) -> None:
    """Train each spec's network as its source did and judge: converges, fails to converge,
    diverges, or inconclusive (saying what would settle it). Prints the recipe first.
    Exit 0: none fails to converge or diverges; 1: some do; 2: bad input."""
    if steps and epochs:
        raise typer.BadParameter("give --steps or --epochs, not both")
    gc.enable()  # main() turns it off for short runs; a training run allocates at every step for minutes
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

    from .render.training import recipe_text
    from .spec import load_spec
    from .train.run import TrainOptions, train_spec

    options = TrainOptions(data=data, steps=steps, epochs=epochs, budget_s=budget, device=device.value, seed=seed,
                           max_memory_gib=max_memory, seeds=seeds, world_size=nproc)
    from .train.launch import launched_by_torchrun

    if nproc > 1 or launched_by_torchrun():
        raise typer.Exit(_train_world(specs, options, out_dir))
    out, code = out_console(), 0
    for path in specs:
        spec_id = path.stem
        try:
            spec = load_spec(path)
            spec_id = spec.id
            with Bars(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
                      TimeElapsedColumn(), console=out, transient=True) as bars:
                record = train_spec(spec, options, _progress_to(bars, spec.id),
                                    lambda recipe: out.print(recipe_text(spec_id, recipe)))
        except KeyboardInterrupt:
            # Results are written only once a run ends, and atomically: the last one stands.
            previous = out_dir / f"{spec_id}.json"
            say(f"interrupted: {f'the previous result {previous} is intact' if previous.is_file() else 'no result was written'}",
                 to_err=True)
            raise typer.Exit(130) from None
        except AuditError as exc:
            fail(str(exc.located(file=str(path))))
            code = 2
            continue
        assert record is not None  # a world of one: rank 0 always returns its record
        code = max(code, _keep(record, out_dir, out))
    raise typer.Exit(code)


def _keep(record: TrainingRecord, out_dir: Path, out: Console) -> int:
    """Write a run's record and chart, print its summary; the exit code its verdict asks for."""
    from .atomic import locked, write_set
    from .render.training import training_summary
    from .train.plot import curves_png
    from .train.record import record_json

    json_path, png_path = out_dir / f"{record.spec}.json", out_dir / f"{record.spec}.png"
    result = {json_path: record_json(record).encode(), png_path: curves_png(record)}  # both rendered, then both written
    with locked(out_dir, on_wait=note):
        write_set(result)
    out.print(training_summary(record, json_path, png_path))
    return 1 if record.verdict in ("fails to converge", "diverges") else 0


def _train_world(specs: List[Path], options: TrainOptions, out_dir: Path) -> int:
    """Several processes train each spec together: launched here (--nproc), or by torchrun, which runs
    this command in each of its processes; rank 0 alone writes and prints, once the specs have
    trained (the recipe with the result, as the record holds it). No progress bars."""
    from .render.training import recipe_text
    from .train.launch import check_nproc, launch, train_world

    check_nproc(options)
    paths = [str(p) for p in specs]
    try:
        outcomes = launch(paths, options) if options.world_size > 1 else train_world(paths, options)
    except KeyboardInterrupt:  # records are written only once every spec has trained
        say(f"interrupted: no result was written (those in {out_dir} are intact)", to_err=True)
        return 130
    if outcomes is None:  # another rank of torchrun's world
        return 0
    out, code = out_console(), 0
    for outcome in outcomes:
        if outcome.error is not None:
            fail(outcome.error)
            code = 2
            continue
        record = outcome.record
        assert record is not None, "an outcome without an error has its record"
        if record.recipe is not None:
            out.print(recipe_text(record.spec, record.recipe))
        code = max(code, _keep(record, out_dir, out))
    return code


def _check_reports(out_dir: Path, files: dict[str, bytes]) -> None:
    from .render.markdown import stale

    problems = stale(out_dir, files)
    for line in problems:
        say(f"stale: {out_dir / line}")
    if problems:
        fail(f"the reports in {out_dir} are stale; regenerate them with `alexnet-audit report SPEC... -o {out_dir}`")
        raise typer.Exit(1)
    say(f"{len(files)} report files in {out_dir} are up to date")


@app.command(cls=PlainCommand)
def report(
    specs: List[Path] = SPECS_ARG,
    out_dir: Path = typer.Option(..., "-o", "--output", metavar="DIR", help="The report directory (created if missing)."),
    check_only: bool = typer.Option(False, "--check", help="Write nothing: exit 1 if the directory's reports are not "
                                    "exactly what this run would write (stale, missing or left over)."),
    training_dir: Optional[Path] = typer.Option(None, "--training-dir", metavar="DIR", help="Recorded training runs "
                                                "to report (default: DIR/training, where `train --out DIR/training` "
                                                "writes them)."),
    cache_dir: Optional[Path] = CACHE_DIR_OPT, no_cache: bool = NO_CACHE_OPT,
) -> None:
    """Write markdown reports with charts: index.md (all specs side by side) and one page per spec.
    Exit 0: written (or, with --check, up to date); 1: --check found stale reports; 2: bad input."""
    records = training_dir or out_dir / "training"
    run = _audit(specs, records, cache_dir, no_cache)
    if run.broken:
        _finish(run, records)
        raise typer.Exit(run.exit_code)  # a report set silently missing a spec would read as complete
    from .atomic import locked, write_all
    from .render.markdown import Versions, leftovers, report_files

    try:
        files = report_files(run, out_dir, Versions.installed())
        if check_only:
            _check_reports(out_dir, files)
            _finish(run, records)
            return
        with locked(out_dir, on_wait=note):  # another run's pages are neither mixed in nor deleted mid-write
            gone = leftovers(out_dir, files)
            write_all(out_dir, files, remove=gone)
    except OSError as exc:
        raise AuditError(f"cannot update the reports: {exc.strerror or exc}", file=str(out_dir)) from None
    say(f"wrote {len(files)} files to {out_dir}" + (f"; removed {', '.join(gone)}" if gone else ""))
    _finish(run, records)


@app.command(cls=PlainCommand)
def check(
    specs: List[Path] = SPECS_ARG,
    baseline: Optional[Path] = typer.Option(None, "--baseline", metavar="FILE", help="Fail only on changes against "
                                            "this baseline."),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline", metavar="FILE", help="Record the current "
                                                  "verdicts here as the accepted state (then exit 0 unless the input is bad)."),
    junit: Optional[Path] = typer.Option(None, "--junit", metavar="FILE", help="Also write JUnit XML here (one test "
                                         "case per claim)."),
    json_path: Optional[Path] = JSON_OPT, training_dir: Path = TRAINING_OPT,
    cache_dir: Optional[Path] = CACHE_DIR_OPT, no_cache: bool = NO_CACHE_OPT,
) -> None:
    """The CI gate. Exit 0: no failing claim (with --baseline: nothing changed); 1: a failing claim
    (with --baseline: a claim that newly fails, no longer fails, or was added or removed); 2: bad input."""
    from .baseline import baseline_json, baseline_of, gate, load_baseline
    from .render.junit import check_json, junit_xml
    from .render.terminal import check_lines

    accepted = load_baseline(baseline) if baseline else None
    run = _audit(specs, training_dir, cache_dir, no_cache)
    outcome: CheckOutcome = gate(run, accepted)
    for line in check_lines(outcome):
        say(line)
    _finish(run, training_dir)
    if junit:
        _write(junit, junit_xml(outcome))
    if json_path:
        _write(json_path, check_json(outcome))
    if write_baseline and not run.broken:
        _write(write_baseline, baseline_json(baseline_of(run)))
        say(f"baseline written: {write_baseline}")
        raise typer.Exit(0)
    raise typer.Exit(max(outcome.exit_code, run.exit_code if run.exit_code == EXIT_INTERNAL else 0))


def main() -> None:
    """The `alexnet-audit` script and `python -m alexnet_audit`, without the cyclic garbage
    collector (`train` turns it back on): a run keeps nearly every object it builds until it exits,
    and the collector's passes over them cost a cold `compare` 0.25 to 0.7 s and did not lower its
    peak (68 specs). Reference counting still frees every tensor the moment it is dropped."""
    gc.disable()
    app()
