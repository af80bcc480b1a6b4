"""The state of torchmetrics metrics in a checkpoint, as tensors (``torch.load
(weights_only=True)`` reads it), over every process that trains."""

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torchmetrics import MetricCollection


def metric_states(metrics: "MetricCollection") -> dict[str, Any]:
    """Every metric's state, merged over the processes when several train (torchmetrics'
    sync: a collective then, nothing in one process), then left as it was."""
    metrics.persistent(True)  # states are then part of state_dict()
    with contextlib.ExitStack() as merged:
        for metric in metrics.values():
            merged.enter_context(metric.sync_context())
        return {name: _cpu(value) for name, value in metrics.state_dict().items()}


def load_metric_states(metrics: "MetricCollection", states: dict[str, Any]) -> None:
    metrics.persistent(True)
    metrics.load_state_dict(states)
    for metric in metrics.values():
        # torchmetrics counts update() calls and warns when computing after none; the
        # restored state holds earlier updates.
        metric._update_count = max(metric._update_count, 1)


def _cpu(value):
    return [v.detach().cpu() for v in value] if isinstance(value, list) else value.detach().cpu()
