"""The JSON contract (documented in the README): stable keys that CI and other tools read."""

from __future__ import annotations

import json
import re
from typing import Any

from .. import __version__
from ..results import CONVENTION
from ..audit import AuditRun, SpecAudit

# A file name that is not UTF-8 reaches us with lone surrogates, which UTF-8 cannot encode;
# JSON's \u escape can, and they only ever stand inside strings.
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_document(doc: Any) -> str:
    """`doc` as indented JSON text that always encodes as UTF-8."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def spec_json(audit: SpecAudit) -> dict[str, Any]:
    a, t = audit.analysis, audit.analysis.totals
    src = audit.spec.doc.source
    return {
        "id": audit.spec.id,
        "title": audit.spec.doc.title,
        "source": {"seed": src.seed, "section": src.section, "framework": src.framework, "variant": src.variant,
                   "counterpart": src.counterpart},
        "input": list(audit.spec.doc.input),
        "totals": {
            "params": t.params, "trainable_params": t.trainable_params, "non_trainable_params": t.non_trainable_params,
            "macs": t.macs, "flops": t.flops, "neurons": t.neurons, "connections": t.connections,
            "activation_bytes": t.activation_bytes, "macs_complete": t.macs_complete,
        },
        "layers": [
            {"name": lr.name, "kind": lr.kind, "stage": lr.stage, "output_shape": list(lr.output_shape),
             "params": lr.params, "non_trainable_params": lr.non_trainable_params, "macs": lr.macs,
             "macs_closed_form": lr.macs_closed_form, "macs_flop_counter": lr.macs_flop_counter,
             "receptive_field": lr.receptive_field, "effective_stride": lr.effective_stride}
            for lr in a.layers
        ],
        "claims": [
            {"id": c.id, "target": c.target, "kind": c.kind, "claimed": c.claimed, "measured": c.measured,
             "verdict": c.verdict.value, "diagnosis": c.diagnosis, "diagnoses": [d.message for d in c.diagnoses],
             "detail": c.detail, "where": c.where, "quote": c.quote,
             "readings": [{"label": r.label, "verdict": r.verdict.value, "measured": r.measured, "detail": r.detail,
                           "diagnoses": [d.message for d in r.diagnoses]} for r in c.readings]}
            for c in audit.claims
        ],
        "incomplete": list(a.incomplete),
        "disagreements": list(a.disagreements),
        "errors": [],
    }


def run_doc(run: AuditRun) -> dict[str, Any]:
    """The JSON contract as data, which `check --json` extends."""
    specs = [spec_json(a) for a in run.audits]
    specs += [{"id": None, "path": b.path, "errors": [str(b.error)]} for b in run.broken]
    return {"tool": {"name": "alexnet-audit", "version": __version__},
            "convention": {"macs": CONVENTION.counted, "excluded": CONVENTION.excluded, "flops": CONVENTION.flops},
            "specs": specs}


def run_json(run: AuditRun) -> str:
    return json_document(run_doc(run))
