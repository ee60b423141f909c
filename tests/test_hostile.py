"""Hostile and careless input (issue 10): every promise holds, for every command.

One regression test per class and per example of the issue, and hypothesis properties over the
strategies in hostile_strategies.py. Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import math
import tempfile
import os
import re
import signal
import stat
import threading
import tracemalloc
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from alexnet_audit import atomic
from alexnet_audit.arith import ArithError, evaluate, parse_figure
from alexnet_audit.atomic import LOCK_NAME, clean_leftovers, locked, write_all, write_atomic
from alexnet_audit.audit import audit_paths
from alexnet_audit.baseline import gate, load_baseline
from alexnet_audit.cli import app
from alexnet_audit.errors import AuditError
from alexnet_audit.render.junit import junit_xml
from alexnet_audit.render.markdown import Versions, spec_page, stale
from alexnet_audit.render.safe import markdown_text, plain, xml_text
from alexnet_audit.spec import MAX_SPEC_BYTES, load_spec, spec_from_text
from alexnet_audit.train.record import load_record
from alexnet_audit.train.run import TrainOptions
from conftest import examples
from hostile_strategies import BAD_BASELINES, BASE, bad_baseline, bad_value_spec, dump, hostile_text_spec, with_value

runner = CliRunner()
VERSIONS = Versions("test", "test")


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert lines, stderr
    assert "Traceback" not in stderr
    return lines[0]


def _load_error(text: str) -> str:
    with pytest.raises(AuditError) as info:
        spec_from_text(text, "spec.yaml")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_base_spec_is_valid_and_its_claims_hold_as_worked_out(tmp_path: Path) -> None:
    # conv1: 1*2*3*3 + 2 = 20 params, 12x12x2 out; fc: 2*6*6 = 72 inputs x 4 outputs = 288 MACs.
    path = tmp_path / "hostile.yaml"
    path.write_text(dump(BASE))
    run = audit_paths([path])
    verdicts = {c.id: c.verdict.value for c in run.audits[0].claims}
    assert verdicts["conv1-params"] == verdicts["conv1-shape"] == verdicts["fc-macs"] == verdicts["count"] == "holds"


# ---------------------------------------------------------------- 10.1 spec text is data


def _html(page: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(page)


_OUR_LINK = re.compile(r'^[a-z0-9-]+\.(md|png)$')


def _assert_no_injection(page: str) -> None:
    html = _html(page)
    for href in re.findall(r'<a href="([^"]*)"', html):
        assert _OUR_LINK.match(href), href  # only the report's own pages
    for src in re.findall(r'<img src="([^"]*)"', html):
        assert _OUR_LINK.match(src), src  # only the report's own charts: nothing remote to fetch
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"p", "h1", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "code", "strong", "em", "ul",
                    "li", "a", "img", "br", "hr", "ol", "blockquote", "pre"}, tags
    outside_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    assert "evil.example" not in outside_code  # a URL, www. name or address outside code could be linkified


def test_markdown_never_forms_links_images_or_html() -> None:
    hostile = ("[x](https://evil.example/) ![i](https://evil.example/p.png) <img src=x onerror=alert(1)> "
               "<https://evil.example/> www.evil.example user@evil.example **b** `c|d` \x1b[2J \u202e")
    safe = markdown_text(hostile)
    _assert_no_injection(safe)
    assert "\x1b" not in safe and "\u202e" not in safe
    assert "\\\\x1b" in safe  # the escape is shown as written: \x1b, its backslash escaped for markdown


def test_plain_escapes_every_control_the_issue_names() -> None:
    assert plain("a\x1b]52;c;ZXZpbA==\x07b") == "a\\x1b]52;c;ZXZpbA==\\x07b"  # OSC 52 clipboard write
    assert plain("\x00\x7f\x9b\u202e\udcff") == "\\x00\\x7f\\x9b\\u202e\\xff"  # the last: a non-UTF-8 byte
    assert plain("\n\t") == "\\x0a\\x09"


def test_xml_text_keeps_the_file_parseable() -> None:
    text = "".join(chr(c) for c in range(32)) + "\ufffe\uffff\udcff ok"
    element = ET.Element("x", a=xml_text(text))
    element.text = xml_text(text)
    parsed = ET.fromstring(ET.tostring(element, encoding="unicode"))
    assert parsed.text is not None and parsed.text.endswith(" ok")


@settings(max_examples=examples(12))
@given(case=hostile_text_spec)
def test_hostile_text_never_injects_into_markdown_or_junit(case: tuple[Any, str, str], tmp_path_factory: Any) -> None:
    path_, text, spec_yaml = case
    spec_file = tmp_path_factory.mktemp("h") / "hostile.yaml"
    spec_file.write_text(spec_yaml, encoding="utf-8")
    run = audit_paths([spec_file])
    if run.broken:  # only when the text is refused by its field's own rule (a claimed statement, a seed)
        assert "\n" not in str(run.broken[0].error)
        return
    page = spec_page(run.audits[0], paper=None, training=None, known={"hostile"}, versions=VERSIONS)
    _assert_no_injection(page)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", page)
    ET.fromstring(junit_xml(gate(run, None)))  # always parses


def test_every_command_shows_hostile_text_without_a_traceback(tmp_path: Path, quick_charts: None) -> None:
    doc = with_value(("title",), "[red]t[/] [link=https://evil.example/]x[/link] [/] \x1b[2J\x07 ![i](https://evil.example/p.png)")
    doc["notes"] = "<script>alert(1)</script> [x](https://evil.example/)"
    doc["claims"][0]["where"] = "\x00\x0c]]>"
    spec = tmp_path / "hostile.yaml"
    spec.write_text(dump(doc), encoding="utf-8")
    for command in (["compare", str(spec)], ["inspect", str(spec)]):
        code, out, err = _invoke(*command)
        assert code == 0 and "Traceback" not in err  # the claims hold as in BASE: only the text changed
        assert "\x1b" not in out and "\x07" not in out  # never sent to the terminal
        assert command[0] == "compare" or "\\x1b" in out  # inspect shows the title, escaped
    junit, out = tmp_path / "j.xml", tmp_path / "report"
    code, _, _ = _invoke("check", str(spec), "--junit", str(junit), "--json", str(tmp_path / "c.json"))
    assert code == 0
    ET.parse(junit)
    json.loads((tmp_path / "c.json").read_text())
    assert _invoke("report", str(spec), "-o", str(out))[0] == 0
    _assert_no_injection((out / "hostile.md").read_text())
    _assert_no_injection((out / "index.md").read_text())


# ---------------------------------------------------------------- 10.3 every value validated at load


@pytest.mark.parametrize("path, value", [
    (("input", 0), True), (("layers", 0, "out_channels"), True), (("layers", 0, "kernel"), True),
    (("claims", 0, "claimed"), True), (("claims", 5, "claimed"), False), (("training", "lr"), True),
    (("layers", 3, "p"), False), (("claims", 2, "tolerance"), True),
])
def test_booleans_are_not_numbers(path: tuple[Any, ...], value: bool) -> None:
    assert "a boolean where a number or text belongs" in _load_error(dump(with_value(path, value)))


def test_yaml_yes_and_on_are_refused_as_the_issue_writes_them() -> None:
    text = dump(BASE).replace("input:\n- 1\n", "input:\n- yes\n").replace("out_channels: 2", "out_channels: on")
    assert "input.0: a boolean" in _load_error(text)
    text = dump(BASE).replace("out_channels: 2", "out_channels: on")
    assert "out_channels: a boolean" in _load_error(text)


@pytest.mark.parametrize("claim, claimed", [(3, "ninety-nine percent"), (4, "much faster"), (4, 0), (4, -2),
                                            (3, "(1+2"), (3, ".nan")])
def test_training_and_speedup_figures_are_read_at_load(claim: int, claimed: Any) -> None:
    _load_error(dump(with_value(("claims", claim, "claimed"), claimed)))


@pytest.mark.parametrize("field, value", [("lr", float("inf")), ("lr", float("nan")), ("lr", -0.1), ("lr", 0),
                                          ("momentum", 1.0), ("momentum", -0.1), ("weight_decay", float("nan")),
                                          ("weight_decay", 2.0)])
def test_training_settings_are_finite_and_in_range(field: str, value: float) -> None:
    _load_error(dump(with_value(("training", field), value)))


@pytest.mark.parametrize("counterpart", ["../../etc/passwd", "a\x00b", "x/y", "/abs", "UPPER", ""])
def test_counterpart_is_a_spec_id(counterpart: str) -> None:
    _load_error(dump(with_value(("source", "counterpart"), counterpart)))


@pytest.mark.parametrize("path", [("claims", 6, "check", "kernel"), ("claims", 5, "claimed"), ("claims", 0, "claimed")])
def test_integers_beyond_any_figure_are_refused(path: tuple[Any, ...]) -> None:
    message = _load_error(dump(with_value(path, 10**40)))
    # A structure check is one of several shapes: pydantic names the first shape's complaint.
    assert "10^30" in message or path[2] == "check"
    text = dump(with_value(path, 7)).replace(": 7\n", ": " + "9" * 5000 + "\n", 1)  # 5,000 digits: YAML cannot read it
    assert "digits" in _load_error(text)


@settings(max_examples=examples(40))
@given(bad_value_spec)
def test_every_numeric_field_refuses_booleans_non_finite_and_oversized_values(case: tuple[Any, Any, str]) -> None:
    _load_error(case[2])


@pytest.mark.parametrize("name", sorted(BAD_BASELINES))
def test_bad_baseline_is_one_located_line(name: str, tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(BAD_BASELINES[name]())
    with pytest.raises(AuditError) as info:
        load_baseline(path)
    assert info.value.file == str(path) and "\n" not in str(info.value) and "\x1b" not in str(info.value)


def test_bad_baseline_through_check_exits_2(tmp_path: Path) -> None:
    spec, base = tmp_path / "hostile.yaml", tmp_path / "b.json"
    spec.write_text(dump(BASE))
    base.write_text(BAD_BASELINES["verdict is a list"]())
    code, _, err = _invoke("check", str(spec), "--baseline", str(base))
    assert code == 2 and "is not a verdict" in _one_error_line(err)


@settings(max_examples=examples(9))
@given(bad_baseline)
def test_check_refuses_every_hostile_baseline_in_one_line(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec, base = Path(tmp) / "hostile.yaml", Path(tmp) / "b.json"
        spec.write_text(dump(BASE))
        base.write_text(BAD_BASELINES[name]())
        code, _, err = _invoke("check", str(spec), "--baseline", str(base))
        assert code == 2 and "b.json" in _one_error_line(err)


def _record(tmp_path: Path) -> dict[str, Any]:
    source = Path(__file__).resolve().parent.parent / "reports" / "training"
    first = sorted(source.glob("*.json"))[0]
    return json.loads(first.read_text())


@pytest.mark.parametrize("change", ["huge int", "bool for int", "deep", "string for float", "nan accuracy", "long list"])
def test_bad_training_record_is_one_located_line(change: str, tmp_path: Path) -> None:
    record = _record(tmp_path)
    if change == "huge int":
        text = json.dumps(record).replace('"classes": ', '"classes": ' + "9" * 5000 + ", \"_x\": ", 1)
    elif change == "bool for int":
        record["data"]["classes"] = True
        text = json.dumps(record)
    elif change == "deep":
        text = json.dumps(record)[:-1] + ', "curves2": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif change == "string for float":
        record["metrics"]["chance"] = "high"
        text = json.dumps(record)
    elif change == "nan accuracy":
        text = json.dumps(record).replace('"chance": ', '"chance": NaN, "_y": ', 1)
    else:
        record["checks"] = [record["checks"][0]] * 1000
        text = json.dumps(record)
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(AuditError) as info:
        load_record(path)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- 10.4 bounded work


def test_tiny_values_are_bounded_like_huge_ones() -> None:
    # (10^-29)^64 = 10^-1856: refused at the first power, before the next one squares its digits.
    with pytest.raises(ArithError, match="too small"):
        evaluate("((((1/10^29)^64)^64)^64)^64")
    with pytest.raises(ArithError):
        evaluate("(1/3)^64/(1/3)^64")  # 3^64 has 31 digits: a denominator beyond 10^30
    assert evaluate("1/10^30") == Fraction(1, 10**30)  # the bound itself still evaluates
    with pytest.raises(ArithError):
        parse_figure("0." + "0" * 40 + "1")
    with pytest.raises(ArithError):
        parse_figure(10**5000)


def _without_hanging(call: Callable[[], Any]) -> Any:
    """Run `call` in a thread: a regression that blocks fails the test instead of hanging the suite."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "blocked"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_spec_reader_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with pytest.raises(AuditError, match="not a regular file"):
        _without_hanging(lambda: load_spec(fifo))


