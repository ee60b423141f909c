"""Four verdicts on a training run, each from evidence a reader can check beside it.

- `diverges`: the loss became NaN or infinite (at step N).
- `converges`: held-out accuracy beats always guessing the most frequent class by an exact
  binomial test (p < ALPHA), and the loss fell at least LOSS_FACTOR-fold from the first to the
  last tenth of the run and ends below a uniform guess's loss (ln K).
- `fails to converge`: the evidence is in and says no, with its cause: activations that explode,
  ReLUs that died or activations that vanish (structural findings, see probe.py); a loss that
  rises; a training loss that falls while held-out accuracy stays at chance; a loss flat from the
  start although a fresh copy of the network fits one batch (so the optimiser moves it).
- `inconclusive`: the run stopped before the evidence was in (too few steps, a budget that cut
  it, a loss still falling, a plateau not yet left); it says how many steps, and seconds at the
  run's own rate, the run's own trend needs to settle it.

The rules never let a verdict contradict its figures: a run that beats chance on held-out data
and whose loss fell LOSS_FACTOR-fold is never `fails`, and a budget never makes a run `fails`
unless the network itself shows why. The memorisation check (one batch, a share of the run's
steps) is evidence: it tells a plateau from a network that cannot learn the data, and never
vetoes a run that converged on held-out data.

Pure arithmetic on recorded figures, without torch: an older record is re-judged by the same
rules from what it holds (record.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["converges", "fails to converge", "inconclusive", "diverges"]
RULES = 2  # the version of these rules; a record without it was judged by version 1 (converges / fails only)

LOSS_FACTOR = 2.0
ALPHA = 1e-3
FLAT_FACTOR = 1.1  # within 10% either way counts as flat
MIN_STEPS = 20  # fewer steps say nothing about a trend
MAX_PROJECTED = 10_000_000  # run.MAX_STEPS: no projection beyond what `--steps` accepts
MIN_FIT = 4  # points needed to fit a trend
NOT_A_VETO = "; evidence, not a veto: the run itself beats chance on held-out data"


@dataclass(frozen=True)
class Memorisation:
    """A fresh copy of the network trained on one batch until every image in it is right."""

    images: int  # in the batch
    source_batch: int  # the source's batch size (an older check used a smaller batch)
    at: int | None  # the step by which it was memorised; None: not within `steps`
    steps: int  # the steps it ran
    stopped_by: str


@dataclass(frozen=True)
class Evidence:
    losses: tuple[float, ...]  # one per step
    stopped_by: str  # steps | budget | non-finite | target
    requested_steps: int
    steps_per_s: float  # the run's own rate (0: unknown)
    held_out_correct: int
    held_out_n: int
    chance: float  # the most frequent held-out class's share: what always guessing it scores
    classes: int  # in the data; ln(classes) is the loss of a uniform guess
    memorisation: Memorisation | None  # None: not measured (a record older than the check)
    structural: str | None  # what the activations show (probe.structural_finding), if anything
    train_share: float | None  # the share of --budget the run itself gets; None: not known (older records)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: an observation, neither for nor against
    detail: str


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    cause: str | None  # fails / diverges: why; inconclusive: why it cannot tell yet
    settle: str | None  # inconclusive: what would settle it
    checks: tuple[Check, ...]

    @property
    def line(self) -> str:
        return verdict_line(self.verdict, self.cause, self.settle)


def verdict_line(verdict: str, cause: str | None, settle: str | None) -> str:
    """The one sentence every renderer shows: the terminal, the chart title, the report, the JSON reader."""
    return verdict + (f": {cause}" if cause else "") + (f"; {settle}" if settle else "")


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the chance of k or more right answers by guessing.

    The exact sum of the tail's terms, each in log space so that n in the thousands neither
    overflows the binomial coefficients nor underflows the powers before they are scaled.
    """
    if k <= 0 or p >= 1:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
            for i in range(k, n + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def first_non_finite(losses: tuple[float, ...]) -> int | None:
    return next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)


