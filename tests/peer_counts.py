"""fvcore's count of a network written directly in PyTorch: the peer figure tests compare with."""

from __future__ import annotations

import logging
import warnings

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn


def fvcore_by_module(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """fvcore's MACs for each module path of `model` in eval mode; "" is the whole model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        analysis = FlopCountAnalysis(model.eval(), torch.zeros(1, *input_shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        with torch.no_grad():
            return {k: int(v) for k, v in analysis.by_module().items()}
