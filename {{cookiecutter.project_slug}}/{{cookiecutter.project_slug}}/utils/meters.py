"""Epoch averages weighted by batch size, accumulated on the device without host syncs."""

import torch

from . import dist


class MetricTracker:
    """Sum ``value * batch_size`` per metric and the sample count; average once per epoch.

    ``update`` is called every step, so it only queues in-place device ops: no
    ``.item()`` and no new tensors after the first step. ``compute`` does the one
    host transfer (and the one all-reduce under torchrun).
    """

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def update(self, values: dict[str, torch.Tensor], batch_size: int) -> None:
        for name, value in values.items():
            total = self._sums.get(name)
            if total is None:
                total = self._sums[name] = torch.zeros((), dtype=torch.float32, device=value.device)
            total.add_(value.detach().float(), alpha=batch_size)
        self.count += batch_size

    def compute(self) -> dict[str, float]:
        """Averages over every sample seen (on every rank)."""
        if not self._sums:
            return {}
        names = list(self._sums)
        device = self._sums[names[0]].device
        count = torch.tensor(float(self.count), device=device)
        packed = dist.all_reduce_sum(torch.stack([*self._sums.values(), count]))
        *totals, samples = packed.tolist()
        return {name: total / samples for name, total in zip(names, totals, strict=True)}

    def state_dict(self) -> dict:
        return {"sums": {k: v.detach().cpu() for k, v in self._sums.items()}, "count": self.count}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self._sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.count = int(state["count"])

    def total(self, name: str) -> float | None:
        """The running sum of one metric on this rank (one host sync), or None if unseen."""
        value = self._sums.get(name)
        return None if value is None else value.item()
