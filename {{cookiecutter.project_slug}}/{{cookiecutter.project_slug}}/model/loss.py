"""Loss functions chosen by name (config key ``loss``)."""

from torch import nn

from ..config import Registry

LOSSES = Registry("loss")


def build_loss(name: str, label_smoothing: float = 0.0) -> nn.Module:
    return LOSSES.get(name)(label_smoothing)


@LOSSES.register("cross_entropy")
def cross_entropy(label_smoothing: float) -> nn.Module:
    return nn.CrossEntropyLoss(label_smoothing=label_smoothing)


@LOSSES.register("nll")
def nll(label_smoothing: float) -> nn.Module:  # for models whose forward ends in log_softmax
    return nn.NLLLoss()
