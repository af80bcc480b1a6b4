"""Metrics chosen by name (config key ``metrics``). Each returns a 0-dim tensor, the
batch mean, left on the device: the trainer averages over the epoch without syncing."""

import re
from collections.abc import Callable

import torch

from ..config import ConfigError

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=1) == targets).float().mean()


def top_k_accuracy(logits: torch.Tensor, targets: torch.Tensor, k: int) -> torch.Tensor:
    top_k = logits.topk(min(k, logits.shape[1]), dim=1).indices
    return (top_k == targets.unsqueeze(1)).any(dim=1).float().mean()


def build_metrics(names: list[str]) -> dict[str, Metric]:
    """``accuracy`` and ``topK_accuracy`` (e.g. ``top3_accuracy``) by name."""
    metrics: dict[str, Metric] = {}
    for name in names:
        match = re.fullmatch(r"top(\d+)_accuracy", name)
        if name == "accuracy":
            metrics[name] = accuracy
        elif match:
            k = int(match.group(1))
            metrics[name] = lambda logits, targets, k=k: top_k_accuracy(logits, targets, k)
        else:
            raise ConfigError(f"metrics: unknown metric {name!r}; use accuracy or topK_accuracy")
    return metrics
