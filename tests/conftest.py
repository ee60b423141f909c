"""Shared fixtures: spec paths, a small spec writer, and one audit of the shipped specs per session."""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import pytest

if TYPE_CHECKING:
    from alexnet_audit.analysis import Analysis
    from alexnet_audit.audit import AuditRun
    from alexnet_audit.spec import Spec

# torch, hypothesis and the package are imported by the hooks and fixtures that need them, not
# here: pytest-xdist's controller process loads this file too, before it starts the workers, and
# runs no test, so an import here would delay every run by its seconds.

# Hypothesis profiles for the fuzz, oracle and hostile suites. "ci" (the default) is short and
# derandomised: the same examples on every run and every machine, so a red run is reproducible and
# a green one is not luck, and the suite stays short. "long" explores far more random
# networks and broken specs with a fresh seed each time, for local runs: HYPOTHESIS_PROFILE=long
# pytest, or pytest --hypothesis-profile=long.
CI_EXAMPLES = 15
LONG_EXAMPLES = 2000


def _runs_tests(config: pytest.Config) -> bool:
    """False only in pytest-xdist's controller, which hands the tests to its workers."""
    if hasattr(config, "workerinput"):
        return True
    numprocesses = config.getoption("numprocesses", default=None)
    return not numprocesses or config.getoption("dist", default="no") == "no"


def _hypothesis_option_given(config: pytest.Config) -> bool:
    options = ("--hypothesis-profile", "--hypothesis-verbosity", "--hypothesis-show-statistics", "--hypothesis-seed",
               "--hypothesis-explain")  # hypothesis's plugin reads profiles in this process when one is given
    return any(config.getoption(name, default=None) for name in options)


@pytest.hookimpl(tryfirst=True)  # before hypothesis's own plugin loads a --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    runs_tests = _runs_tests(config)
    if not (runs_tests or _hypothesis_option_given(config)):
        return
    if runs_tests:
        _fewer_gc_passes()
    from hypothesis import HealthCheck, settings

    slow_ok = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, deadline=None,
                              suppress_health_check=slow_ok, print_blob=True)
    settings.register_profile("long", max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=slow_ok,
                              print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    if hasattr(config, "workerinput"):
        import torch

        # Each pytest-xdist worker has a core of its own: PyTorch's threads would only contend for it.
        torch.set_num_threads(1)


def _fewer_gc_passes() -> None:
    """Python's default threshold (700 new objects) runs the cyclic collector thousands of times a
    run, and the imports and parses of collection promote so many objects that its full passes,
    which walk everything alive (torch's, hypothesis's, the test modules'), come often. Measured
    with a gc.callbacks probe: 13.2 s of CPU over the two workers (3,878 + 4,638 passes); with a
    pass every 50,000 new objects and the freezes below, 2.8 s (46 + 45 passes), and `pytest
    --collect-only -n 0` takes 10.6-11.0 s instead of 13.9-14.4. The suite's garbage stays
    bounded: the fuzz and hostile tests that trace their peak memory still meet their limits."""
    gc.set_threshold(50_000, 20, 100)


def examples(n: int) -> int:
    """n examples under the "ci" profile, proportionally more under a longer one."""
    from hypothesis import settings

    return max(1, n * settings.default.max_examples // CI_EXAMPLES)


ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.fixture(scope="session", autouse=True)
def facts_read_once() -> Iterator[None]:
    """The shipped reference base is package data no test changes: read once per session rather
    than once per audit (the suite runs hundreds, 0.07 s of YAML each). A base given as text, as
    the tests of a malformed base give it, is read as usual."""
    from alexnet_audit import facts

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


# The tests that need the session's audit of every shipped spec (4 s) run on one xdist worker, so
# it is done once a run rather than once per worker. xdist's own `xdist_group` mark cannot say so
# here (pytest 9 ignores the node id suffix it relies on), and its controller sees only test ids:
# the workers, which collect, write those tests' ids to a file the controller names, and the
# controller's scheduler sends them to one worker as one unit; every other test is dealt out one
# at a time, as `--dist load` does.
SHIPPED_GROUP = "shipped_run"  # the fixture's name, and the scope its tests are sent as
_GROUP_FILE = "alexnet_audit_group_file"
_group_dir = pytest.StashKey[Path]()


def _group_file(config: pytest.Config) -> Path:
    if _group_dir not in config.stash:
        config.stash[_group_dir] = Path(tempfile.mkdtemp(prefix="alexnet-audit-groups-"))
    return config.stash[_group_dir] / "shipped.json"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _group_dir in config.stash:
        shutil.rmtree(config.stash[_group_dir], ignore_errors=True)
    if _runs_tests(config):
        # The interpreter's exit collects every object still alive, torch's included: 1.2 s of a
        # worker's exit, which the run waits for. Frozen objects are never visited again.
        gc.freeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    if _runs_tests(session.config):
        # What collection loaded (the package, torch, hypothesis, the test modules) lives until
        # the end: frozen, no full pass during the tests walks it again.
        gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    # hypothesis's terminal summary imports hypothesis in this controller process (about half a
    # second) once the last worker is done. Imported when the first worker goes down, it runs
    # beside the other worker's last tests, if any are left.
    import hypothesis  # noqa: F401


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[_GROUP_FILE] = str(_group_file(node.config))


def _run_order(item: pytest.Item, module: int) -> tuple[int, int]:
    """The long tests first, so that the run ends on short ones: a worker still busy with seconds
    of work while the other has nothing left is wall time for one core. Longest are the tests that
    start processes of their own (the gloo run, 13 s, first of all), then hypothesis's (15
    examples each, up to 5 s); the other modules run in reverse order, which leaves the argument
    tables' hundreds of rows of milliseconds (test_import_args*) and the bad inputs to the end.
    (Every worker sorts alike, so their collections agree.)"""
    if item.get_closest_marker("starts_processes") is not None:
        return 0, module
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        return 1, module
    return 2, -module


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modules = {path: rank for rank, path in enumerate(dict.fromkeys(item.path for item in items))}
    items.sort(key=lambda item: _run_order(item, modules[item.path]))
    where = getattr(config, "workerinput", {}).get(_GROUP_FILE)
    if where is None:
        return
    grouped = [item.nodeid for item in items if SHIPPED_GROUP in getattr(item, "fixturenames", ())]
    part = Path(f"{where}.{os.getpid()}")  # each worker writes the same list; whole files only
    part.write_text(json.dumps(grouped), encoding="utf-8")
    os.replace(part, where)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedAuditScheduling(LoadGroupScheduling):
        """loadgroup, with the tests the workers listed as needing the shipped audit in one unit."""

        def schedule(self) -> None:
            listed = _group_file(config)  # absent only if no worker got as far as collecting
            self.grouped = set(json.loads(listed.read_text(encoding="utf-8"))) if listed.exists() else set()
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            return SHIPPED_GROUP if nodeid in self.grouped else super()._split_scope(nodeid)

    return SharedAuditScheduling(config, log)


@pytest.fixture(scope="session")
def shipped_run() -> AuditRun:
    from alexnet_audit.audit import audit_paths

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
    from alexnet_audit.node_counts import one_thread as threads_of_one

    with threads_of_one():
        yield
