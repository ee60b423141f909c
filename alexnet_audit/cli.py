"""Thin typer glue over the library: parse arguments, call, print, exit. Only this module prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from .audit import AuditRun, audit_paths
from .errors import AuditError
from .render.json_out import run_json
from .render.terminal import compare_table, inspect_view
from .spec import spec_json_schema

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Audit written descriptions of classic CNNs.")
# A table with a column per spec needs room; logs and pipes get a wide page instead of 80 columns.
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)


def _report_broken(run: AuditRun) -> None:
    for broken in run.broken:
        err.print(f"error: {broken.error}", markup=False, highlight=False, soft_wrap=True)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        err.print(f"error: {path}: cannot write: {exc.strerror}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def compare(
    specs: List[Path] = typer.Argument(..., help="Spec files (YAML)."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the results as JSON here."),
) -> None:
    """Audit specs and show them side by side. Exit 0: all claims hold; 1: some fail; 2: bad input."""
    run = audit_paths(specs)
    if run.audits:
        out.print(compare_table(run))
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
    run = audit_paths([spec])
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


def main() -> None:  # pragma: no cover - console entry for `python -m alexnet_audit`
    try:
        app()
    except AuditError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        raise SystemExit(2) from None
