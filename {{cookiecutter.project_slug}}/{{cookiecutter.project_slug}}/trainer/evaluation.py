"""``evaluate(model, loader, metrics, device)``: the validation and test pass as a plain
function (as in torchvision's reference scripts), for train.py's final test and
evaluate.py. The trainer runs the same pass with its ``validation_step``."""

from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..data.batches import batch_size, move_batch
from ..logger.confusion import per_class_scores
from ..model import build_loss, build_metrics
from ..model.metric import compute_metrics, confusion_matrix
from ..utils import MetricTracker

if TYPE_CHECKING:
    from torchmetrics import MetricCollection

# (transfer: batch -> batch on the device, size: batch -> number of samples)
BatchHooks = tuple[Callable[[Any], Any], Callable[[Any], int]]
# The strategy's ``reduce``: a tracker of every process's sums, from this one's.
Reduce = Callable[[MetricTracker], MetricTracker] | None


def evaluate(
    model: nn.Module,
    loader,
    metrics: "MetricCollection",
    device: torch.device,
    prefix: str = "test",
    autocast: Callable = nullcontext,
    criterion: nn.Module | None = None,
    batches: "BatchHooks | None" = None,
    reduce: "Reduce" = None,
) -> dict[str, float]:
    """``<prefix>_loss`` (with a ``criterion``) and every metric over all the samples of
    ``loader``, in eval mode. ``metrics`` keep their state afterwards, so a caller can
    read more from them (the confusion matrix). ``batches``: (transfer, size) hooks,
    by default ``data.batches``' tensors-in-tuples/dicts handling; ``reduce``: the
    strategy's, to average the loss over the samples of every process."""
    model.eval()
    metrics.reset()

    def step(batch, batch_idx: int) -> dict[str, torch.Tensor]:
        return score_batch(model, batch, metrics, criterion)

    if batches is None:
        batches = (lambda batch: move_batch(batch, device), batch_size)
    results = run_evaluation(step, loader, batches, prefix, autocast=autocast, reduce=reduce)
    return results | {f"{prefix}_{name}": value for name, value in compute_metrics(metrics).items()}


def evaluate_test_split(
    model: nn.Module,
    loader,
    config,
    classes: list[str],
    device,
    autocast=nullcontext,
    batches=None,
    reduce: "Reduce" = None,
) -> tuple[dict[str, float], torch.Tensor]:
    """The test report of train.py and evaluate.py: loss, the configured ``metrics``,
    each class's precision and recall, and the confusion matrix (rows: true class)."""
    metrics = build_metrics(config.metrics, len(classes))
    metrics.add_metrics({"confusion_matrix": confusion_matrix(len(classes))})
    criterion = build_loss(config.loss, config.label_smoothing)
    metrics = metrics.to(device)
    results = evaluate(model, loader, metrics, device, "test", autocast, criterion, batches, reduce)
    matrix = metrics["confusion_matrix"].compute().cpu()
    return results | per_class_scores(matrix, classes, "test"), matrix


def score_batch(model: nn.Module, batch, metrics, criterion) -> dict[str, torch.Tensor]:
    """One ``(inputs, targets)`` batch: the metrics' states updated, the loss returned."""
    inputs, targets = batch
    outputs = model(inputs)
    metrics.update(outputs, targets)
    return {} if criterion is None else {"loss": criterion(outputs, targets)}


# inference_mode: no_grad without autograd's view and version bookkeeping (Lightning
# validates under it too); tensors made here can never enter a backward pass.
@torch.inference_mode()
def run_evaluation(
    step: Callable[[Any, int], dict[str, torch.Tensor]],
    loader,
    batches: "BatchHooks",
    prefix: str,
    max_batches: int | None = None,
    autocast: Callable = nullcontext,
    reduce: "Reduce" = None,
) -> dict[str, float]:
    """Average ``step(batch, batch_idx)``'s values over the batches, weighted by batch
    size; ``batches``: (move a batch to the device, count its samples), the hooks the
    training loop uses; ``autocast``: the precision's, around each step; ``reduce``:
    the strategy's (None: this process's samples only)."""
    tracker = MetricTracker()
    transfer, size = batches
    for batch_idx, batch in enumerate(loader):
        if max_batches is not None and batch_idx >= max_batches:
            break
        batch = transfer(batch)
        with autocast():
            values = step(batch, batch_idx)
        tracker.update(values, size(batch))
    if reduce is not None:
        tracker = reduce(tracker)
    return {f"{prefix}_{name}": value for name, value in tracker.compute().items()}
