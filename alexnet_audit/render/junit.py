"""What `check` hands to CI: JUnit XML for test reporters, one test suite per spec and one test
case per claim (classname = spec id, name = claim id); and the JSON document.

A test case fails exactly when the check fails on it: without a baseline, a failing claim;
with one, a change against it (a claim removed since the baseline is a failing case of its
own). Ambiguous and unverifiable claims are not skipped (this tool skips no claim): they are
passing cases whose <system-out> states the verdict and what settling them would take, like
every passing case's. A spec that cannot be loaded is a suite with one <error> case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..baseline import Change, ChangeKind, CheckOutcome
from ..claims import ClaimResult, Verdict
from .json_out import json_document, run_doc
from .safe import xml_text


def _explain(c: ClaimResult) -> str:
    # A claim judged on several readings has a detail that gives each reading's verdict already.
    lines = [f"verdict: {c.verdict.value}", f"where: {c.where}"] + ([f"quote: {c.quote}"] if c.quote else []) + [c.detail]
    lines += [f"diagnosis: {d.message}" for d in c.diagnoses]
    return xml_text("\n".join(lines))


def _element(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    """A child element whose attributes (spec ids, claim ids, paths, messages) XML can hold."""
    return ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})


def _claim_case(suite: ET.Element, spec_id: str, c: ClaimResult, change: Change | None, with_baseline: bool) -> None:
    case = _element(suite, "testcase", classname=spec_id, name=c.id)
    if change is not None:
        _element(case, "failure", message=change.message, type=change.kind.value).text = _explain(c)
    elif c.verdict == Verdict.FAILS and not with_baseline:
        _element(case, "failure", message=c.reason, type="fails").text = _explain(c)
    else:
        known = "\n(a known failure, recorded in the baseline)" if c.verdict == Verdict.FAILS else ""
        _element(case, "system-out").text = _explain(c) + known


def _removed_cases(suite: ET.Element, outcome: CheckOutcome, spec_id: str) -> None:
    for ch in outcome.changes:
        if ch.spec == spec_id and ch.kind == ChangeKind.REMOVED:
            case = _element(suite, "testcase", classname=spec_id, name=ch.claim)
            _element(case, "failure", message=ch.message, type=ch.kind.value)


def _count(element: ET.Element, cases: list[ET.Element]) -> None:
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    element.set("errors", str(sum(c.find("error") is not None for c in cases)))
    element.set("skipped", "0")


def junit_xml(outcome: CheckOutcome) -> str:
    root = ET.Element("testsuites", name="alexnet-audit")
    with_baseline = outcome.baseline is not None
    ids = [a.spec.id for a in outcome.run.audits]
    for audit in outcome.run.audits:
        suite = _element(root, "testsuite", name=audit.spec.id)
        for c in audit.claims:
            _claim_case(suite, audit.spec.id, c, outcome.change_of(audit.spec.id, c.id), with_baseline)
        _removed_cases(suite, outcome, audit.spec.id)
    for spec_id in sorted({ch.spec for ch in outcome.changes} - set(ids)):
        _removed_cases(_element(root, "testsuite", name=spec_id), outcome, spec_id)
    for broken in outcome.run.broken:
        suite = _element(root, "testsuite", name=broken.path)
        case = _element(suite, "testcase", classname=broken.path, name="load")
        _element(case, "error", message=str(broken.error), type="bad input")
    for suite in root.findall("testsuite"):
        _count(suite, suite.findall("testcase"))
    _count(root, root.findall("testsuite/testcase"))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def check_json(outcome: CheckOutcome) -> str:
    """The JSON contract of `compare --json`, plus a "check" key: the gate's changes and exit code."""
    return json_document({**run_doc(outcome.run), "check": outcome.to_dict()})
