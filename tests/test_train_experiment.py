"""The ReLU-vs-baseline speed-up experiment over seeds: each seed's ratio or bound, the median and
spread by hand, the agreement rule on constructed seeds, the no-measured-figure rule for runs on
other data, old single-race records, the renderers, and one tiny real run end to end."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from alexnet_audit.audit import audit_paths
from alexnet_audit.build import SpecNet, build_model
from alexnet_audit.errors import AuditError
from alexnet_audit.render.json_out import run_json
from alexnet_audit.render.markdown import Training, _training_section
from alexnet_audit.render.training import training_summary
from alexnet_audit.spec import spec_from_text
from alexnet_audit.train.data import load_data, to_device
from alexnet_audit.train.experiment import experiment_seeds, run_experiments, speedup_claims, steps_to_target
from alexnet_audit.train.findings import speedup_claim
from alexnet_audit.train.loop import LoopConfig, LoopResult, Runtime
from alexnet_audit.train.record import ExperimentRecord, TrainingRecord, load_record, record_json
from alexnet_audit.train.run import TrainOptions, train_spec
from alexnet_audit.train.speedup import Bounds, agreement, median_of, ratio_bounds, spread_of
from helpers import spec_text


pytestmark = pytest.mark.usefixtures("one_thread")

REPORTS = Path(__file__).resolve().parent.parent / "reports" / "training"
# A network the audit measures in a moment: only its speedup claim matters here.
LINEAR = "  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 10}\n"
SPEEDUP = "  - {id: fast, kind: speedup, claimed: 6, baseline: tanh, target_error: 0.25, dataset: cifar10, where: y}\n"


def _point(x: float) -> Bounds:
    return Bounds(x, x)


# ---------------------------------------------------------------- one seed's ratio, by hand


def test_a_seed_is_a_ratio_or_the_bound_its_short_run_gives() -> None:
    assert ratio_bounds(40, 120, 40, 120) == _point(3.0)  # 120 / 40
    assert ratio_bounds(40, None, 40, 150) == Bounds(3.75, None)  # tanh needs more than 150: above 150 / 40
    assert ratio_bounds(None, 90, 150, 90) == Bounds(0.0, 0.6)  # ReLU needs more than 150: below 90 / 150
    assert ratio_bounds(None, None, 150, 150) == Bounds(0.0, None)  # nothing known


def test_steps_to_target_read_off_the_per_step_accuracies() -> None:
    # window 3, target 25% error: after step 3 the mean accuracy is (0 + 0.5 + 1) / 3 = 0.5 (error 0.5);
    # after step 4, (0.5 + 1 + 1) / 3 = 0.833 (error 0.167 <= 0.25): step 4, though the loop ran 6.
    run = LoopResult((1.0,) * 6, (0.0, 0.5, 1.0, 1.0, 1.0, 1.0), 1.0, 10.0, "target")
    assert steps_to_target(run, 0.25, 3) == 4
    never = LoopResult((1.0,) * 5, (0.0, 0.5, 0.5, 0.5, 0.5), 1.0, 10.0, "budget")
    assert steps_to_target(never, 0.25, 3) is None


# ---------------------------------------------------------------- median and spread, by hand


def test_median_and_spread_of_points() -> None:
    seeds = [_point(3.0), _point(5.0), _point(4.0)]
    assert median_of(seeds) == _point(4.0)  # sorted 3, 4, 5
    assert spread_of(seeds) == Bounds(3.0, 5.0)  # min-max
    assert median_of([_point(2.0), _point(8.0), _point(4.0), _point(6.0)]) == _point(5.0)  # (4 + 6) / 2


def test_median_and_spread_with_bounds() -> None:
    # Low ends 3, 5, 0 -> median 3; high ends 3, unbounded, 4 -> median 4: the median lies in 3 to 4.
    seeds = [_point(3.0), Bounds(5.0, None), Bounds(0.0, 4.0)]
    assert median_of(seeds) == Bounds(3.0, 4.0)
    assert spread_of(seeds) == Bounds(0.0, None)  # the lowest low end, and an unbounded high end


# ---------------------------------------------------------------- the agreement rule (band 5.5 to 6.5)


def test_seeds_agreeing_above_the_band_fail() -> None:
    found = agreement([_point(7.0), _point(8.0), _point(9.0)], 6, 0.5)
    assert found.outcome == "fails" and found.why == "every one of 3 seeds above 5.5 to 6.5"


def test_seeds_agreeing_below_the_band_fail() -> None:
    found = agreement([_point(2.0), _point(3.0), Bounds(0.0, 5.0)], 6, 0.5)  # "below 5" is below 5.5
    assert found.outcome == "fails" and "below" in found.why


def test_seeds_within_the_band_hold() -> None:
    assert agreement([_point(5.5), _point(6.0), _point(6.5)], 6, 0.5).outcome == "holds"  # the edges included


def test_straddling_seeds_are_inconclusive() -> None:
    found = agreement([_point(5.0), _point(7.0), _point(6.0)], 6, 0.5)
    assert found.outcome == "inconclusive" and found.why.endswith("1 below, 1 within, 1 above")


def test_lower_bounds_count_only_when_they_clear_the_band() -> None:
    # tanh not within 130 steps where ReLU took 20: above 6.5, at the band's top edge; a bound is
    # open (tanh needs more than 130), so it is above the band.
    clear = [_point(7.0), Bounds(130 / 20, None), Bounds(10.0, None)]
    assert agreement(clear, 6, 0.5).outcome == "fails"
    # "above 3" may be 3.5 or 30: it straddles the band, and the seeds do not agree.
    short = [_point(7.0), _point(8.0), Bounds(3.0, None)]
    found = agreement(short, 6, 0.5)
    assert found.outcome == "inconclusive" and found.why.endswith("2 above, 1 straddles")
    assert agreement([_point(7.0), _point(8.0), Bounds(0.0, None)], 6, 0.5).outcome == "inconclusive"


def test_fewer_than_three_seeds_are_inconclusive_whatever_they_show() -> None:
    found = agreement([_point(7.0), _point(8.0)], 6, 0.5)
    assert found.outcome == "inconclusive" and "agreement needs at least 3" in found.why
    assert agreement([_point(6.0)], 6, 0.5).outcome == "inconclusive"


_steps = st.one_of(st.none(), st.integers(1, 400))
_race = st.tuples(_steps, _steps, st.integers(1, 400), st.integers(1, 400)).map(
    lambda t: ratio_bounds(t[0], t[1], max(t[2], t[0] or 0), max(t[3], t[1] or 0)))


@given(st.lists(_race, min_size=1, max_size=6), st.integers(1, 20), st.sampled_from([0.5, 0.05, 1.0]))
def test_an_outcome_never_contradicts_its_seeds(seeds: list[Bounds], claimed: int, tolerance: float) -> None:
    low, high = claimed - tolerance, claimed + tolerance
    found = agreement(seeds, claimed, tolerance)
    if found.outcome == "holds":
        assert len(seeds) >= 3 and all(b.point is not None and low <= b.point <= high for b in seeds)
    if found.outcome == "fails":
        above = all(b.low >= high for b in seeds)
        below = all(b.high is not None and b.high <= low for b in seeds)
        assert len(seeds) >= 3 and (above or below)
    assert agreement(seeds[::-1], claimed, tolerance).outcome == found.outcome  # the seeds' order does not matter
    m, r = median_of(seeds), spread_of(seeds)
    assert r.low <= m.low and (r.high is None or (m.high is not None and m.high <= r.high))


# ---------------------------------------------------------------- records and claims


def _seed(seed: int | None, relu: int | None, tanh: int | None, run: int = 150) -> dict[str, Any]:
    return {"seed": seed, "relu_steps": relu, "baseline_steps": tanh, "relu_steps_run": relu or run,
            "baseline_steps_run": tanh or run}


def _experiment(seeds: list[dict[str, Any]], data: str = "cifar10") -> dict[str, Any]:
    return {"baseline": "tanh", "target_error": 0.25, "data": data, "window": 10, "seeds": seeds,
            "claims": [{"claim": "fast", "claimed": 6.0, "tolerance": 0.5, "dataset": "cifar10",
                        "judges_claim": data == "cifar10"}]}


def _record(experiments: list[dict[str, Any]]) -> TrainingRecord:
    old = load_record(REPORTS / "seed004-tf1-code.json").model_dump(mode="json")
    return TrainingRecord.model_validate({**old, "spec": "t", "experiments": experiments})


def _claim() -> Any:
    return spec_from_text(spec_text(LINEAR, claims=SPEEDUP, input="[1, 8, 8]")).doc.claims[0]


AGREE = [_seed(0, 50, 310), _seed(1, 40, 250), _seed(2, 60, 370)]  # 6.2, 6.25, 6.17: all within 5.5 to 6.5


def test_agreeing_seeds_on_the_claims_data_judge_it() -> None:
    found = speedup_claim(_claim(), _record([_experiment(AGREE)]))
    assert found.verdict == "holds" and found.measured == 6.2  # the median of 6.2, 6.25 and 370/60 = 6.17
    assert "seed 1: ReLU 40 steps, tanh 250 (ratio 6.25)" in found.detail
    assert "median ratio 6.2 over 3 seeds, spread 6.17–6.25 (min-max)" in found.detail
    slower = [_seed(0, 50, 200), _seed(1, 40, 160), _seed(2, 10, None, run=150)]  # 4, 4, above 15: no agreement
    mixed = speedup_claim(_claim(), _record([_experiment(slower)]))
    assert mixed.verdict == "unverifiable" and mixed.measured is None
    assert "inconclusive, the seeds disagree against the band 5.5 to 6.5: 2 below, 1 above" in mixed.detail
    above = [_seed(0, 10, None, run=150), _seed(1, 20, None, run=150), _seed(2, 10, 100)]  # above 15, above 7.5, 10
    bound = speedup_claim(_claim(), _record([_experiment(above)]))
    # Low ends 15, 7.5, 10 -> median 10; high ends unbounded, unbounded, 10 -> unbounded: above 10.
    assert bound.verdict == "fails" and bound.measured == "above 10"


def test_a_run_on_other_data_stays_unverifiable_with_no_measured_figure(write_spec: Callable[..., Path],
                                                                        tmp_path: Path) -> None:
    far_above = [_seed(0, 10, 300), _seed(1, 10, 280), _seed(2, 10, 290)]  # 30, 28, 29: would fail on cifar10
    found = speedup_claim(_claim(), _record([_experiment(far_above, data="digits")]))
    assert found.verdict == "unverifiable" and found.measured is None
    assert found.detail.startswith("measured on digits: ") and "median ratio 29 over 3 seeds" in found.detail
    assert "a run on digits, not on cifar10 that the claim is about, so it measures nothing of the claim" in found.detail
    # Through the audit and its JSON: measured is null.
    runs = tmp_path / "training"
    runs.mkdir()
    (runs / "t.json").write_text(record_json(_record([_experiment(far_above, data="digits")])), encoding="utf-8")
    spec = write_spec(spec_text(LINEAR, claims=SPEEDUP, input="[1, 8, 8]"))
    doc = json.loads(run_json(audit_paths([spec], training_dir=runs)))
    claim = doc["specs"][0]["claims"][0]
    assert claim["verdict"] == "unverifiable" and claim["measured"] is None


def test_no_recorded_experiment_is_unverifiable() -> None:
    found = speedup_claim(_claim(), _record([]))
    assert found.verdict == "unverifiable" and found.measured is None and "no such run is recorded" in found.detail


def test_old_single_race_records_load_and_are_inconclusive() -> None:
    # The committed GPU record of seed 004's network: one race, 150 ReLU steps against 2,125 tanh.
    record = load_record(REPORTS / "seed004-tf1-code.json")
    e = record.experiments[0]
    assert [(s.seed, s.relu_steps, s.baseline_steps) for s in e.seeds] == [(None, 150, 2125)]
    assert e.median == _point(2125 / 150) and e.claims == []
    on_digits = speedup_claim(_claim(), record)
    assert on_digits.verdict == "unverifiable" and on_digits.measured is None
    assert "one race, its seed not recorded: ReLU 150 steps, tanh 2125 (ratio 14.2)" in on_digits.detail
    # The same single race on the claim's data: one seed cannot show agreement.
    old = {"baseline": "tanh", "target_error": 0.25, "data": "cifar10", "window": 10, "relu_steps": 50,
           "baseline_steps": 310, "relu_steps_run": 50, "baseline_steps_run": 310, "ratio": 6.2, "ratio_at_least": None}
    single = speedup_claim(_claim(), _record([old]))
    assert single.verdict == "unverifiable" and single.measured is None
    assert "1 seed against the band 5.5 to 6.5 (1 within); agreement needs at least 3" in single.detail


def test_derived_figures_are_recomputed_from_the_seeds(tmp_path: Path) -> None:
    written = json.loads(record_json(_record([_experiment(AGREE)])))
    e = written["experiments"][0]
    assert (e["median_low"], e["median_high"], e["spread"]) == (6.2, 6.2, "min-max")
    assert (e["spread_low"], e["spread_high"]) == (370 / 60, 6.25)
    e["median_low"] = 99.0  # an edit to a derived figure is not evidence
    path = tmp_path / "t.json"
    path.write_text(json.dumps(written), encoding="utf-8")
    assert load_record(path).experiments[0].median == _point(6.2)


@pytest.mark.parametrize(("change", "field"), [
    ({"seeds": [_seed(0, 200, 310) | {"relu_steps_run": 150}]}, "experiments.0.seeds.0"),  # reached after its run
    ({"seeds": []}, "experiments.0.seeds"),
])
def test_inconsistent_experiments_are_bad_input(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    written = json.loads(record_json(_record([_experiment(AGREE)])))
    written["experiments"][0].update(change)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(written), encoding="utf-8")
    with pytest.raises(AuditError) as err:
        load_record(path)
    assert err.value.field == field


def test_a_band_must_say_whether_it_judges_the_claim() -> None:
    bad = _experiment(AGREE, data="digits")
    bad["claims"][0]["judges_claim"] = True
    with pytest.raises(ValueError, match="judges_claim"):
        ExperimentRecord.model_validate(bad)


# ---------------------------------------------------------------- renderers


def test_terminal_and_markdown_show_seeds_median_spread_and_outcome() -> None:
    three = [_seed(0, 50, 310), _seed(1, 40, None, run=150), _seed(2, 60, 300)]  # 6.2, above 3.75, 5
    record = _record([_experiment(three, data="[red]digits|")])
    console = Console(width=200, record=True, color_system=None)
    console.print(training_summary(record, Path("t.json"), Path("t.png")))
    text = console.export_text()
    # Low ends 6.2, 3.75, 5 -> 5; high ends 6.2, unbounded, 5 -> 6.2.
    assert ("ReLU vs tanh to 25% training error on [red]digits|: median ratio 5 to 6.2 over 3 seeds, "
            "spread 3.75–unbounded (min-max)") in text
    assert "    seed 1: ReLU 40 steps, tanh not within 150 (ratio above 3.75)" in text
    assert "    claim fast: claimed 6 (±0.5) on cifar10: unverifiable, this run on [red]digits| measures nothing" in text
    page = "\n".join(_training_section("t", Training(record, curves=False)))
    assert r"on \[red\]digits\|: median ratio 5 to 6.2 over 3 seeds" in page
    assert "| 1      |           40 | not within 150 | above 3.75 |" in page
    judged = _record([_experiment(three)])
    console = Console(width=200, record=True, color_system=None)
    console.print(training_summary(judged, Path("t.json"), Path("t.png")))
    assert ("claim fast: claimed 6 (±0.5): inconclusive (the seeds disagree against the band 5.5 to 6.5: 1 below, "
            "1 within, 1 straddles), so the claim stays unverifiable") in console.export_text()


# ---------------------------------------------------------------- a tiny real run, end to end

TINY = spec_text("""  - {kind: flatten}
  - {kind: linear, name: fc1, out_features: 12}
  - {kind: relu, name: relu1}
  - {kind: linear, name: fc2, out_features: 10}
