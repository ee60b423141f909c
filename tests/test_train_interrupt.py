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


def test_an_interrupt_after_the_recipe_was_printed_still_keeps_the_previous_result(
        write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alexnet_audit.train.record import Recipe

    spec = write_spec(spec_text(LENET, id="lenet"), "lenet.yaml")
    out = tmp_path / "training"
    planned = Recipe(data="digits: built in, 10 classes", split="1,433 training images, 364 held out", steps=150,
                     epochs=3.35, batch_size=32, optimizer="sgd, momentum 0.9, weight decay 0", lr=0.01, device="cpu",
                     precision="fp32", world_size=1, budget_s=60.0, memorise_steps=75, departures=[])

    def told_then_interrupted(_spec: Any, _options: Any, _progress: Any, on_recipe: Callable[[Recipe], None]) -> None:
        on_recipe(planned)
        raise KeyboardInterrupt

    import alexnet_audit.train.run as run

    monkeypatch.setattr(run, "train_spec", told_then_interrupted)
    result = CliRunner().invoke(cli.app, ["train", str(spec), "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 130
    assert "lenet: will train" in result.stdout and "150 steps (3.35 epochs) of batch 32" in result.stdout
    assert "interrupted: no result was written" in result.stderr
    assert not out.exists() or not any(out.iterdir())
