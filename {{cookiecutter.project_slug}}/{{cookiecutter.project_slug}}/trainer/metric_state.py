"""The state of torchmetrics metrics in a checkpoint, as tensors (``torch.load
(weights_only=True)`` reads it){% if cookiecutter.profile == "full" %}; under torchrun, the state of all ranks together{% endif %}."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torchmetrics import MetricCollection


def metric_states(metrics: "MetricCollection"{% if cookiecutter.profile == "full" %}, strategy{% endif %}) -> dict[str, Any]:
    """Every metric's state{% if cookiecutter.profile == "full" %}; all ranks' merged under several processes (a collective){% endif %}."""
    metrics.persistent(True)  # states are then part of state_dict()
{%- if cookiecutter.profile == "full" %}
    if strategy.world_size > 1:
        for metric in metrics.values():
            metric.sync()
    try:
        return {name: _cpu(value) for name, value in metrics.state_dict().items()}
    finally:
        if strategy.world_size > 1:
            for metric in metrics.values():
                metric.unsync()
{%- else %}
    return {name: _cpu(value) for name, value in metrics.state_dict().items()}
{%- endif %}


def load_metric_states(metrics: "MetricCollection", states: dict[str, Any]) -> None:
    metrics.persistent(True)
    metrics.load_state_dict(states)
    for metric in metrics.values():
        # torchmetrics counts update() calls and warns when computing after none; the
        # restored state holds earlier updates.
        metric._update_count = max(metric._update_count, 1)


def _cpu(value):
    return [v.detach().cpu() for v in value] if isinstance(value, list) else value.detach().cpu()
