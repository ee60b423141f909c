"""Layer kinds: each kind's shape, parameters and MACs by hand and against peer tools."""

from __future__ import annotations

import subprocess
import sys


def test_spec_layers_and_init_import_without_torch() -> None:
    probe = (
        "import sys, alexnet_audit.spec, alexnet_audit.layers, alexnet_audit.init\n"
        "print(sorted(m for m in ('torch', 'fvcore', 'pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
