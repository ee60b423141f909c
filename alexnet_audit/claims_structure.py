"""Judges read off the built model: layer counts, structure checks, and whether a network is the
reference network it is presented as."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from .results import ACTIVATIONS, WEIGHTED, Analysis, ModuleInfo, followers
from .claim_schema import (
    AllHave, Contains, FollowedBy, LayerCountClaim, LayerHas, ListingClaim, NoActivation, Overlapping, PoolsOver,
    SameAsClaim, StructureClaim,
)
from .claims_same_as import COMPARED, after_difference, graph_differences, half_width, lrn_difference
from .diagnose import Diagnosis
from .verdicts import ClaimResult, Context, Verdict, result


def _is(category: str, wanted: str) -> bool:
    return category == wanted or (wanted == "pool" and category in ("maxpool", "avgpool")) or (
        wanted == "weighted" and category in WEIGHTED)


def _anchor(ctx: Context, name: str) -> int:
    """The position of a named layer, or of a stage's conv/linear layer (else its last layer)."""
    names = [m.name for m in ctx.analysis.modules]
    members = ctx.analysis.spec.stages.get(name, (name,))
    weighted = [n for n in members if ctx.analysis.modules[names.index(n)].category in WEIGHTED]
    return names.index(weighted[0] if weighted else members[-1])


def _weighted_followed_by(modules: tuple[ModuleInfo, ...], by: str) -> list[str]:
    return [m.name for i, m in enumerate(modules) if m.category in WEIGHTED
            and any(_is(f.category, by) for f in followers(modules, i))]


