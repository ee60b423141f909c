"""Two comparisons between built networks, read off the models (never the spec text):

- `code_vs_prose` (counterpart.py): a spec against the same post's other reading, layer by
  layer: where they part and what that does to each aligned layer's figures;
- `paper_deviations` (paper.py): a spec against the 2012 paper's network: which of its features
  the spec keeps, drops, replaces or changes.

Both work on blocks (blocks.py): a conv or linear layer with the layers that follow it.
"""

from .blocks import Block, blocks
from .counterpart import AlignedLayer, Part, SpecDiff, TotalDelta, align, code_vs_prose, counterpart_diffs, diff
from .paper import PAPER_ID, Deviation, Trait, paper_deviations, read_against_paper, run_deviations, status

__all__ = ["PAPER_ID", "AlignedLayer", "Block", "Deviation", "Part", "SpecDiff", "TotalDelta", "Trait", "align", "blocks",
           "code_vs_prose", "counterpart_diffs", "diff", "paper_deviations", "read_against_paper", "run_deviations", "status"]
