"""Loss functions chosen by name (config key ``loss``)."""

from torch import nn

from ..config import ConfigError


def build_loss(name: str, label_smoothing: float = 0.0) -> nn.Module:
    if name == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    if name == "nll":  # for models whose forward ends in log_softmax
        return nn.NLLLoss()
    raise ConfigError(f"loss={name!r} is not one of ['cross_entropy', 'nll']")
