"""Write the specs just under each documented limit, for the peak-memory figures in README.md.

    python benchmarks/limit_specs.py OUT_DIR

Each spec sits just below one limit and far below the others; the counts are worked out in the
comments (the analysis prints the same totals).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

HEADER = {"title": "just under a limit", "source": {"seed": "test", "section": "limits", "framework": "pytorch"}}
MAX_SPEC_BYTES = 1 << 20


def _write(out: Path, spec_id: str, doc: dict[str, Any]) -> str:
    text = yaml.safe_dump({"id": spec_id, **HEADER, **doc}, sort_keys=False, width=10_000)
    (out / f"{spec_id}.yaml").write_text(text)
    return text


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    head = [{"kind": "adaptive_avgpool", "output_size": 1}, {"kind": "flatten"},
            {"kind": "linear", "name": "out", "out_features": 10}]
    # Parameters (limit 400,000,000): 3*100*100 = 30,000 inputs x 13,300 + 13,300 = 399,013,300,
    # plus 13,300 x 10 + 10 = 133,010: 399,146,310 in all.
    _write(out, "params", {"input": [3, 100, 100], "num_classes": 10, "layers": [
        {"kind": "flatten"}, {"kind": "linear", "name": "big", "out_features": 13300},
        {"kind": "linear", "name": "out", "out_features": 10}]})
    # Activation values per sample (limit 300,000,000): input 8x4096x4096 = 134,217,728, a 1x1 conv
    # to 8 maps as many, then 8 + 8 + 10: 268,435,482.
    _write(out, "activations", {"input": [8, 4096, 4096], "num_classes": 10, "layers": [
        {"kind": "conv", "name": "c", "out_channels": 8, "kernel": 1}, *head]})
    # MACs (limit 20,000,000,000): two 3x3 convs 64 -> 64 on 512x512, padded: 2 x 64*512*512 x 64*9
    # = 19,327,352,832, plus the pool's 16,777,216 and the linear's 640.
    _write(out, "macs", {"input": [64, 512, 512], "num_classes": 10, "layers": [
        {"kind": "conv", "name": "c1", "out_channels": 64, "kernel": 3, "padding": 1},
        {"kind": "conv", "name": "c2", "out_channels": 64, "kernel": 3, "padding": 1}, *head]})
    # Layers (limit 512), claims (limit 2,000) and file size (limit 1 MiB): 255 conv+relu pairs and
    # a head, 2,000 params claims of which the 1,000 with an even index fail (each conv: 4*4*9+4 =
    # 148), padded with a comment to just under 1,048,576 bytes.
    layers: list[dict[str, Any]] = []
    for i in range(255):
        layers += [{"kind": "conv", "name": f"c{i}", "out_channels": 4, "kernel": 3, "padding": 1}, {"kind": "relu"}]
    layers += [{"kind": "flatten"}, {"kind": "linear", "name": "out", "out_features": 10}]
    claims = [{"id": f"p{i}", "kind": "params", "target": f"c{i % 255}", "claimed": 148 if i % 2 else 149 + i,
               "where": "x"} for i in range(2000)]
    text = _write(out, "layers-claims", {"input": [4, 16, 16], "num_classes": 10, "layers": layers, "claims": claims})
    pad = MAX_SPEC_BYTES - len(text.encode()) - 100
    (out / "layers-claims.yaml").write_text(text + "# " + "x" * pad + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
