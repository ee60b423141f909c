"""Helpers of the import tests: write a listing, import it, measure and judge the spec it gives."""

from __future__ import annotations

import textwrap
from pathlib import Path

from alexnet_audit.analysis import analyse
from alexnet_audit.audit import audit_paths
from alexnet_audit.importer import import_code
from alexnet_audit.spec import spec_from_text


# A convolution and one line of forward, whose return is line 10 (line 1 is the first import): the
# calls under test are written there.
CONV_NET = '''import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return {forward}
'''


def import_listing(tmp_path: Path, code: str, name: str = "listing.py", **options):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return import_code(path, **options)


def measured(text: str) -> list[tuple[str, str, tuple[int, ...], int]]:
    analysis = analyse(spec_from_text(text))
    return [(lr.name, lr.kind, lr.output_shape, lr.params) for lr in analysis.layers]


def judged(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "imported.yaml"
    path.write_text(text, encoding="utf-8")
    run = audit_paths([path])
    assert not run.broken, run.broken
    return {c.id: c for c in run.audits[0].claims}


def verdicts(tmp_path: Path, text: str) -> dict[str, str]:
    return {cid: c.verdict.value for cid, c in judged(tmp_path, text).items()}
