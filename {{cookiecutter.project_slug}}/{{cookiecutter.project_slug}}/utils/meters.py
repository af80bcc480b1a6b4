"""Epoch averages weighted by batch size, accumulated on the device without host syncs."""

import torch


def sum_dtype(device: torch.device) -> torch.dtype:
    """float64 sums: float32 values times batch sizes add up exactly in 53 bits, so an epoch
    resumed mid-way (the saved sums, then the rest) averages to the same number as an
    uninterrupted one; in float32 the order of the additions shows in the last bit.
    Apple's MPS has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


class MetricTracker:
    """Sum ``value * batch_size`` per metric and the sample count; average once per epoch.
    An integer value is a count over the batch (right answers): it is summed as it is.

    ``update`` is called every step, so it only queues in-place device ops: no
    ``.item()`` and no new tensors after the first step. ``compute`` does the one
    host transfer.
    """

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}  # per metric, on the metric's device
        self.count = 0

    def update(self, values: dict[str, torch.Tensor], batch_size: int) -> None:
        for name, value in values.items():
            total = self.sums.get(name)
            if total is None:
                dtype = sum_dtype(value.device)
                total = self.sums[name] = torch.zeros((), dtype=dtype, device=value.device)
            if not value.is_floating_point():  # a count: exact in the float64 sum
                total.add_(value)
                continue
            # detach()/float() only when they do something: each is a dispatcher call.
            if value.requires_grad:
                value = value.detach()
            if value.dtype != torch.float32:
                value = value.float()
            total.add_(value, alpha=batch_size)
        self.count += batch_size

    def compute(self) -> dict[str, float]:
        """Averages over every sample seen."""
        if not self.sums:
            return {}
        totals = torch.stack(list(self.sums.values())).tolist()
        return {name: total / self.count for name, total in zip(self.sums, totals, strict=True)}

    def state_dict(self) -> dict:
        return {"sums": {k: v.detach().cpu() for k, v in self.sums.items()}, "count": self.count}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        device = torch.device(device)  # float32 sums of older checkpoints become float64
        self.sums = {k: v.to(device, sum_dtype(device)) for k, v in state["sums"].items()}
        self.count = int(state["count"])

    def total(self, name: str) -> float | None:
        """The running sum of one metric (one host sync), or None if unseen."""
        value = self.sums.get(name)
        return None if value is None else value.item()
