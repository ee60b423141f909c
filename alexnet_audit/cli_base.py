"""The command line's plumbing: where output goes, one-line errors, plain help.

cli.py's commands print through these; with cli.py these are the only functions that print.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup

from .errors import AuditError
from .render.safe import plain

if TYPE_CHECKING:
    from .audit import AuditRun
    from .cache import AnalysisCache

# Piped output: $COLUMNS when set, else this width; plain text either way (no colour, no escapes).
PIPE_WIDTH = 120
TRAINING_DIR = Path("reports/training")
EXIT_INTERNAL = 3


def out_console() -> Console:
    """Standard output: the terminal's width, or $COLUMNS / PIPE_WIDTH when piped."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() and int(columns) >= 20 else PIPE_WIDTH,
                   highlight=False, no_color=True, force_terminal=False)


def say(text: str, *, to_err: bool = False) -> None:
    """One line of plain text: never markup, control characters escaped."""
    console = Console(stderr=True, highlight=False) if to_err else out_console()
    console.print(plain(text), markup=False, highlight=False, soft_wrap=True, emoji=False)


def fail(text: str) -> None:
    say(f"error: {text}", to_err=True)


def note(text: str) -> None:
    say(text, to_err=True)


class OneLineGroup(TyperGroup):
    """Usage errors in one line (exit 2); any other exception in one line as ours (exit 3)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        try:  # one program name however it was started (the script, python -m, a test runner)
            code = super().main(args, "alexnet-audit", complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except typer.TyperException as exc:  # typer's usage errors: unknown option, bad value, missing argument
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            fail(" ".join(exc.format_message().split()) + hint)
            code = getattr(exc, "exit_code", 2)
        except typer.Abort:
            fail("aborted")
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

    # typer hands its commands its vendored click's Context (typer.Context adds nothing used here),
    # which typer does not export: the override names the public subclass.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except AuditError as exc:  # a user's mistake (bad baseline, unwritable file): one line, exit 2, for every command
            fail(str(exc))
            raise typer.Exit(2) from None
        except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, the traceback on request
            from .audit import internal_error

            if ctx.params.get("debug"):
                for line in traceback.format_exc().rstrip().splitlines():
                    say(line, to_err=True)
            fail(str(internal_error(exc)))
            raise typer.Exit(EXIT_INTERNAL) from None


class PlainCommand(TyperCommand):
    """Help that names each argument by its metavar (`SPEC...`), not by a Python type (`<list[Path]>`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument):
                # Help without the Python type: this one argument's method is replaced, on purpose.
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]  # as invoke's
        names = [(p.metavar or (p.name or "").upper()) + ("..." if p.nargs != 1 else "")
                 for p in self.params if isinstance(p, TyperArgument)]
        return ["[OPTIONS]", *names]


def parse_input(value: Optional[str]) -> Optional[tuple[int, int, int]]:
    """`3x227x227` (C x H x W) as a tuple."""
    if value is None:
        return None
    parts = value.lower().replace("×", "x").split("x")
    if len(parts) != 3 or not all(p.isdigit() and 0 < len(p) < 6 for p in parts):
        raise typer.BadParameter(f"{value!r} is not CxHxW, e.g. 3x227x227")
    c, h, w = (int(p) for p in parts)
    return c, h, w


def analysis_cache(directory: Optional[Path], off: bool) -> Optional[AnalysisCache]:
    """The cache `--cache-dir` and `--no-cache` ask for: none, the directory given, or the default one."""
    if off:
        return None
    from .cache import AnalysisCache, default_dir

    return AnalysisCache(directory if directory is not None else default_dir(os.environ))


def cache_lines(run: AuditRun) -> list[str]:
    """Where the run's analyses came from, then each problem the cache met; nothing with --no-cache."""
    use = run.cache
    if use is None:
        return []
    specs = "spec" if use.analysed == 1 else "specs"
    return [f"analysis cache: {use.directory} ({use.reused} of {use.analysed} {specs} reused)", *use.notes]
