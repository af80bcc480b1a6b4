"""Datasets that know their classes: the base class, and the in-memory one the
tensor-backed data modules (digits, MNIST) use."""

import abc

import torch
from torch.utils.data import Dataset

from ..utils.errors import DataError


class BaseDataset(Dataset, abc.ABC):
    """A map-style dataset (``__len__`` + ``__getitem__``) with class names."""

    classes: list[str] = []

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __getitem__(self, index: int): ...


def check_two_classes(source, found: list[str], what: str, how: str) -> None:
    """Every data source's rule, checked before a run directory exists: a classifier needs
    two classes or more (with one, training "succeeds" and the metrics fail)."""
    if len(found) < 2:
        raise DataError(
            f"{source} holds one {what} ({found[0]}); a classifier needs two or more: {how}"
        )


class InMemoryDataset(BaseDataset):
    """Small image sets held as one normalized tensor: no per-item decoding or PIL.

    ``__getitems__`` lets the DataLoader fetch a whole batch with one indexing op
    instead of ``batch_size`` ``__getitem__`` calls plus a stack.
    """

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, classes: list[str]) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"{len(inputs)} inputs but {len(targets)} targets")
        self.inputs = inputs
        self.targets = targets
        self.classes = classes

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inputs[index], self.targets[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(indices)
        return self.inputs[index], self.targets[index]

    def subset(self, indices: torch.Tensor) -> "InMemoryDataset":
        return InMemoryDataset(self.inputs[indices], self.targets[indices], self.classes)


def collate_batched(batch):
    """``collate_fn`` for datasets with ``__getitems__``: the batch is already stacked."""
    return batch
