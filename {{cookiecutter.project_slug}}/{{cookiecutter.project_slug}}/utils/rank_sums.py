"""A MetricTracker's sums added over the ranks of a torchrun job: the DDP and FSDP
strategies' ``reduce``, so an epoch's averages count every rank's samples and one rank
can checkpoint the whole unfinished epoch."""

import torch

from . import dist
from .meters import MetricTracker, sum_dtype


def summed_over_ranks(tracker: MetricTracker) -> MetricTracker:
    """A new tracker holding the sums and count of all ranks (a collective: every rank
    calls it); ``tracker`` itself is left as it was."""
    names = list(tracker.sums)
    if dist.is_enabled():
        # A rank whose shard was empty has no names: without the union it would skip
        # the all-reduce below and leave the other ranks waiting in it.
        names = sorted(set().union(*dist.all_gather_object(names)))
    summed = MetricTracker()
    if not names:
        return summed
    device = next(iter(tracker.sums.values())).device if tracker.sums else None
    device = device or dist.collective_device()
    zero = torch.zeros((), dtype=sum_dtype(device), device=device)
    count = torch.tensor(float(tracker.count), dtype=zero.dtype, device=device)
    packed = torch.stack([*(tracker.sums.get(name, zero) for name in names), count])
    packed = dist.all_reduce_sum(packed)
    summed.sums = dict(zip(names, packed[:-1].clone().unbind(), strict=True))
    summed.count = round(packed[-1].item())
    return summed
