{% if cookiecutter.profile == "full" -%}
"""Every way the data is cut, in one place: a random (train, val, test) split, the
stratified split of an image folder, and the stratified folds of k-fold
cross-validation (the train and val splits pooled first)."""

import bisect

import torch
from torch.utils.data import ConcatDataset, Dataset

from .datasets import BaseDataset, InMemoryDataset
{%- else -%}
"""Every way the data is cut, in one place: a random (train, val, test) split and the
stratified split of an image folder."""

import torch
{%- endif %}


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int):
    """A fixed random (train, val, test) split of ``range(n)``."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = round(n * test_fraction)
    n_val = round((n - n_test) * val_fraction)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]
{%- if cookiecutter.profile == "full" %}


def fold_indices(targets: torch.Tensor, folds: int, fold: int, seed: int):
    """(train, val) indices of stratified fold ``fold`` of ``folds``, fixed by ``seed``.

    Samples are shuffled, grouped class by class, and dealt to the folds in turn, so every
    fold holds each class's share to within one sample and fold sizes differ by at most one.
    """
    order = torch.randperm(len(targets), generator=torch.Generator().manual_seed(seed))
    order = order[torch.sort(targets[order], stable=True).indices]
    fold_of = torch.empty(len(targets), dtype=torch.long)
    fold_of[order] = torch.arange(len(targets)) % folds
    return (fold_of != fold).nonzero().flatten(), (fold_of == fold).nonzero().flatten()


class PooledDataset(BaseDataset):
    """Items of several datasets end to end, or a subset of them (``indices``)."""

    def __init__(self, datasets: list[Dataset], indices: torch.Tensor | None = None) -> None:
        self.items = ConcatDataset(datasets)
        self.classes = list(getattr(datasets[0], "classes", []))
        self.targets = torch.cat([dataset_targets(d) for d in datasets])
        self.indices = torch.arange(len(self.items)) if indices is None else indices
        self.targets = self.targets[self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item):
        # Data modules with per_sample_epoch get (index, epoch): pass the epoch through.
        index, epoch = item if isinstance(item, tuple) else (item, None)
        position = int(self.indices[index])
        if epoch is None:
            return self.items[position]
        part = bisect.bisect_right(self.items.cumulative_sizes, position)
        start = self.items.cumulative_sizes[part - 1] if part else 0
        return self.items.datasets[part][(position - start, epoch)]

    def subset(self, indices: torch.Tensor) -> "PooledDataset":
        pooled = PooledDataset.__new__(PooledDataset)
        pooled.items, pooled.classes = self.items, self.classes
        pooled.indices, pooled.targets = self.indices[indices], self.targets[indices]
        return pooled


def dataset_targets(dataset: Dataset) -> torch.Tensor:
    """Every label of a dataset: its ``targets`` (torchvision datasets and ours have
    one), else read item by item."""
    targets = getattr(dataset, "targets", None)
    if targets is None:
        targets = [dataset[i][1] for i in range(len(dataset))]
    return torch.as_tensor(targets).long()


def pool_and_fold(train: Dataset, val: Dataset, folds: int, fold: int, seed: int):
    """(train, val) for k-fold cross-validation: the two splits pooled, then cut by
    ``fold_indices``; the test split is never part of it."""
    if hasattr(train, "pooled_subset"):
        # Files re-dealt, each side keeping its own transforms: the fold's training part
        # is augmented like training data, its validation part prepared like eval data.
        targets = torch.cat([dataset_targets(train), dataset_targets(val)])
        train_idx, val_idx = fold_indices(targets, folds, fold, seed)
        return train.pooled_subset([train, val], train_idx), val.pooled_subset(
            [train, val], val_idx
        )
    if isinstance(train, InMemoryDataset) and isinstance(val, InMemoryDataset):
        pool = InMemoryDataset(
            torch.cat([train.inputs, val.inputs]),
            torch.cat([train.targets, val.targets]),
            train.classes,
        )
    else:
        pool = PooledDataset([train, val])
    train_idx, val_idx = fold_indices(pool.targets, folds, fold, seed)
    return pool.subset(train_idx), pool.subset(val_idx)
{%- endif %}


def stratified_split(targets: list[int], fractions: list[float], seed: int) -> list[list[int]]:
    """Positions of each class shuffled by ``seed`` and cut by ``fractions`` in turn
    (each of what is left): [rest, first cut, second cut...]."""
    generator = torch.Generator().manual_seed(seed)
    by_class: dict[int, list[int]] = {}
    for position, target in enumerate(targets):
        by_class.setdefault(target, []).append(position)
    parts: list[list[int]] = [[] for _ in range(len(fractions) + 1)]
    for target in sorted(by_class):
        members = by_class[target]
        order = [members[i] for i in torch.randperm(len(members), generator=generator)]
        for i, share in enumerate(fractions):
            n = round(len(order) * share)
            parts[i + 1] += order[:n]
            order = order[n:]
        parts[0] += order
    return [sorted(part) for part in parts]
