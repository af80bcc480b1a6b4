"""Samplers for a torchrun job: each rank reads its own shard of the epoch order the
single-process samplers (samplers.py) give, dealt out as torch's ``DistributedSampler``
deals it; evaluation shards count every sample exactly once. ``DDPStrategy.sampler``
(trainer/distributed.py) hands them to the data module."""

import math
from collections.abc import Callable, Iterator, Sequence, Sized

from torch.utils.data import Sampler

from ..utils.dist import DistInfo
from .samplers import ResumableSampler, make_sampler


def sampler_for(dist_info: DistInfo) -> Callable[..., Sampler]:
    """``build_datamodule``'s ``sampler`` for the rank ``dist_info`` describes."""

    def sampler(dataset: Sized, *, shuffle, seed, with_epoch, weights=None, evaluation=False):
        if evaluation:
            return ShardSampler(dataset, dist_info)
        whole = make_sampler(
            dataset, shuffle=shuffle, seed=seed, with_epoch=with_epoch, weights=weights
        )
        return ShardedSampler(whole, dist_info)

    return sampler


class ShardedSampler(ResumableSampler):
    """Rank r's shard of ``whole``'s epoch order: positions r, r+W, r+2W... of it, padded
    from its start to a multiple of the W ranks (as ``DistributedSampler`` pads), so
    every rank runs the same number of batches, as DDP needs."""

    def __init__(self, whole: ResumableSampler, dist_info: DistInfo) -> None:
        super().__init__(whole.dataset, whole.shuffle, whole.seed, whole.with_epoch)
        self.whole = whole
        self.rank, self.num_replicas = dist_info.rank, dist_info.world_size
        self.num_samples = math.ceil(len(whole.dataset) / self.num_replicas)
        self.shared_out: tuple[int, list[int]] | None = None  # (epoch, this rank's indices)

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        if self.shared_out is not None and self.shared_out[0] != epoch:
            self.shared_out = None
        # A shared-out epoch's indices are already only the rest of it.
        super().set_epoch(epoch, 0 if self.shared_out is not None else start_index)

    def epoch_order(self) -> list[int]:
        self.whole.set_epoch(self.epoch)
        return self.whole.epoch_order()

    def epoch_indices(self) -> list[int]:
        if self.shared_out is not None:
            return self.shared_out[1]
        order = self.epoch_order()
        total = self.num_samples * self.num_replicas
        if padding := total - len(order):
            order += (order * math.ceil(padding / len(order)))[:padding]
        return order[self.rank : total : self.num_replicas]

    def __len__(self) -> int:
        if self.shared_out is not None:
            return len(self.shared_out[1])
        return self.num_samples - self.start_index

    def share_out_rest(self, epoch: int, consumed: int, batches: int, batch_size: int) -> int:
        """Resume epoch ``epoch`` after its first ``consumed`` samples in the epoch's order
        (as another number of ranks took them): this rank gets its share of the rest, up
        to ``batches`` batches a rank. Returns the batches each rank then runs."""
        self.set_epoch(epoch)
        end = min(len(self.dataset), batches * batch_size * self.num_replicas)
        rest = self.epoch_order()[consumed:end]
        self.shared_out = (epoch, share_out(rest, self.num_replicas, batch_size)[self.rank])
        return math.ceil(len(rest) / (self.num_replicas * batch_size))


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


class ShardSampler(Sampler):
    """Evaluation sampler: rank r takes items r, r+W, r+2W... No padding, so under
    torchrun every sample is counted exactly once (DistributedSampler would repeat some)."""

    def __init__(self, dataset: Sequence, dist_info: DistInfo) -> None:
        self.indices = range(dist_info.rank, len(dataset), dist_info.world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