def loss_ends(losses: tuple[float, ...]) -> tuple[float, float]:
    """Mean loss over the first and the last tenth of the run (at least one step each)."""
    k = max(1, len(losses) // 10)
    return sum(losses[:k]) / k, sum(losses[-k:]) / k


def _fall(losses: tuple[float, ...]) -> tuple[float, float, float]:
    """The first and the last tenth's mean loss, and how many fold it fell between them."""
    start, end = loss_ends(losses)
    return start, end, start / end if end > 0 else math.inf


def plateau_end(losses: tuple[float, ...]) -> int | None:
    """The step by which the loss has left the level it starts at: the first step whose trailing
    mean (over a twentieth of the run) lies FLAT_FACTOR below the first tenth's mean; None if never."""
    n = len(losses)
    if n < MIN_FIT:
        return None
    level = loss_ends(losses)[0]
    w = max(1, n // 20)
    total = 0.0
    for i, v in enumerate(losses):
        total += v - (losses[i - w] if i >= w else 0.0)
        if i + 1 >= w and total / w * FLAT_FACTOR < level:
            return i + 1
    return None


def _log_fit(losses: tuple[float, ...]) -> tuple[float, float] | None:
    """The least-squares line through ln(loss) over the run's last half, as (slope per step,
    intercept at step 0); None without enough positive points."""
    tail = losses[len(losses) // 2:]
    if len(tail) < MIN_FIT // 2 or len(losses) < MIN_FIT or any(v <= 0 for v in tail):
        return None
    xs = range(len(losses) - len(tail), len(losses))
    ys = [math.log(v) for v in tail]
    mx, my = sum(xs) / len(tail), sum(ys) / len(tail)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def log_slope(losses: tuple[float, ...]) -> float | None:
    """The least-squares slope of ln(loss) per step over the run's last half; None without enough
    positive points."""
    fit = _log_fit(losses)
    return fit[0] if fit else None


def projected_steps(losses: tuple[float, ...], classes: int) -> int | None:
    """How long a run would have to be for its loss to fall LOSS_FACTOR-fold and end below ln K,
    if the loss went on falling as it did over this run's last half (geometrically); None when
    it was not falling, or would need more than MAX_PROJECTED steps."""
    fit = _log_fit(losses)
    if fit is None or fit[0] >= 0:
        return None
    slope, intercept = fit
    n = len(losses)
    prefix = [0.0]
    for v in losses:
        prefix.append(prefix[-1] + v)
    ratio = math.exp(slope)

    def mean(lo: int, hi: int) -> float:  # over steps lo..hi-1: recorded, then projected
        seen = prefix[min(hi, n)] - prefix[min(lo, n)]
        a, b = max(lo, n), hi
        ahead = math.exp(intercept + slope * a) * (1 - ratio ** (b - a)) / (1 - ratio) if b > a else 0.0
        return (seen + ahead) / (hi - lo)

    def settles(m: int) -> bool:
        k = max(1, m // 10)
        start, end = mean(0, k), mean(m - k, m)
        return end > 0 and start / end >= LOSS_FACTOR and end < math.log(classes)

    low, high = n, n
    while not settles(high):
        if high >= MAX_PROJECTED:
            return None
        low, high = high, min(MAX_PROJECTED, high * 2)
    while high - low > max(1, high // 100):  # to within 1%: a projection, not a promise
        mid = (low + high) // 2
        low, high = (low, mid) if settles(mid) else (mid, high)
    return high


def _held_out_p(ev: Evidence) -> float:
    return binomial_tail(ev.held_out_correct, ev.held_out_n, ev.chance)


def _seconds(s: float) -> str:
    return f"{s:,.0f} s" if s >= 10 else f"{s:.2g} s"


def _run_of(ev: Evidence, steps: int) -> str:
    """`steps` steps, with the seconds they take at this run's rate and the options that ask for them."""
    if ev.steps_per_s <= 0:
        return f"{steps:,} steps"
    seconds = steps / ev.steps_per_s
    options = f"--steps {steps}" + (f" --budget {math.ceil(seconds / ev.train_share)}" if ev.train_share else "")
    return f"{steps:,} steps ({_seconds(seconds)} of training at this run's {ev.steps_per_s:.3g} steps/s; `{options}`)"


def _settle(ev: Evidence, at_least: int) -> str:
    """What would settle an inconclusive run, from its own trend and rate."""
    n = len(ev.losses)
    projected = projected_steps(ev.losses, ev.classes)
    if projected is not None:
        return _projected_run(ev, max(projected, at_least))
    return f"{_no_projection(ev)}: a run of {_run_of(ev, max(2 * n, at_least))} would show whether it starts to fall"


def _projected_run(ev: Evidence, steps: int) -> str:
    return f"at the rate its loss fell over its last half, about {_run_of(ev, steps)} would settle it"


def _no_projection(ev: Evidence) -> str:
    """Why a run's trend gives no length that would settle it."""
    slope = log_slope(ev.losses)
    if slope is None or slope >= 0:
        return "its loss shows no falling trend over its last half to project"
    return (f"at the rate its loss fell over its last half it would take more than {MAX_PROJECTED:,} steps to end "
            f"below a uniform guess")


def _plateau_settle(ev: Evidence) -> str:
    """A plateau ends abruptly: its slope bounds the run that settles it, and twice the run may already tell."""
    n = len(ev.losses)
    sooner = f"a run of {_run_of(ev, 2 * n)} would show whether it leaves this plateau"
    projected = projected_steps(ev.losses, ev.classes)
    if projected is None:
        return f"{_no_projection(ev)}; {sooner}"
    return f"{_projected_run(ev, projected)}; a plateau can end sooner: {sooner}"


def smaller_batch(m: Memorisation) -> str:
    """What an older check's batch, smaller than the source's, means for its evidence ("" if it is not)."""
    return (f" (a batch of {m.images}, not the source's {m.source_batch}: recorded before the check used the "
            "source's batch size)" if m.images < m.source_batch else "")


def _memorise_check(ev: Evidence, converged: bool) -> Check:
    m = ev.memorisation
    if m is None:
        return Check("memorises one batch", None, "not measured: the record predates the memorisation check")
    smaller = smaller_batch(m)
    if m.at is not None:
        return Check("memorises one batch", True, f"a fresh copy fits one batch of {m.images} images (every image right "
                     f"on consecutive steps) by step {m.at}{smaller}")
    veto = f"{NOT_A_VETO}, and one batch in {m.steps} steps is a narrower test" if converged else ""
    return Check("memorises one batch", False, f"a fresh copy does not fit one batch of {m.images} images in {m.steps} "
                 f"steps (stopped by {m.stopped_by}){smaller}{veto}")


def _late(left: int | None, n: int) -> bool:
    """Whether the loss left its starting level late enough to call that level a plateau: after the
    first tenth it is measured over, and the trailing window that detects the departure."""
    return left is not None and left > max(1, n // 10) + max(1, n // 20)


def _plateau_check(losses: tuple[float, ...]) -> Check:
    n = len(losses)
    start, end = loss_ends(losses)
    left = plateau_end(losses)
    if n < MIN_FIT:
        shape = f"only {n} steps: too few to see a shape"
    elif _late(left, n):
        shape = (f"a plateau near {start:.4g}, left by step {left}; then the loss falls to {end:.4g}: a plateau that "
                 "is left, not a flat run")
    elif left is not None:
        shape = f"the loss falls from the start ({start:.4g} to {end:.4g})"
    elif end * FLAT_FACTOR < start:
        shape = f"the loss falls slowly ({start:.4g} to {end:.4g}) without leaving its starting level"
    elif end > start * FLAT_FACTOR:
        shape = f"the loss rises ({start:.4g} to {end:.4g})"
    else:
        shape = f"flat: within {FLAT_FACTOR - 1:.0%} of {start:.4g} for all {n} steps"
    return Check("plateau", None, shape)


def _checks(ev: Evidence, converged: bool) -> tuple[Check, ...]:
    n = len(ev.losses)
    bad = first_non_finite(ev.losses)
    finite = Check("finite", bad is None, f"the loss stays finite for all {n} steps" if bad is None
                   else f"the loss is {ev.losses[bad]} at step {bad + 1}")
    if not n:
        falls = Check("loss falls", False, "not measured: no step ran")
    elif bad is None:
        start, end, factor = _fall(ev.losses)
        guess = math.log(ev.classes)
        falls = Check("loss falls", factor >= LOSS_FACTOR and end < guess,
                      f"mean loss {start:.4g} over the first tenth of {n} steps, {end:.4g} over the last: "
                      f"{factor:.3g}-fold (at least {LOSS_FACTOR:g}-fold needed), ending "
                      f"{'below' if end < guess else 'above'} a uniform guess among {ev.classes} classes "
                      f"(ln {ev.classes} = {guess:.3g})")
    else:
        falls = Check("loss falls", False, "not measured: the loss is not finite")
    p = _held_out_p(ev)
    accuracy = ev.held_out_correct / ev.held_out_n if ev.held_out_n else 0.0
    held = Check("held-out above chance", p < ALPHA,
                 f"held-out accuracy {ev.held_out_correct}/{ev.held_out_n} = {accuracy:.1%} against {ev.chance:.1%} for "
                 f"always guessing the most frequent class; exact binomial P(>= {ev.held_out_correct} right by chance) = "
                 f"{p:.3g} (significant below {ALPHA:g})")
    shape = (_plateau_check(ev.losses),) if bad is None else ()
    return (finite, falls, held, _memorise_check(ev, converged)) + shape


def judge(ev: Evidence) -> Judgement:
    bad = first_non_finite(ev.losses)
    if bad is not None:
        what = "NaN" if math.isnan(ev.losses[bad]) else "inf"
        cause = f"{what} loss at step {bad + 1}" + (f"; {ev.structural}" if ev.structural else "")
        return Judgement("diverges", cause, None, _checks(ev, False))
    if not ev.losses:
        return Judgement("inconclusive", "no training step ran", f"a run of {_run_of(ev, MIN_STEPS)} would begin to tell",
                         _checks(ev, False))
    verdict, why, settle = _decide(ev)
    return Judgement(verdict, why, settle, _checks(ev, verdict == "converges"))


def _decide(ev: Evidence) -> tuple[Verdict, str | None, str | None]:
    """The verdict on a finite run, its cause and what would settle it (in that order of tests)."""
    n = len(ev.losses)
    start, end, factor = _fall(ev.losses)
    guess = math.log(ev.classes)
    held, falls, below = _held_out_p(ev) < ALPHA, factor >= LOSS_FACTOR, end < guess
    also = f", with {ev.structural}" if ev.structural else ""
    cut = (f", and the budget stopped it after {n:,} of {ev.requested_steps:,} steps" if ev.stopped_by == "budget" else "")
    if held and falls and below:
        return "converges", None, None
    if held and falls:
        return ("inconclusive", f"it learns (held-out accuracy above chance, the loss down {factor:.3g}-fold) but its loss "
                f"ends at {end:.4g}, above a uniform guess's {guess:.3g}{also}", _settle(ev, n + 1))
    if n < MIN_STEPS:
        return ("inconclusive", f"too few steps to tell: only {n} ran (stopped by {ev.stopped_by}); a trend needs "
                f"{MIN_STEPS} or more" + (f"; so far: {ev.structural}" if ev.structural else ""), _settle(ev, MIN_STEPS))
    if held:
        return ("inconclusive", f"held-out accuracy beats chance but the loss fell only {factor:.3g}-fold "
                f"({LOSS_FACTOR:g}-fold needed){cut}", _settle(ev, n + 1))
    if ev.structural:
        return "fails to converge", ev.structural, None
    if falls and cut:
        return ("inconclusive", f"the training loss fell {factor:.3g}-fold but held-out accuracy is still at chance{cut}",
                f"the {_run_of(ev, ev.requested_steps)} asked for would settle it")
    if falls:
        return ("fails to converge", f"fits its training batches (the loss down {factor:.3g}-fold) but held-out accuracy "
                "stays at chance: it does not generalise", None)
    left = plateau_end(ev.losses)
    if left is not None or factor >= FLAT_FACTOR:
        how = (f"it left its plateau by step {left} and its loss fell {factor:.3g}-fold over {n} steps"
               if _late(left, n) else f"its loss fell {factor:.3g}-fold over {n} steps")
        return "inconclusive", f"still learning when stopped: {how}{cut}", _settle(ev, n + 1)
    rises = factor * FLAT_FACTOR < 1
    shape = f"loss {'rises' if rises else 'flat'} from the start ({start:.4g} to {end:.4g} over {n} steps)"
    if cut:
        return "inconclusive", f"{shape}{cut}", f"the {_run_of(ev, ev.requested_steps)} asked for would tell more"
    if rises:
        return "fails to converge", shape, None
    m = ev.memorisation
    if m is not None and m.at is not None:
        return ("fails to converge", f"{shape}, although a fresh copy fits one batch of {m.images} images by step {m.at}: "
                "the optimiser moves it, yet it learns nothing from the data", None)
    copy = ("the record holds no memorisation check" if m is None else
            f"a fresh copy did not fit one batch of {m.images} images in {m.steps} steps either")
    return ("inconclusive", f"{shape}; {copy}: networks often sit on such a plateau before they learn (sigmoid and "
            "tanh units most of all)", _plateau_settle(ev))
