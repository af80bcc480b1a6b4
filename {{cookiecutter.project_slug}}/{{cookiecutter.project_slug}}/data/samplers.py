"""Samplers whose order depends only on (seed, epoch), so a run resumed mid-epoch
replays the same batches."""

from collections.abc import Iterator, Sequence, Sized

import torch
from torch.utils.data import Sampler, SequentialSampler


class ResumableSampler(Sampler):
    """Training order that depends only on (seed, epoch), and that can start part-way
    through an epoch: resuming at sample k replays the rest of the same order.

    With ``with_epoch`` it yields ``(index, epoch)`` pairs: the dataset then seeds each
    sample's random augmentation from them, in whichever worker process prepares it."""

    def __init__(self, dataset: Sized, shuffle: bool, seed: int, with_epoch: bool = False):
        self.dataset, self.shuffle, self.seed, self.with_epoch = dataset, shuffle, seed, with_epoch
        self.epoch = 0
        self.start_index = 0

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        self.epoch, self.start_index = epoch, start_index

    def epoch_order(self) -> list[int]:
        """Every index of the epoch in its order: a permutation seeded by seed + epoch (the
        order torch's samplers give for that seed), or 0, 1, 2... without shuffling."""
        if not self.shuffle:
            return list(range(len(self.dataset)))
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(len(self.dataset), generator=generator).tolist()

    def epoch_indices(self) -> list[int]:
        """The indices this sampler hands out in the epoch, from its start."""
        return self.epoch_order()

    def __iter__(self) -> Iterator:
        indices = self.epoch_indices()[self.start_index :]
        if self.with_epoch:
            return iter([(index, self.epoch) for index in indices])
        return iter(indices)

    def __len__(self) -> int:
        return len(self.dataset) - self.start_index


class WeightedResumableSampler(ResumableSampler):
    """``data.sampler=weighted``: each epoch draws ``len(dataset)`` samples with
    replacement, sample i with probability proportional to ``weights[i]``. The draw
    depends only on (seed, epoch)."""

    def __init__(self, dataset: Sized, weights, seed: int, with_epoch: bool = False):
        super().__init__(dataset, True, seed, with_epoch)
        self.weights = torch.as_tensor(weights, dtype=torch.double)

    def epoch_order(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        drawn = torch.multinomial(self.weights, len(self.dataset), True, generator=generator)
        return drawn.tolist()


def balanced_weights(targets: Sequence[int], num_classes: int) -> torch.Tensor:
    """A weight per sample, 1 / (its class's count): drawn by them, every class is seen
    about equally often."""
    targets = torch.as_tensor(targets)
    counts = torch.bincount(targets, minlength=num_classes).double()
    return 1.0 / counts[targets]


def make_sampler(
    dataset: Sized,
    *,
    shuffle: bool,
    seed: int,
    with_epoch: bool,
    weights=None,
    evaluation: bool = False,
) -> Sampler:
    """The sampler of a DataLoader over ``dataset`` (``build_datamodule``'s default
    ``sampler``): training draws by ``weights`` when given, else shuffles by ``shuffle``,
    resumably; ``evaluation`` reads every sample once, in order."""
    if evaluation:
        return SequentialSampler(dataset)
    if weights is not None:
        return WeightedResumableSampler(dataset, weights, seed, with_epoch)
    return ResumableSampler(dataset, shuffle, seed, with_epoch)
