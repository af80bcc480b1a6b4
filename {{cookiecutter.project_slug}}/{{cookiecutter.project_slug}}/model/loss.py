"""Loss functions chosen by name (config key ``loss``)."""

import torch
from torch import nn

from ..config import Registry

LOSSES = Registry("loss")


def build_loss(
    name: str, label_smoothing: float = 0.0, weight: torch.Tensor | None = None
) -> nn.Module:
    """``weight``: one per class (``class_weights=auto``), or None."""
    return LOSSES.get(name)(label_smoothing, weight)


@LOSSES.register("cross_entropy")
def cross_entropy(label_smoothing: float, weight: torch.Tensor | None = None) -> nn.Module:
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)


@LOSSES.register("nll")
def nll(label_smoothing: float, weight: torch.Tensor | None = None) -> nn.Module:
    return nn.NLLLoss(weight=weight)  # for models whose forward ends in log_softmax