def judge_layer_count(claim: LayerCountClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    modules = ctx.analysis.modules
    kinds = claim.of if isinstance(claim.of, list) else [claim.of]
    matching = [(i, m) for i, m in enumerate(modules) if any(_is(m.category, k) for k in kinds)]
    if claim.followed_by:
        matching = [(i, m) for i, m in matching if any(_is(f.category, claim.followed_by) for f in followers(modules, i))]
    measured = len(matching)
    what = f"{' + '.join(kinds)} layers" + (f" followed by {claim.followed_by}" if claim.followed_by else "")
    detail = f"{what}: claimed {claim.claimed}, the built model has {measured} ({', '.join(m.name for _, m in matching) or 'none'})"
    if measured == claim.claimed:
        return result(claim, measured, Verdict.HOLDS, detail)
    diagnoses = []
    if ctx.counterpart:
        other = ctx.counterpart.rows
        n = sum(1 for r in other if any(_is(r.kind, k) for k in kinds)) if not claim.followed_by else None
        if n == claim.claimed:
            diagnoses.append(Diagnosis("code_vs_prose", f"the post's other reading (spec {ctx.counterpart.spec.id}) has {n}"))
    return result(claim, measured, Verdict.FAILS, detail, diagnoses)


def judge_structure(claim: StructureClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    result = _structure(claim, ctx)
    other = ctx.counterpart_analysis
    if result.verdict != Verdict.FAILS or other is None or ctx.counterpart is None:
        return result
    try:
        there = _structure(claim, Context(other, ctx.counterpart, None))
    except ValueError:  # the check names a layer that the other reading does not have
        return result
    if there.verdict == Verdict.HOLDS:
        found = Diagnosis("code_vs_prose", f"the post's other reading (spec {other.spec.id}) has it: {there.detail}")
        return replace(result, diagnoses=(found,) + result.diagnoses)
    return result


def _structure(claim: StructureClaim, ctx: Context) -> ClaimResult:
    check = claim.check
    if isinstance(check, FollowedBy):
        return _followed_by(claim, check, ctx)
    if isinstance(check, AllHave):
        return _all_have(claim, check, ctx)
    if isinstance(check, Overlapping):
        return _overlapping(claim, check, ctx)
    if isinstance(check, Contains):
        return _contains(claim, check, ctx)
    if isinstance(check, LayerHas):
        return _layer_has(claim, check, ctx)
    if isinstance(check, PoolsOver):
        return _pools_over(claim, check, ctx)
    assert isinstance(check, NoActivation)
    return _no_activation(claim, check, ctx)


def _followed_by(claim: StructureClaim, check: FollowedBy, ctx: Context) -> ClaimResult:
    modules = ctx.analysis.modules
    have = _weighted_followed_by(modules, check.followed_by)
    wanted = [modules[_anchor(ctx, n)].name for n in check.layers]
    missing = [n for n in wanted if n not in have]
    extra = [n for n in have if n not in wanted] if check.exactly else []
    ok = not missing and not extra
    problems = ([f"not after {', '.join(missing)}"] if missing else []) + ([f"also after {', '.join(extra)}"] if extra else [])
    detail = f"{check.followed_by} follows: {', '.join(have) or 'no conv/linear layer'}" + (f" ({'; '.join(problems)})" if problems else "")
    return result(claim, have, Verdict.HOLDS if ok else Verdict.FAILS, detail)


def _all_have(claim: StructureClaim, check: AllHave, ctx: Context) -> ClaimResult:
    found = [m for m in ctx.analysis.modules if _is(m.category, check.all_of)]
    wanted = {k: v for k, v in (("kernel", check.kernel), ("stride", check.stride), ("p", check.p)) if v is not None}
    bad = [m for m in found if any(getattr(m, k) != v for k, v in wanted.items())]
    seen = [f"{m.name}: " + ", ".join(f"{k}={getattr(m, k)}" for k in wanted) for m in found]
    ok = bool(found) and not bad
    detail = (f"every {check.all_of} with " + ", ".join(f"{k}={v}" for k, v in wanted.items()) + ": "
              + ("; ".join(seen) if found else f"the built model has no {check.all_of} layer"))
    return result(claim, seen, Verdict.HOLDS if ok else Verdict.FAILS, detail)


def _overlapping(claim: StructureClaim, check: Overlapping, ctx: Context) -> ClaimResult:
    found = [m for m in ctx.analysis.modules if _is(m.category, check.overlapping)]
    seen = [f"{m.name}: kernel {m.kernel}, stride {m.stride}" for m in found]
    ok = bool(found) and all(m.stride is not None and m.kernel is not None and m.stride < m.kernel for m in found)
    detail = "overlapping windows need stride < kernel: " + ("; ".join(seen) if found else f"no {check.overlapping} layer")
    return result(claim, seen, Verdict.HOLDS if ok else Verdict.FAILS, detail)


def _contains(claim: StructureClaim, check: Contains, ctx: Context) -> ClaimResult:
    found = [m.name for m in ctx.analysis.modules if _is(m.category, check.contains)]
    ok = bool(found) == check.present
    detail = f"{check.contains} layers in the built model: {', '.join(found) or 'none'}"
    return result(claim, found, Verdict.HOLDS if ok else Verdict.FAILS, detail)


def _layer_has(claim: StructureClaim, check: LayerHas, ctx: Context) -> ClaimResult:
    module = ctx.analysis.modules[_anchor(ctx, check.layer)]
    wanted: dict[str, Any] = {k: v for k, v in (("kernel", check.kernel), ("stride", check.stride),
                                                ("out_channels", check.out_channels), ("padding", check.padding),
                                                ("groups", check.groups)) if v is not None}
    if isinstance(wanted.get("padding"), int):
        wanted["padding"] = (wanted["padding"], wanted["padding"])
    seen = {k: getattr(module, k) for k in wanted}
    bad = [k for k in wanted if seen[k] != wanted[k]]
    detail = f"{module.name}: " + ", ".join(f"{k} {_attr(seen[k])}" + (f" (claimed {_attr(wanted[k])})" if k in bad else "")
                                            for k in wanted)
    diagnoses = []
    if "out_channels" in bad and seen["out_channels"] and wanted["out_channels"] * 2 == seen["out_channels"]:
        diagnoses.append(Diagnosis("half_channels", f"one GPU's share: half of {module.name}'s {seen['out_channels']} channels is {wanted['out_channels']}"))
    return result(claim, {k: _attr(v) for k, v in seen.items()}, Verdict.FAILS if bad else Verdict.HOLDS, detail, diagnoses)


def _pools_over(claim: StructureClaim, check: PoolsOver, ctx: Context) -> ClaimResult:
    i = _anchor(ctx, check.pools)
    module, layer = ctx.analysis.modules[i], ctx.analysis.layers[i]
    if module.category not in ("maxpool", "avgpool") or module.kernel is None:
        return result(claim, module.category, Verdict.FAILS, f"{module.name} is a {module.category} layer, not a pooling layer")
    cells = module.kernel * module.kernel
    kept = layer.input_shape[0] == layer.output_shape[0]
    ok = check.over == "space" and kept and (check.window is None or check.window == cells)
    detail = (f"{module.name} takes the {'maximum' if module.category == 'maxpool' else 'mean'} over {module.kernel}x"
              f"{module.kernel} = {cells} neighbouring cells of each map and keeps all {layer.output_shape[0]} maps"
              + ("; it never pools across maps" if check.over == "channels" else "")
              + (f" (claimed {check.window} inputs per window)" if check.window and check.window != cells else ""))
    return result(claim, {"over": "space", "window": cells}, Verdict.HOLDS if ok else Verdict.FAILS, detail)


def _no_activation(claim: StructureClaim, check: NoActivation, ctx: Context) -> ClaimResult:
    modules = ctx.analysis.modules
    with_act = {m.name for i, m in enumerate(modules) if m.category in WEIGHTED
                and any(f.category in ACTIVATIONS for f in followers(modules, i))}
    wanted = [modules[_anchor(ctx, n)].name for n in check.activation_after]
    wrong = [n for n in wanted if (n in with_act) != check.present]
    detail = (f"a non-linearity {'follows' if check.present else 'does not follow'} "
              f"{', '.join(wanted)}" + (f": not so for {', '.join(wrong)}" if wrong else ""))
    return result(claim, sorted(with_act & set(wanted)), Verdict.FAILS if wrong else Verdict.HOLDS, detail)


def _attr(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return value[0]
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------- the network it is presented as

# The finding same_as puts first when every width but the last is half the reference's.
_HALF_WIDTH = "every layer has half the reference's width (a half-width network)"


def _profile(analysis: Analysis) -> list[tuple[str, str, dict[str, Any], tuple[ModuleInfo, ...]]]:
    """Each conv/linear layer in order: its label, name, hyper-parameters and the layers after it."""
    out = []
    count = {"conv": 0, "linear": 0}
    for i, m in enumerate(analysis.modules):
        if m.category not in WEIGHTED:
            continue
        count[m.category] += 1
        width = analysis.layers[i].output_shape[0]
        has = {"width": width} if m.category == "linear" else {"kernels": width, "window": m.kernel, "stride": m.stride}
        out.append((f"{'conv' if m.category == 'conv' else 'fc'}{count[m.category]}", m.name, has, followers(analysis.modules, i)))
    return out


def _width(has: dict[str, Any]) -> int:
    """A conv layer's kernels or a linear layer's width (its hyper-parameters hold one of them)."""
    return int(has["kernels"] if "kernels" in has else has["width"])


def _first_lrn(after: tuple[ModuleInfo, ...]) -> tuple[float, ...] | None:
    return next((m.lrn for m in after if m.category == "lrn"), None)


def judge_same_as(claim: SameAsClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    ref = (ctx.references or {}).get(claim.reference)
    if ref is None:
        return result(claim, None, Verdict.UNVERIFIABLE, f"needs the reference spec {claim.reference} among the specs "
                      "given (or beside this spec's file)")
    if ctx.analysis.spec.is_graph or ref.spec.is_graph:
        found = graph_differences(ctx.analysis, ref)
        if found and half_width(ctx.analysis, ref):
            found.insert(0, _HALF_WIDTH)
        return _compared(claim, ref, "along the data paths (branches matched whatever their order; widths, windows, "
                         "strides, merges, normalisation and pooling; the last layer's width follows the classes)",
                         found)
    mine, theirs = _profile(ctx.analysis), _profile(ref)
    differences: list[str] = []
    if len(mine) != len(theirs):
        differences.append(f"{len(mine)} conv/linear layers, the reference has {len(theirs)}")
    if phrase := after_difference(_leading(ctx.analysis), _leading(ref)):
        differences.append(f"before the first conv/linear layer: {phrase}")
    for (label, name, has, after), (_label, ref_name, ref_has, ref_after) in zip(mine, theirs):
        for key, value in has.items():
            if key in ref_has and ref_has[key] != value and not (label.startswith("fc") and label == theirs[-1][0]):
                differences.append(f"{label} ({name}) has {key} {value}, the reference {ref_has[key]}")
        if phrase := after_difference(_kinds(after), _kinds(ref_after)):
            differences.append(f"after {label}: {phrase}")
        if lrn := lrn_difference(label, _first_lrn(after), _first_lrn(ref_after)):
            differences.append(lrn)
    if _halved(_widths(mine), _widths(theirs)):
        differences.insert(0, _HALF_WIDTH)
    return _compared(claim, ref, "layer by layer (widths, windows, strides, normalisation and pooling; the last "
                     "layer's width follows the classes)", differences)


def _leading(analysis: Analysis) -> frozenset[str]:
    """The compared kinds of the layers before the first conv/linear layer (a pool or a
    normalisation at the input), which no weighted layer's followers hold."""
    return _kinds(itertools.takewhile(lambda m: m.category not in WEIGHTED, analysis.modules))


def _kinds(modules: Iterable[ModuleInfo]) -> frozenset[str]:
    """The kinds same_as compares (activations, normalisation, pooling) among `modules`."""
    return frozenset(m.category for m in modules) & COMPARED


def _widths(profile: list[tuple[str, str, dict[str, Any], tuple[ModuleInfo, ...]]]) -> list[int]:
    """Each conv/linear layer's width but the last's, which follows the classes."""
    return [_width(h) for _, _, h, _ in profile[:-1]]


def _halved(widths: list[int], ref_widths: list[int]) -> bool:
    return bool(widths) and len(widths) == len(ref_widths) and all(r == 2 * w for w, r in zip(widths, ref_widths))


def _compared(claim: SameAsClaim, ref: Analysis, how: str, differences: list[str]) -> ClaimResult:
    """The verdict of comparing with `ref` (`how`: the way and what is compared) that found `differences`."""
    detail = f"compared with {ref.spec.id} {how}: " + ("; ".join(differences) if differences else "no difference")
    return result(claim, differences, Verdict.FAILS if differences else Verdict.HOLDS, detail)


def judge_listing(claim: ListingClaim, ctx: Context, _: list[ClaimResult]) -> ClaimResult:
    """A layer the listing defines is in the network only if the spec's layers hold it; a name the
    listing never defines stays a mistake of the code whatever value the spec was given."""
    if claim.check == "undefined_name":
        return result(claim, "undefined", Verdict.FAILS, f"the listing uses {claim.name} (line {claim.line}) but never "
                      "defines it: the code cannot run as written; the spec took its value from the import's --set")
    found = [lr.name for lr in ctx.analysis.spec.layers if lr.name == claim.name or lr.name.endswith("." + claim.name)]
    if found:
        return result(claim, found, Verdict.HOLDS, f"{claim.name} is in the network: {', '.join(found)}")
    return result(claim, "absent", Verdict.FAILS, f"the listing defines {claim.name} (line {claim.line}) but its forward "
                  "pass never applies it: the network has no such layer")
