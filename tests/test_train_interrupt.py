"""Ctrl-C during `alexnet-audit train` leaves the previous result intact and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

import alexnet_audit.cli as cli
from helpers import LENET, spec_text


def test_interrupted_training_keeps_the_previous_result(write_spec: Callable[..., Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = write_spec(spec_text(LENET, id="lenet"), "lenet.yaml")
    out = tmp_path / "training"
    out.mkdir()
    previous = out / "lenet.json"
    previous.write_text('{"recorded": "earlier"}')

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    import alexnet_audit.train.run as run  # cli imports it when `train` runs

    monkeypatch.setattr(run, "train_spec", interrupted)
    result = CliRunner().invoke(cli.app, ["train", str(spec), "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 130
    assert f"interrupted: the previous result {previous} is intact" in result.stderr
    assert previous.read_text() == '{"recorded": "earlier"}'
    assert sorted(p.name for p in out.iterdir()) == ["lenet.json"]  # no temporary file left behind
