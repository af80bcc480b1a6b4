"""``evaluate(model, loader, metrics, device)``: the validation and test pass as a plain
function (as in torchvision's reference scripts), for train.py's final test and
evaluate.py. The trainer runs the same pass with its ``validation_step``."""

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..utils import MetricTracker

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def evaluate(
    model: nn.Module,
    loader,
    metrics: dict[str, Metric],
    device: torch.device,
    prefix: str = "test",
    autocast: Callable = contextlib.nullcontext,
) -> dict[str, float]:
    """Each metric (``name -> fn(outputs, targets)``, the loss included) averaged over
    every sample of ``loader``, in eval mode, as ``<prefix>_<name>``."""
    model.eval()

    def step(batch, batch_idx: int) -> dict[str, torch.Tensor]:
        return batch_metrics(model, batch, metrics)

    return run_evaluation(step, loader, device, prefix, autocast=autocast)


def batch_metrics(model: nn.Module, batch, metrics: dict[str, Metric]) -> dict[str, torch.Tensor]:
    """One ``(inputs, targets)`` batch: the model's outputs scored by every metric."""
    inputs, targets = batch
    outputs = model(inputs)
    return {name: metric(outputs, targets) for name, metric in metrics.items()}


# inference_mode: no_grad without autograd's view and version bookkeeping (Lightning
# validates under it too); tensors made here can never enter a backward pass.
@torch.inference_mode()
def run_evaluation(
    step: Callable[[Any, int], dict[str, torch.Tensor]],
    loader,
    device: torch.device,
    prefix: str,
    max_batches: int | None = None,
    autocast: Callable = contextlib.nullcontext,
) -> dict[str, float]:
    """Average ``step(batch, batch_idx)``'s values over the batches, weighted by batch
    size. Under torchrun each rank runs its shard and the averages are over all ranks."""
    tracker = MetricTracker()
    non_blocking = device.type == "cuda"
    for batch_idx, batch in enumerate(loader):
        if max_batches is not None and batch_idx >= max_batches:
            break
        batch = tuple(tensor.to(device, non_blocking=non_blocking) for tensor in batch)
        with autocast():
            values = step(batch, batch_idx)
        tracker.update(values, len(batch[0]))
    return {f"{prefix}_{name}": value for name, value in tracker.compute().items()}
