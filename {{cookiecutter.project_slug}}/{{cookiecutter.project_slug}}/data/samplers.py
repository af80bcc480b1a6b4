"""Samplers whose order depends only on (seed, epoch), so a run resumed mid-epoch
replays the same batches{% if cookiecutter.profile == "full" %}; each rank of a torchrun job reads its own shard{% endif %}."""

{% if cookiecutter.profile == "full" -%}
import math
{% endif -%}
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DistributedSampler{% if cookiecutter.profile == "full" %}, Sampler

from ..utils.dist import DistInfo{% endif %}


class ResumableSampler(DistributedSampler):
    """``DistributedSampler`` whose order depends only on (seed, epoch), and that can
    start part-way through an epoch: resuming at batch k replays the same order.

    With ``with_epoch`` it yields ``(index, epoch)`` pairs: the dataset then seeds each
    sample's random augmentation from them, in whichever worker process prepares it."""

    def __init__(
        self,
        dataset: Sequence,
{%- if cookiecutter.profile == "full" %}
        dist_info: DistInfo,
{%- endif %}
        shuffle: bool,
        seed: int,
        with_epoch: bool = False,
    ) -> None:
        super().__init__(
            dataset,
{%- if cookiecutter.profile == "full" %}
            num_replicas=dist_info.world_size,
            rank=dist_info.rank,
{%- else %}
            num_replicas=1,
            rank=0,
{%- endif %}
            shuffle=shuffle,
            seed=seed,
        )
        self.start_index = 0
        self.with_epoch = with_epoch
{%- if cookiecutter.profile == "full" %}
        self.shared_out: tuple[int, list[int]] | None = None  # (epoch, this rank's indices)
{%- endif %}

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        super().set_epoch(epoch)
        self.start_index = start_index
{%- if cookiecutter.profile == "full" %}
        if self.shared_out is not None and self.shared_out[0] != epoch:
            self.shared_out = None
{%- endif %}
{%- if cookiecutter.profile == "full" %}

    def share_out_rest(self, epoch: int, consumed: int, end: int, batch_size: int) -> int:
        """Resume epoch ``epoch`` after its first ``consumed`` samples in the epoch's order
        (as another number of processes took them): this process gets its share of the
        order's positions ``consumed:end``. Returns the batches each process then runs."""
        super().set_epoch(epoch)
        if self.shuffle:  # DistributedSampler's order for (seed, epoch), before padding
            generator = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(len(self.dataset), generator=generator).tolist()
        else:
            order = list(range(len(self.dataset)))
        rest = order[consumed:end]
        self.shared_out = (epoch, share_out(rest, self.num_replicas, batch_size)[self.rank])
        return math.ceil(len(rest) / (self.num_replicas * batch_size))
{%- endif %}

    def epoch_indices(self) -> list[int]:
        return list(super().__iter__())

    def __iter__(self) -> Iterator:
{%- if cookiecutter.profile == "full" %}
        if self.shared_out is not None:
            indices = self.shared_out[1]
        else:
            indices = self.epoch_indices()[self.start_index :]
{%- else %}
        indices = self.epoch_indices()[self.start_index :]
{%- endif %}
        if self.with_epoch:
            return iter([(index, self.epoch) for index in indices])
        return iter(indices)

    def __len__(self) -> int:
{%- if cookiecutter.profile == "full" %}
        if self.shared_out is not None:
            return len(self.shared_out[1])
        return self.num_samples - self.start_index
{%- else %}
        return self.num_samples - self.start_index
{%- endif %}
{%- if cookiecutter.profile == "full" %}


def share_out(rest: list[int], ranks: int, batch_size: int) -> list[list[int]]:
    """Split ``rest`` over ``ranks`` processes, each sample once, so that every process
    runs the same number of batches (as DDP needs): step by step, ``ranks * batch_size``
    samples a step, a short last step in near-equal parts. A last step with fewer
    samples than processes is padded from the start, as DistributedSampler pads."""
    shares: list[list[int]] = [[] for _ in range(ranks)]
    step = ranks * batch_size
    for begin in range(0, len(rest), step):
        chunk = rest[begin : begin + step]
        while len(chunk) < ranks:
            chunk += rest[: ranks - len(chunk)]
        size, extra = divmod(len(chunk), ranks)
        start = 0
        for rank, share in enumerate(shares):
            end = start + size + (rank < extra)
            share.extend(chunk[start:end])
            start = end
    return shares
{%- endif %}


class WeightedResumableSampler(ResumableSampler):
    """``data.sampler=weighted``: each epoch draws ``len(dataset)`` samples with
    replacement, class c with probability proportional to 1 / (its count), so every
    class is seen about equally often. The draw depends only on (seed, epoch)."""

    def __init__(self, dataset, {% if cookiecutter.profile == "full" %}dist_info: DistInfo, {% endif %}seed: int, with_epoch: bool = False):
        super().__init__(dataset, {% if cookiecutter.profile == "full" %}dist_info, {% endif %}True, seed, with_epoch)
        targets = torch.as_tensor(dataset.targets)
        counts = torch.bincount(targets, minlength=len(dataset.classes)).double()
        self.weights = 1.0 / counts[targets]

    def epoch_indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        drawn = torch.multinomial(self.weights, self.total_size, True, generator=generator)
        return drawn[self.rank : self.total_size : self.num_replicas].tolist()
{%- if cookiecutter.profile == "full" %}


class ShardSampler(Sampler):
    """Evaluation sampler: rank r takes items r, r+W, r+2W... No padding, so under
    torchrun every sample is counted exactly once (DistributedSampler would repeat some)."""

    def __init__(self, dataset: Sequence, dist_info: DistInfo) -> None:
        self.indices = range(dist_info.rank, len(dataset), dist_info.world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
{%- endif %}
