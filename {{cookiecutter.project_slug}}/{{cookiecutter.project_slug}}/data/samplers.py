"""Samplers whose order depends only on (seed, epoch), so a run resumed mid-epoch
replays the same batches; each rank of a torchrun job reads its own shard."""

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DistributedSampler, Sampler

from ..utils import DistInfo


class ResumableSampler(DistributedSampler):
    """``DistributedSampler`` whose order depends only on (seed, epoch), and that can
    start part-way through an epoch: resuming at batch k replays the same order.

    With ``with_epoch`` it yields ``(index, epoch)`` pairs: the dataset then seeds each
    sample's random augmentation from them, in whichever worker process prepares it."""

    def __init__(
        self,
        dataset: Sequence,
        dist_info: DistInfo,
        shuffle: bool,
        seed: int,
        with_epoch: bool = False,
    ) -> None:
        super().__init__(
            dataset,
            num_replicas=dist_info.world_size,
            rank=dist_info.rank,
            shuffle=shuffle,
            seed=seed,
        )
        self.start_index = 0
        self.with_epoch = with_epoch

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        super().set_epoch(epoch)
        self.start_index = start_index

    def epoch_indices(self) -> list[int]:
        return list(super().__iter__())

    def __iter__(self) -> Iterator:
        indices = self.epoch_indices()[self.start_index :]
        if self.with_epoch:
            return iter([(index, self.epoch) for index in indices])
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples - self.start_index


class WeightedResumableSampler(ResumableSampler):
    """``data.sampler=weighted``: each epoch draws ``len(dataset)`` samples with
    replacement, class c with probability proportional to 1 / (its count), so every
    class is seen about equally often. The draw depends only on (seed, epoch)."""

    def __init__(self, dataset, dist_info: DistInfo, seed: int, with_epoch: bool = False):
        super().__init__(dataset, dist_info, True, seed, with_epoch)
        targets = torch.as_tensor(dataset.targets)
        counts = torch.bincount(targets, minlength=len(dataset.classes)).double()
        self.weights = 1.0 / counts[targets]

    def epoch_indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        drawn = torch.multinomial(self.weights, self.total_size, True, generator=generator)
        return drawn[self.rank : self.total_size : self.num_replicas].tolist()


class ShardSampler(Sampler):
    """Evaluation sampler: rank r takes items r, r+W, r+2W... No padding, so under
    torchrun every sample is counted exactly once (DistributedSampler would repeat some)."""

    def __init__(self, dataset: Sequence, dist_info: DistInfo) -> None:
        self.indices = range(dist_info.rank, len(dataset), dist_info.world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