def test_spec_reader_refuses_dev_zero_and_directories(tmp_path: Path) -> None:
    for path in (Path("/dev/zero"), tmp_path):
        with pytest.raises(AuditError, match="not a regular file"):
            _without_hanging(lambda: load_spec(path))


def test_spec_reader_reads_at_most_the_limit_plus_one_byte(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(3 * 10**9)  # a 3 GB file (sparse: no disk used)
    tracemalloc.start()
    try:
        with pytest.raises(AuditError, match="larger than"):
            load_spec(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_SPEC_BYTES  # the limit plus one byte, in 64 KiB chunks joined once


def test_diagnosing_plans_each_reading_once_however_many_claims_fail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import alexnet_audit.diagnose.readings as diagnose

    def spec_with(claims: int) -> Path:
        doc = with_value(("claims",), [{"id": f"p{i}", "kind": "params", "target": "conv1", "claimed": 21 + i, "where": "x"}
                                       for i in range(claims)])
        path = tmp_path / f"c{claims}.yaml"
        path.write_text(dump(doc))
        return path

    calls: list[int] = []
    real = diagnose.variant_rows
    monkeypatch.setattr(diagnose, "variant_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
    counts = []
    for n in (1, 10):
        calls.clear()
        run = audit_paths([spec_with(n)])
        assert sum(c.verdict.value == "fails" for c in run.audits[0].claims) == n
        counts.append(len(calls))
    # conv1 (pad 1, 3x3 on 12x12): 'same' keeps 12x12 and is skipped; 'valid' gives 10x10, one re-plan;
    # the pool's 'same' keeps 6x6, skipped. One re-plan, for one claim or for ten.
    assert counts == [1, 1]


# ---------------------------------------------------------------- 10.5 train refuses what it cannot hold


@pytest.mark.parametrize("option, value", [("steps", 10_000_000_000), ("seed", 99999999999999999999), ("seed", -1),
                                           ("budget_s", math.inf), ("budget_s", math.nan), ("epochs", 1_000_000_000),
                                           ("max_memory_gib", math.inf), ("max_memory_gib", 0.0), ("steps", True)])
def test_train_options_are_validated(option: str, value: Any) -> None:
    with pytest.raises(AuditError) as info:
        TrainOptions(**{option: value})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("args", [["--steps", "10000000000"], ["--seed", "99999999999999999999"], ["--budget", "inf"],
                                  ["--epochs", "1000000000"], ["--max-memory", "nan"]])
def test_train_cli_refuses_careless_options_in_one_line(args: list[str], tmp_path: Path) -> None:
    spec = tmp_path / "hostile.yaml"
    spec.write_text(dump(BASE))
    code, _, err = _invoke("train", str(spec), "--out", str(tmp_path / "out"), *args)
    assert code == 2
    assert not (tmp_path / "out").exists()


def test_step_memory_by_hand() -> None:
    from alexnet_audit.train.memory import step_memory

    spec = spec_from_text(dump(BASE))
    need = step_memory(spec, batch=8, optimiser="sgd", momentum=0.9, data_bytes=1000, steps=100)
    # params: conv1 20 + fc 72*4+4 = 292 = 312; two copies of the model (memorisation), fp32.
    assert need.weights == 4 * 312 * 2 and need.gradients == 4 * 312 * 2 and need.optimiser == 4 * 312 * 2
    # values per sample: input 144; conv1 288, relu 288, pool 72, dropout 72, flatten 72, fc 4 = 940 (with the input)
    assert need.activations == 4 * (144 + 288 + 288 + 72 + 72 + 72 + 4) * 8 * 3
    assert need.buffers == 2 * 4 * 100 and need.data == 1000
    adam = step_memory(spec, batch=8, optimiser="adam", momentum=0.0, data_bytes=0, steps=1)
    plain_sgd = step_memory(spec, batch=8, optimiser="sgd", momentum=0.0, data_bytes=0, steps=1)
    assert adam.optimiser == 2 * 4 * 312 * 2 and plain_sgd.optimiser == 0


def test_train_refuses_a_run_over_the_memory_limit_before_allocating(tmp_path: Path) -> None:
    doc = with_value(("training", "batch_size"), 1024)
    doc["input"] = [1, 64, 64]
    spec = tmp_path / "hostile.yaml"
    spec.write_text(dump(doc))
    # Values per sample: input 4,096; conv1 2x64x64 = 8,192, relu 8,192; pool 2,048, dropout 2,048,
    # flatten 2,048; fc 4: 26,628, x 4 bytes x 3 = 319,536 bytes. The digits set keeps 4 classes of
    # about 180 images, 80% for training: a batch of at least 500, so at least 159.8 MB > 0.1 GiB.
    code, _, err = _invoke("train", str(spec), "--out", str(tmp_path / "out"), "--max-memory", "0.1", "--device", "cpu")
    assert code == 2
    assert "training needs about" in _one_error_line(err) and "--max-memory" in err
    assert not (tmp_path / "out").exists()


def test_decompression_bomb_in_an_image_folder_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from alexnet_audit.train.data import load_data

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (40, 40)).save(tmp_path / name / "x.png")
    # 40 x 40 = 1,600 pixels, over twice a 700-pixel limit: PIL raises DecompressionBombError.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 700)
    with pytest.raises(AuditError) as info:
        load_data(str(tmp_path), (3, 8, 8), 2, 0)
    assert info.value.file is not None and info.value.file.endswith("x.png")


# ---------------------------------------------------------------- 10.6 output files


def test_a_fifo_target_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    # The read end is open before the write looks for a reader. A reader thread started just
    # before it could still be short of its open(), and finding no reader write_atomic refuses
    # (the next test): this failed a CI run under load. Seven bytes wait in the pipe's buffer.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        _without_hanging(lambda: write_atomic(fifo, b"through"))
        got = os.read(reader, 64)
    finally:
        os.close(reader)
    assert got == b"through" and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_nobody_reads_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    with pytest.raises(AuditError, match="no reader"):
        _without_hanging(lambda: write_atomic(fifo, b"x"))


def test_a_character_device_stays_one() -> None:
    write_atomic(Path("/dev/null"), b"x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_directory_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="directory"):
        write_atomic(tmp_path, b"x")


def test_a_symlink_keeps_pointing_at_the_new_file(tmp_path: Path) -> None:
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_bytes(b"old")
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_dash_is_standard_output(tmp_path: Path) -> None:
    spec = tmp_path / "hostile.yaml"
    spec.write_text(dump(BASE))
    code, out, _ = _invoke("check", str(spec), "--json", "-")
    assert code == 0
    doc = json.loads(out[out.index("{"):])
    assert doc["specs"][0]["id"] == "hostile"


def test_a_set_that_fails_leaves_every_old_file_and_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"old a")
    (tmp_path / "b.md").mkdir()  # the second target cannot be replaced
    with pytest.raises(AuditError):
        write_all(tmp_path, {"a.md": b"new a", "b.md": b"new b"})
    assert (tmp_path / "a.md").read_bytes() == b"old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.md"]


def test_a_set_failing_while_writing_temporaries_leaves_the_old_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_bytes(b"old")
    real = atomic._create_temp
    made: list[Path] = []

    def second_fails(target: Path, data: bytes) -> Path:
        if made:
            raise AuditError("disk full", file=str(target))
        made.append(real(target, data))
        return made[-1]

    monkeypatch.setattr(atomic, "_create_temp", second_fails)
    with pytest.raises(AuditError):
        write_all(tmp_path, {"a.md": b"new", "b.md": b"new"})
    assert [(tmp_path / n).read_bytes() for n in ("a.md", "b.md")] == [b"old", b"old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.md"]


def test_sigterm_while_writing_removes_the_temporaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_bytes(b"old")
    before = signal.getsignal(signal.SIGTERM)
    real_fsync = os.fsync

    def terminated(fd: int) -> None:
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGTERM)  # handled at once: raises Terminated

    monkeypatch.setattr(atomic.os, "fsync", terminated)
    with pytest.raises(SystemExit) as info:
        write_all(tmp_path, {"a.md": b"new", "b.md": b"new"})
    assert info.value.code == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"] and (tmp_path / "a.md").read_bytes() == b"old"
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is restored


