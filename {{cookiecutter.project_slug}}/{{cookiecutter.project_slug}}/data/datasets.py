"""Datasets that know their classes: the base class, and the in-memory one the
tensor-backed data modules (digits, MNIST) use."""

import abc

import torch
from torch.utils.data import Dataset


class BaseDataset(Dataset, abc.ABC):
    """A map-style dataset (``__len__`` + ``__getitem__``) with class names."""

    classes: list[str] = []

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __getitem__(self, index: int): ...


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
