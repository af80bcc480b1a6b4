"""Metrics chosen by name (config key ``metrics``). Each returns a 0-dim tensor, the
batch mean, left on the device: the trainer averages over the epoch without syncing."""

from collections.abc import Callable
from functools import partial

import torch

from ..config import Registry

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
METRICS = Registry("metrics")


def build_metrics(names: list[str]) -> dict[str, Metric]:
    return {name: METRICS.get(name) for name in names}


@METRICS.register("accuracy")
def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=1) == targets).float().mean()


def top_k_accuracy(logits: torch.Tensor, targets: torch.Tensor, k: int) -> torch.Tensor:
    top_k = logits.topk(min(k, logits.shape[1]), dim=1).indices
    return (top_k == targets.unsqueeze(1)).any(dim=1).float().mean()


for k in (2, 3, 5, 10):
    METRICS.register(f"top{k}_accuracy")(partial(top_k_accuracy, k=k))