def test_sigint_during_the_renames_waits_until_the_set_is_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace
    sent: list[int] = []

    def interrupted(src: Any, dst: Any) -> None:
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # held back until the last rename
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_all(tmp_path, {"a.md": b"new a", "b.md": b"new b"})
    assert [(tmp_path / n).read_bytes() for n in ("a.md", "b.md")] == [b"new a", b"new b"]


def test_leftovers_of_a_killed_run_are_cleaned_by_the_next(tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above Linux's default pid_max of 4,194,304: no such process
    leftover = tmp_path / f".a.md.aa{dead}-0123456789ab.tmp"
    live = tmp_path / f".a.md.aa{os.getppid()}-0123456789ab.tmp"  # a running process's file in progress
    mine = tmp_path / "notes.tmp"
    for p in (leftover, live, mine):
        p.write_bytes(b"x")
    write_atomic(tmp_path / "a.md", b"new")
    assert not leftover.exists() and live.exists() and mine.exists()
    assert clean_leftovers(tmp_path) == []


def test_a_locked_directory_is_waited_for_then_refused(tmp_path: Path) -> None:
    said: list[str] = []
    with locked(tmp_path):
        with pytest.raises(AuditError, match="another alexnet-audit run"):
            with locked(tmp_path, on_wait=said.append, wait_s=0.3):
                pass
    assert said and "waiting" in said[0]
    assert not (tmp_path / LOCK_NAME).exists()  # released and removed
    with locked(tmp_path):
        pass


def test_report_check_and_leftovers_never_open_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "index.md")
    os.mkfifo(tmp_path / "other.md")
    problems = _without_hanging(lambda: stale(tmp_path, {"index.md": b"x"}))
    assert problems == ["index.md: not a regular file"]


def test_report_writes_pages_and_removes_only_its_own(tmp_path: Path, quick_charts: None) -> None:
    a, b = with_value(("id",), "aa"), with_value(("id",), "bb")
    (tmp_path / "aa.yaml").write_text(dump(a))
    (tmp_path / "bb.yaml").write_text(dump(b))
    out = tmp_path / "r"
    assert _invoke("report", str(tmp_path / "aa.yaml"), str(tmp_path / "bb.yaml"), "-o", str(out))[0] == 0
    (out / "mine.md").write_text("my notes")
    assert _invoke("report", str(tmp_path / "aa.yaml"), "-o", str(out))[0] == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["aa.md", "aa.png", "index.md", "index.png", "mine.md"]
