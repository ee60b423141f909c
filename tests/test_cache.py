"""The analysis cache: an entry gives back exactly what was measured, a damaged entry or directory
means measuring afresh (never a crash, never a half-read entry), and the command line's
--cache-dir / --no-cache. What the key covers: tests/test_cache_key.py."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

import alexnet_audit.analysis as analysis_module
from alexnet_audit.audit import AuditRun, audit_paths
from alexnet_audit.cache import MAX_ENTRY_BYTES, AnalysisCache, Stamp, cache_key, default_dir, encode
from alexnet_audit.cli import app
from alexnet_audit.render.json_out import run_json
from alexnet_audit.spec import load_spec
from conftest import ROOT, SPECS
from helpers import LENET, spec_text

runner = CliRunner()


@pytest.fixture(autouse=True)
def cache_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest turns the cache off for the suite; these tests name a directory of their own."""
    monkeypatch.delenv("ALEXNET_AUDIT_NO_CACHE", raising=False)
    monkeypatch.delenv("ALEXNET_AUDIT_CACHE_DIR", raising=False)


# ---------------------------------------------------------------- entries are the measurement


def _fill(cache: AnalysisCache, run: AuditRun) -> None:
    """Entries for every analysis of an audit run without a cache (as a cold run writes them)."""
    for audit in run.audits:
        assert cache.write(cache_key(audit.spec, Stamp.installed()), audit.analysis) is None


def _no_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("measured although the cache holds the entry")

    monkeypatch.setattr(analysis_module, "analyse", refuse)