""", claims="""  - {id: fast, kind: speedup, claimed: 6, baseline: tanh, target_error: 0.5, dataset: mnist, where: y}
  - {id: faster, kind: speedup, claimed: 9, baseline: tanh, target_error: 0.5, dataset: mnist, where: z}
""", input="[1, 8, 8]", id="tiny") + "training: {dataset: none, optimizer: adam, lr: 0.03, batch_size: 16}\n"


def test_a_tiny_experiment_runs_each_seed_with_its_own_weights() -> None:
    spec = spec_from_text(TINY)  # 64*12 + 12 + 12*10 + 10 = 910 parameters
    rt = Runtime.pick("cpu")
    train, _ = to_device(load_data("digits", (1, 8, 8), 10, 0), (1, 8, 8), rt.device, False)
    built: list[int] = []

    def build(seed: int) -> SpecNet:
        built.append(seed)
        return build_model(spec, seed)

    claims = speedup_claims(spec)
    assert list(claims) == [("tanh", 0.5)]  # both claims need the one experiment
    cfg = LoopConfig(steps=40, batch_size=16, optimizer="adam", lr=0.03, momentum=0.0, weight_decay=0.0,
                     loss="cross_entropy", seed=0)
    seeds = experiment_seeds(5, rt, 3)
    began = time.perf_counter()
    records = run_experiments(claims, build, train, "digits", cfg, rt, seeds, began + 60, None)
    assert seeds == [5, 6, 7] and built == [5, 5, 6, 6, 7, 7]  # ReLU and tanh of a seed from the same weights
    (e,) = records
    assert [s.seed for s in e.seeds] == [5, 6, 7] and e.data == "digits" and e.window == 10
    for s in e.seeds:
        assert s.relu_steps_run <= 40 and s.baseline_steps_run <= 40
        assert s.relu_steps is None or s.relu_steps == s.relu_steps_run  # on the CPU the loop stops at the target
    assert [(b.claim, b.claimed, b.judges_claim) for b in e.claims] == [("fast", 6.0, False), ("faster", 9.0, False)]
    # Same seeds, same races: the experiment is reproducible.
    again = run_experiments(claims, lambda seed: build_model(spec, seed), train, "digits", cfg, rt, seeds, began + 60)
    assert again[0].seeds == e.seeds
    record = _record([e.model_dump()])
    assert speedup_claim(spec.doc.claims[0], record).measured is None  # digits, not mnist
    assert torch.get_num_threads() == 1


def test_train_runs_the_experiment_with_the_seeds_asked_for() -> None:
    spec = spec_from_text(TINY)
    record = train_spec(spec, TrainOptions(steps=20, budget_s=30, device="cpu", seed=3, seeds=2))
    (e,) = record.experiments
    assert [s.seed for s in e.seeds] == [3, 4]  # from the main run's seed on
    assert TrainingRecord.model_validate_json(record_json(record)).experiments == record.experiments
    with pytest.raises(AuditError) as err:
        TrainOptions(seeds=0)
    assert err.value.field == "--seeds"


def test_seeds_are_not_run_once_the_budget_is_spent_by_races_that_overrun_it() -> None:
    spec = spec_from_text(TINY)
    rt = Runtime.pick("cpu")
    train, _ = to_device(load_data("digits", (1, 8, 8), 10, 0), (1, 8, 8), rt.device, False)

    def slow(seed: int) -> SpecNet:  # a network slower to build than its share: 1 s over 3 races
        time.sleep(0.35)  # twice per race: 0.7 s, more than twice the 0.33 s share
        return build_model(spec, seed)

    cfg = LoopConfig(steps=5, batch_size=16, optimizer="adam", lr=0.03, momentum=0.0, weight_decay=0.0,
                     loss="cross_entropy", seed=0)
    (e,) = run_experiments(speedup_claims(spec), slow, train, "digits", cfg, rt, [5, 6, 7], time.perf_counter() - 1)
    assert [s.seed for s in e.seeds] == [5] and e.seeds_not_run == [6, 7]
    found = speedup_claim(spec.doc.claims[0], _record([e.model_dump()]))
    assert "seeds 6, 7 not run: the budget was spent (a longer --budget runs them)" in found.detail
