"""K-fold cross-validation (``data.folds``, ``data.fold``): the train and val splits of
any data module pooled, then cut into stratified folds; fold ``fold`` validates, the rest
trains. It plugs into the data modules through ``SPLIT_CHANGES`` (base.py), and into the
small-validation advice through ``VALIDATION_ADVICE`` (summary.py)."""

import bisect

import torch
from torch.utils.data import ConcatDataset, Dataset

from .base import SPLIT_CHANGES, refuse_empty
from .datasets import BaseDataset, InMemoryDataset
from .image_folder import ImageFolderDataset
from .summary import VALIDATION_ADVICE


def folds_of(config, train: Dataset, val: Dataset) -> tuple[Dataset, Dataset]:
    """(train, val) of fold ``data.fold`` of ``data.folds`` (unchanged when folds=0)."""
    if not config.folds:
        return train, val
    train, val = pool_and_fold(train, val, config.folds, config.fold, config.split_seed)
    refuse_empty({"train": train, "val": val}, config.name, f"data.folds={config.folds}")
    return train, val


def fold_advice(data, advice: list[str]) -> list[str]:
    """What to do about a small validation split, k-fold included."""
    if data.folds > 2:
        return [f"use fewer folds (data.folds={data.folds} now)"]
    if data.folds:
        return ["add data (2 folds hold out half of it already)"]
    return [*advice, "use k-fold (data.folds=5 data.fold=0..4)"]


SPLIT_CHANGES.append(folds_of)
VALIDATION_ADVICE.append(fold_advice)


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
    if isinstance(train, ImageFolderDataset) and isinstance(val, ImageFolderDataset):
        # Files re-dealt, each side keeping its own transforms: the fold's training part
        # is augmented like training data, its validation part prepared like eval data.
        targets = torch.cat([dataset_targets(train), dataset_targets(val)])
        train_idx, val_idx = fold_indices(targets, folds, fold, seed)
        return pooled_files(train, [train, val], train_idx), pooled_files(
            val, [train, val], val_idx
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


def pooled_files(
    like: ImageFolderDataset, datasets: list[ImageFolderDataset], positions
) -> ImageFolderDataset:
    """Items ``positions`` of ``datasets`` end to end, prepared with ``like``'s pipeline
    and seed (a fold's training part is augmented, its validation part is not, wherever
    each file came from)."""
    files = [f for d in datasets for f in d.files]
    targets = [t for d in datasets for t in d.targets]
    picked = [int(i) for i in positions]
    subset = ImageFolderDataset(
        [files[i] for i in picked],
        [targets[i] for i in picked],
        like.classes,
        like.channels,
        like.pipeline,
        like.seed,
    )
    if all(d.images is not None for d in datasets):
        images = [image for d in datasets for image in d.images]
        subset.images = [images[i] for i in picked]
    subset.shape = like.shape
    return subset
