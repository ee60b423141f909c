"""Shared fixtures: spec paths, a small spec writer, and one audit of the shipped specs per session."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest
import torch
from hypothesis import HealthCheck, settings

from alexnet_audit import facts
from alexnet_audit.analysis import Analysis
from alexnet_audit.audit import AuditRun, audit_paths
from alexnet_audit.spec import Spec

# Hypothesis profiles for the fuzz, oracle and hostile suites. "ci" (the default) is short and
# derandomised: the same examples on every run and every machine, so a red run is reproducible and
# a green one is not luck, and the suite stays short. "long" explores far more random
# networks and broken specs with a fresh seed each time, for local runs: HYPOTHESIS_PROFILE=long
# pytest, or pytest --hypothesis-profile=long.
CI_EXAMPLES = 15
LONG_EXAMPLES = 2000
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, deadline=None,
                          suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("long", max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Each pytest-xdist worker has a core of its own: PyTorch's threads would only contend for it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


def examples(n: int) -> int:
    """n examples under the "ci" profile, proportionally more under a longer one."""
    return max(1, n * settings.default.max_examples // CI_EXAMPLES)


ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.fixture(scope="session", autouse=True)
def facts_read_once() -> Iterator[None]:
    """The shipped reference base is package data no test changes: read once per session rather
    than once per audit (the suite runs hundreds, 0.07 s of YAML each). A base given as text, as
    the tests of a malformed base give it, is read as usual."""
    real = facts.load_facts
    shipped_base = real()

    def load(text: str | None = None) -> facts.FactBase:
        return shipped_base if text is None else real(text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(facts, "load_facts", load)
        yield


@pytest.fixture(scope="session", autouse=True)
def no_home_cache() -> Iterator[None]:
    """No command run by the suite reads or writes the user's analysis cache: they measure every
    spec, as with --no-cache (their subprocesses inherit it); tests/test_cache.py names its own
    directories."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALEXNET_AUDIT_NO_CACHE", "1")
        yield


@pytest.fixture(scope="session")
def shipped_run() -> AuditRun:
    return audit_paths(SPECS)


@pytest.fixture(scope="session")
def shipped(shipped_run: AuditRun) -> dict[str, Analysis]:
    """Each shipped spec's analysis by file stem ("paper-alexnet-2012"), from the session's one audit."""
    return {Path(a.spec.path).stem: a.analysis for a in shipped_run.audits}


@pytest.fixture
def analysed_once(shipped_run: AuditRun, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped spec, read as written, is analysed once per session: analyse is a pure function
    of the spec, so the CLI's audits of it reuse the session's analysis. Any other spec (another
    input size, a spec of the test's own) is analysed as usual; claims are judged every time."""
    import alexnet_audit.analysis as analysis

    real = analysis.analyse
    done = {Path(a.spec.path).resolve(): a.analysis for a in shipped_run.audits}

    def analyse(spec: Spec, *args: object, **kwargs: object) -> Analysis:
        known = done.get(Path(spec.path).resolve())
        return known if known is not None and known.spec.doc == spec.doc else real(spec, *args, **kwargs)

    monkeypatch.setattr(analysis, "analyse", analyse)


@pytest.fixture
def quick_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests whose subject is the report's files (what is written, kept, flagged stale), not
    its pixels: each chart is stand-in bytes made of exactly the figures it plots, so it changes
    when they do, without matplotlib's second per chart. The real charts are tested byte for byte
    in test_report.test_regeneration_is_byte_identical."""
    def layer(analysis: Analysis) -> bytes:
        plotted = [(lr.name, lr.params, lr.macs) for lr in analysis.layers if lr.params or lr.macs]
        return b"\x89PNG " + repr((analysis.spec.id, plotted)).encode()

    def comparison(analyses: Sequence[Analysis]) -> bytes:
        return b"\x89PNG " + repr([(a.spec.id, a.totals.trainable_params, a.totals.macs) for a in analyses]).encode()

    from alexnet_audit.render import markdown  # pandas and matplotlib: only for the tests that report

    monkeypatch.setattr(markdown, "layer_chart", layer)
    monkeypatch.setattr(markdown, "comparison_chart", comparison)


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files in tests/golden/ from the current output instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Tiny networks train faster on one thread than on two that wait for each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