def test_every_shipped_spec_reads_back_exactly_as_measured(shipped_run: AuditRun, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = AnalysisCache(tmp_path / "cache")
    _fill(cache, shipped_run)
    _no_measuring(monkeypatch)
    warm = audit_paths(SPECS, cache=cache)
    assert warm.cache is not None and (warm.cache.reused, warm.cache.analysed, warm.cache.notes) == (17, 17, ())
    assert len(warm.audits) == len(shipped_run.audits) == 17
    for cold_audit, warm_audit in zip(shipped_run.audits, warm.audits):
        # every field: layers, stages, totals, incomplete, disagreements, modules, and the spec re-attached
        for field in dataclasses.fields(cold_audit.analysis):
            assert getattr(warm_audit.analysis, field.name) == getattr(cold_audit.analysis, field.name), field.name
    assert run_json(warm) == run_json(shipped_run)  # and so every verdict and diagnosis


def test_a_run_writes_what_the_next_reuses(write_spec: Callable[[str, str], Path], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    a = write_spec(spec_text(LENET, id="a"), "a.yaml")
    b = write_spec(spec_text(LENET.replace("out_channels: 16", "out_channels: 12"), id="b"), "b.yaml")
    cache = AnalysisCache(tmp_path / "cache")
    cold = audit_paths([a, b])
    first = audit_paths([a, b], cache=cache)
    assert first.cache is not None and (first.cache.reused, first.cache.analysed) == (0, 2)
    assert len(list(cache.directory.iterdir())) == 2
    # b's conv2: 12 maps of 5x5x6 weights plus 12 biases = 1,812 (LeNet's 16 give 2,416)
    assert [x.analysis.layer("conv2").params for x in first.audits] == [2416, 1812]
    assert [x.analysis for x in first.audits] == [x.analysis for x in cold.audits]
    # one spec edited (a layer): it alone is measured again
    b.write_text(spec_text(LENET.replace("out_channels: 16", "out_channels: 8"), id="b"))
    second = audit_paths([a, b], cache=cache)
    assert second.cache is not None and (second.cache.reused, second.cache.analysed) == (1, 2)
    assert second.audits[1].analysis.layer("conv2").params == 8 * 5 * 5 * 6 + 8
    # a claim edited: the entry is reused and the claim is judged afresh
    a.write_text(spec_text(LENET, id="a", claims="  - {id: p, kind: params, target: conv2, claimed: 2416, where: x}\n"))
    _no_measuring(monkeypatch)
    third = audit_paths([a, b], cache=cache)
    assert third.cache is not None and third.cache.reused == 2
    assert [str(c.verdict) for c in third.audits[0].claims] == ["holds"]


def test_without_a_cache_nothing_is_read_or_written(write_spec: Callable[[str, str], Path]) -> None:
    run = audit_paths([write_spec(spec_text(LENET), "a.yaml")])
    assert run.cache is None and len(run.audits) == 1


# ---------------------------------------------------------------- damaged entries and directories


@pytest.fixture(scope="module")
def lenet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditRun]:
    """A LeNet spec and its audit without a cache (measured once for the module's tests)."""
    path = tmp_path_factory.mktemp("lenet") / "lenet.yaml"
    path.write_text(spec_text(LENET), encoding="utf-8")
    return path, audit_paths([path])


def _entry(cache: AnalysisCache, path: Path) -> Path:
    return cache.entry(cache_key(load_spec(path), Stamp.installed()))


def _store(cache: AnalysisCache, lenet: tuple[Path, AuditRun]) -> None:
    """The entry a run with `cache` would have written for the LeNet, from its audit without one."""
    path, cold = lenet
    assert cache.write(cache_key(load_spec(path), Stamp.installed()), cold.audits[0].analysis) is None


def _resign_bytes(raw: bytes, edit: Callable[[bytes], bytes]) -> bytes:
    """Edit the payload and give it a matching checksum: only the strict parse can refuse it."""
    import hashlib

    head, _, payload = raw.partition(b"\n")
    new = edit(payload)
    header = {**json.loads(head), "sha256": hashlib.sha256(new).hexdigest()}
    return json.dumps(header).encode() + b"\n" + new


def _resign(raw: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    def on_body(payload: bytes) -> bytes:
        body = json.loads(payload)
        edit(body)
        return json.dumps(body).encode()

    return _resign_bytes(raw, on_body)


def _set_params(body: dict[str, Any], value: Any) -> None:
    body["layers"][0]["params"] = value


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "garbage": lambda raw: bytes(range(256)) * 4,
    "a figure edited": lambda raw: raw.replace(b'"params":456', b'"params":457', 1),
    "a string for a figure": lambda raw: _resign(raw, lambda b: _set_params(b, "456")),
    "a float for a figure": lambda raw: _resign(raw, lambda b: _set_params(b, 456.0)),
    "a boolean for a figure": lambda raw: _resign(raw, lambda b: _set_params(b, True)),
    "an unknown field": lambda raw: _resign(raw, lambda b: b["totals"].update(extra=1)),
    "a missing field": lambda raw: _resign(raw, lambda b: b["totals"].pop("macs")),
    "another network's layers": lambda raw: _resign(raw, lambda b: b["layers"].pop()),
    "another key inside": lambda raw: raw.replace(raw[raw.index(b'"key":"') + 7:][:64], b"f" * 64, 1),
    "another format": lambda raw: raw.replace(b'"format":1', b'"format":2', 1),
    "a figure of 31 digits": lambda raw: _resign(raw, lambda b: _set_params(b, 10**30 + 1)),
    "a NaN": lambda raw: _resign(raw, lambda b: b["modules"][1].update(p=float("nan"))),
    "deep nesting": lambda raw: _resign_bytes(raw, lambda p: p.replace(b'"incomplete":[]', b'"incomplete":' + b"[" * 5000
                                                                         + b"]" * 5000)),
}

REASONS = {
    "truncated": "checksum does not match",
    "empty": "Invalid JSON",
    "garbage": "Invalid JSON",
    "a figure edited": "checksum does not match",
    "a string for a figure": "valid integer",
    "a float for a figure": "valid integer",
    "a boolean for a figure": "valid integer",
    "an unknown field": "Unexpected keyword argument",
    "a missing field": "Field required",
    "another network's layers": "its layers are not this spec's",
    "another key inside": "another key or format",
    "another format": "another key or format",
    "a figure of 31 digits": "a figure beyond 1e+30",
    "a NaN": "finite number",
    "deep nesting": "recursion limit",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_entry_is_measured_afresh_and_replaced(damage: str, lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, cold = lenet
    cache = AnalysisCache(tmp_path / "cache")
    _store(cache, lenet)
    entry = _entry(cache, path)
    raw = entry.read_bytes()
    assert b'"params":456' in raw  # conv1: 6 maps of 5x5x3 weights plus 6 biases = 456
    entry.write_bytes(DAMAGE[damage](raw))
    run = audit_paths([path], cache=cache)
    assert run.cache is not None and run.cache.reused == 0
    assert [a.analysis for a in run.audits] == [a.analysis for a in cold.audits]
    assert len(run.cache.notes) == 1 and run.cache.notes[0].startswith(f"analysis cache: ignored {entry}: ")
    assert REASONS[damage] in run.cache.notes[0]
    assert run.cache.notes[0].endswith("; measured afresh") and "\n" not in run.cache.notes[0]
    assert entry.read_bytes() == raw  # replaced by the fresh measurement
    again = audit_paths([path], cache=cache)
    assert again.cache is not None and (again.cache.reused, again.cache.notes) == (1, ())


def test_an_entry_over_the_size_bound_is_not_read_whole(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, cold = lenet
    cache = AnalysisCache(tmp_path / "cache")
    entry = _entry(cache, path)
    entry.parent.mkdir()
    with entry.open("wb") as f:
        f.truncate(MAX_ENTRY_BYTES + 4096)  # sparse: costs no disk
    run = audit_paths([path], cache=cache)
    assert run.cache is not None and "larger than" in run.cache.notes[0]
    assert [a.analysis for a in run.audits] == [a.analysis for a in cold.audits]


def test_an_entry_that_is_not_a_regular_file(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, cold = lenet
    cache = AnalysisCache(tmp_path / "cache")
    entry = _entry(cache, path)
    entry.parent.mkdir()
    os.mkfifo(entry)  # a reader that opened it blocking would wait forever
    run = audit_paths([path], cache=cache)
    assert run.cache is not None and run.cache.reused == 0
    assert "not a regular file" in run.cache.notes[0]
    assert [a.analysis for a in run.audits] == [a.analysis for a in cold.audits]


def test_a_file_where_the_directory_should_be(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, cold = lenet
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory")
    run = audit_paths([path], cache=AnalysisCache(blocker))
    assert run.cache is not None and run.cache.reused == 0
    assert run.cache.notes == (f"analysis cache: cannot read {blocker}: not a directory; measured afresh",
                               f"analysis cache: cannot write to {blocker}: Not a directory; this run's measurements "
                               "are not kept")
    assert [a.analysis for a in run.audits] == [a.analysis for a in cold.audits]
    assert blocker.read_text() == "not a directory"


def test_a_directory_that_refuses_access(lenet: tuple[Path, AuditRun], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Mode bits do not stop root (the suite may run as root): the refusal is the system's answer itself."""
    path, cold = lenet
    cache = AnalysisCache(tmp_path / "cache")
    _store(cache, lenet)
    real_open = os.open

    def refuse(file: Any, *args: Any, **kwargs: Any) -> int:
        if str(file).startswith(str(cache.directory)):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    run = audit_paths([path], cache=cache)
    assert run.cache is not None and run.cache.reused == 0
    assert run.cache.notes[0] == (f"analysis cache: ignored {_entry(cache, path)}: cannot read the cache entry: "
                                  "Permission denied; measured afresh")
    assert run.cache.notes[1].startswith(f"analysis cache: cannot write to {cache.directory}: ")
    assert [a.analysis for a in run.audits] == [a.analysis for a in cold.audits]


def test_one_note_for_a_directory_that_refuses_writes(write_spec: Callable[[str, str], Path], tmp_path: Path) -> None:
    paths = [write_spec(spec_text(LENET, id=f"s{i}"), f"s{i}.yaml") for i in range(2)]
    paths[1].write_text(spec_text(LENET.replace("out_channels: 16", "out_channels: 8"), id="s1"))
    blocker = tmp_path / "cache"
    blocker.write_text("")
    run = audit_paths(paths, cache=AnalysisCache(blocker))
    assert run.cache is not None and sum("cannot write" in n for n in run.cache.notes) == 1
    assert len(run.audits) == 2 and run.exit_code == 0


def test_an_entry_too_large_to_read_back_is_not_written(lenet: tuple[Path, AuditRun], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import alexnet_audit.cache as cache_module

    path, cold = lenet
    size = len(encode("0" * 64, cold.audits[0].analysis))
    monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", size - 1)
    cache = AnalysisCache(tmp_path / "cache")
    run = audit_paths([path], cache=cache)
    assert run.cache is not None and run.cache.notes == () and not cache.directory.exists()


# ---------------------------------------------------------------- the command line


def _compare(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["compare", *args], env=env)


def test_the_run_says_which_directory_and_how_many_specs_it_reused(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, _ = lenet
    where = tmp_path / "c"
    first = _compare(str(path), "--cache-dir", str(where))
    assert first.exit_code == 0, first.output
    assert f"analysis cache: {where} (0 of 1 spec reused)" in first.stderr.splitlines()
    second = _compare(str(path), "--cache-dir", str(where))
    assert f"analysis cache: {where} (1 of 1 spec reused)" in second.stderr.splitlines()
    assert second.stdout == first.stdout


@pytest.mark.parametrize("command", ["inspect", "check", "report"])
def test_every_auditing_command_takes_the_cache(command: str, lenet: tuple[Path, AuditRun], tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    path, _ = lenet
    if command == "report":
        request.getfixturevalue("quick_charts")  # the report's files are not the subject here
    where = tmp_path / "c"
    extra = ["-o", str(tmp_path / "reports")] if command == "report" else []
    for reused in (0, 1):
        result = runner.invoke(app, [command, str(path), *extra, "--cache-dir", str(where)])
        assert f"analysis cache: {where} ({reused} of 1 spec reused)" in result.stderr.splitlines(), result.output


def test_no_cache_measures_and_writes_nothing(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, _ = lenet
    where = tmp_path / "c"
    result = _compare(str(path), "--no-cache", env={"ALEXNET_AUDIT_CACHE_DIR": str(where)})
    assert (result.exit_code, result.stderr) == (0, "") and not where.exists()
    by_env = _compare(str(path), env={"ALEXNET_AUDIT_NO_CACHE": "1", "ALEXNET_AUDIT_CACHE_DIR": str(where)})
    assert (by_env.exit_code, by_env.stderr, by_env.stdout) == (0, "", result.stdout) and not where.exists()


def test_the_default_directory_follows_xdg(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    home = Path.home()
    assert default_dir({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/alexnet-audit")
    assert default_dir({"XDG_CACHE_HOME": "relative/dir"}) == home / ".cache" / "alexnet-audit"  # XDG: ignored
    assert default_dir({}) == home / ".cache" / "alexnet-audit"
    path, _ = lenet
    result = _compare(str(path), env={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert f"analysis cache: {tmp_path / 'xdg' / 'alexnet-audit'} (0 of 1 spec reused)" in result.stderr.splitlines()
    assert len(list((tmp_path / "xdg" / "alexnet-audit").glob("*.json"))) == 1


def test_help_names_the_options_and_their_environment_variables() -> None:
    for command in ("compare", "inspect", "check", "report"):
        shown = " ".join(runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout.split())
        assert "--cache-dir DIR" in shown and "ALEXNET_AUDIT_CACHE_DIR" in shown
        assert "--no-cache" in shown and "ALEXNET_AUDIT_NO_CACHE" in shown


def test_an_all_hit_run_imports_neither_torch_nor_fvcore(shipped_run: AuditRun, tmp_path: Path) -> None:
    cache = AnalysisCache(tmp_path / "cache")
    _fill(cache, shipped_run)
    code = ("import sys\nfrom alexnet_audit.cli import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print(e.code, 'torch' in sys.modules, 'fvcore' in sys.modules, file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALEXNET_AUDIT_")}
    # its counterpart (the post's prose) and its same_as reference (the paper) are read from beside it
    spec = ROOT / "specs" / "seed003-alexnet-code.yaml"
    out = tmp_path / "run.json"
    done = subprocess.run([sys.executable, "-c", code, "compare", str(spec), "--cache-dir", str(cache.directory), "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env={**env, "PYTHONPATH": str(ROOT)})
    lines = done.stderr.splitlines()
    assert f"analysis cache: {cache.directory} (1 of 1 spec reused)" in lines, done.stderr
    assert lines[-1] == "1 False False"  # exit 1: the posts' failing claims
    shipped = next(s for s in json.loads(run_json(shipped_run))["specs"] if s["id"] == "seed003-alexnet-code")
    assert json.loads(out.read_text())["specs"] == [shipped]  # same_as and code-vs-prose judged as with all specs given


def test_a_spec_that_cannot_be_measured_is_not_counted_or_stored(lenet: tuple[Path, AuditRun], tmp_path: Path,
                                                                   write_spec: Callable[[str, str], Path]) -> None:
    path, _ = lenet
    # conv1 (kernel 5) gives 32 - 4 = 28, pool1 28 / 2 = 14: a 15x15 kernel for conv2 does not fit
    impossible = write_spec(spec_text(LENET.replace("out_channels: 16, kernel: 5", "out_channels: 16, kernel: 15"),
                                      id="bad"), "bad.yaml")
    cache = AnalysisCache(tmp_path / "c")
    run = audit_paths([path, impossible], cache=cache)
    assert [b.path for b in run.broken] == [str(impossible)] and "conv2" in str(run.broken[0].error)
    assert run.cache is not None and (run.cache.reused, run.cache.analysed) == (0, 1)
    assert len(list(cache.directory.iterdir())) == 1
    only_bad = runner.invoke(app, ["compare", str(impossible), "--cache-dir", str(cache.directory)])
    assert only_bad.exit_code == 2 and len(only_bad.stderr.splitlines()) == 1  # a bad spec is one line, no cache line


def test_an_input_override_has_entries_of_its_own(lenet: tuple[Path, AuditRun], tmp_path: Path) -> None:
    path, _ = lenet
    cache = AnalysisCache(tmp_path / "c")
    wide = audit_paths([path], input_shape=(3, 36, 36), cache=cache)
    own = audit_paths([path], cache=cache)
    assert own.cache is not None and own.cache.reused == 0  # the 36x36 entry is not the spec's own input's
    # conv1, kernel 5: 36 - 4 = 32 on the override, 32 - 4 = 28 on the spec's own input
    assert [a.analysis.layer("conv1").output_shape for a in (*wide.audits, *own.audits)] == [(6, 32, 32), (6, 28, 28)]
    again = audit_paths([path], input_shape=(3, 36, 36), cache=cache)
    assert again.cache is not None and again.cache.reused == 1
    assert again.audits[0].analysis.layer("conv1").output_shape == (6, 32, 32)


def test_the_report_footer_reads_torchs_version_without_importing_it() -> None:
    # In a fresh interpreter: this one has torch loaded already, so only there can its absence show.
    # Nor matplotlib or pandas: they are imported where a chart or a table is drawn, so that the
    # test modules that import the renderer do not load them at collection.
    code = ("import sys; from alexnet_audit.render.markdown import Versions; "
            "print(Versions.installed().torch, [m for m in ('torch', 'matplotlib', 'pandas') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    import torch

    assert done.stdout.split() == [torch.__version__.split("+")[0], "[]"]  # what the footer said when it imported torch
