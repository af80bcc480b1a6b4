"""Epoch averages weighted by batch size, accumulated on the device without host syncs."""

import torch
{%- if cookiecutter.profile == "full" %}

from . import dist
{%- endif %}


def sum_dtype(device: torch.device) -> torch.dtype:
    """float64 sums: float32 values times batch sizes add up exactly in 53 bits, so an epoch
    resumed mid-way (the saved sums of all ranks, then the rest) averages to the same
    number as an uninterrupted one; in float32 the order of the additions shows in the
    last bit. Apple's MPS has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


class MetricTracker:
    """Sum ``value * batch_size`` per metric and the sample count; average once per epoch.

    ``update`` is called every step, so it only queues in-place device ops: no
    ``.item()`` and no new tensors after the first step. ``compute`` does the one
    host transfer{% if cookiecutter.profile == "full" %} (and the one all-reduce under torchrun){% endif %}.
    """

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def update(self, values: dict[str, torch.Tensor], batch_size: int) -> None:
        for name, value in values.items():
            total = self._sums.get(name)
            if total is None:
                dtype = sum_dtype(value.device)
                total = self._sums[name] = torch.zeros((), dtype=dtype, device=value.device)
            # detach()/float() only when they do something: each is a dispatcher call.
            if value.requires_grad:
                value = value.detach()
            if value.dtype != torch.float32:
                value = value.float()
            total.add_(value, alpha=batch_size)
        self.count += batch_size

    def compute(self) -> dict[str, float]:
{%- if cookiecutter.profile == "full" %}
        """Averages over every sample seen (on every rank)."""
        names, packed = self._summed_over_ranks()
        if packed is None:
            return {}
        *totals, samples = packed.tolist()
        return {name: total / samples for name, total in zip(names, totals, strict=True)}

    def reduced(self) -> "MetricTracker":
        """A tracker holding the sums and count of all ranks (a collective under torchrun),
        so one rank can checkpoint the whole unfinished epoch."""
        names, packed = self._summed_over_ranks()
        tracker = MetricTracker()
        if packed is not None:
            tracker._sums = dict(zip(names, packed[:-1].clone().unbind(), strict=True))
            tracker.count = round(packed[-1].item())
        return tracker

    def _summed_over_ranks(self) -> tuple[list[str], torch.Tensor | None]:
        """Metric names and ``[sum per name..., count]`` added over ranks (None if empty)."""
        names = list(self._sums)
        if dist.is_enabled():
            # A rank whose shard was empty has no names: without the union it would skip
            # the all-reduce below and leave the other ranks waiting in it.
            names = sorted(set().union(*dist.all_gather_object(names)))
        if not names:
            return names, None
        device = next(iter(self._sums.values())).device if self._sums else None
        device = device or dist.collective_device()
        zero = torch.zeros((), dtype=sum_dtype(device), device=device)
        count = torch.tensor(float(self.count), dtype=zero.dtype, device=device)
        packed = torch.stack([*(self._sums.get(name, zero) for name in names), count])
        return names, dist.all_reduce_sum(packed)
{%- else %}
        """Averages over every sample seen."""
        if not self._sums:
            return {}
        totals = torch.stack(list(self._sums.values())).tolist()
        return {name: total / self.count for name, total in zip(self._sums, totals, strict=True)}
{%- endif %}

    def state_dict(self) -> dict:
        return {"sums": {k: v.detach().cpu() for k, v in self._sums.items()}, "count": self.count}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        device = torch.device(device)  # float32 sums of older checkpoints become float64
        self._sums = {k: v.to(device, sum_dtype(device)) for k, v in state["sums"].items()}
        self.count = int(state["count"])

    def total(self, name: str) -> float | None:
        """The running sum of one metric{% if cookiecutter.profile == "full" %} on this rank{% endif %} (one host sync), or None if unseen."""
        value = self._sums.get(name)
        return None if value is None else value.item()
