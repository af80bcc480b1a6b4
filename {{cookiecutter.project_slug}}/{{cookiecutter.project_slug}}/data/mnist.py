"""MNIST and FashionMNIST read by torchvision's own classes from local IDX files.

The project never downloads: without the files it stops with a message that says
which files to put where.
"""

from pathlib import Path

import torch

from ..utils.errors import DataError
from .base import BaseDataModule, InMemoryDataset, normalize, split_indices

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetNotFoundError(DataError, FileNotFoundError):
    """The dataset's files are not where the config says."""


class MNISTDataModule(BaseDataModule):
    """28x28 grayscale digits. ``.data`` is read as one uint8 tensor, scaled and
    normalized once; training never touches PIL."""

    dataset_name = "MNIST"  # the torchvision.datasets class, and the folder under data.root
    mean, std = 0.1307, 0.3081  # the usual MNIST training-set statistics

    def setup(self):
        train = self._load(train=True)
        test = self._load(train=False)
        classes = list(train.classes)
        train_idx, val_idx, _ = split_indices(
            len(train), self.config.val_fraction, 0.0, self.config.split_seed
        )
        full_train = InMemoryDataset(self._images(train), train.targets.long(), classes)
        test_set = InMemoryDataset(self._images(test), test.targets.long(), classes)
        return full_train.subset(train_idx), full_train.subset(val_idx), test_set

    def _images(self, dataset) -> torch.Tensor:
        return normalize(dataset.data.unsqueeze(1).float() / 255.0, self.mean, self.std)

    def _load(self, train: bool):
        from torchvision import datasets  # deferred: slow to import, and only these need it

        try:
            dataset_class = getattr(datasets, self.dataset_name)
            return dataset_class(self.config.root, train=train, download=False)
        except RuntimeError as error:
            if "not found" not in str(error).lower():
                raise
            raw = Path(self.config.root) / self.dataset_name / "raw"
            raise DatasetNotFoundError(
                f"{self.dataset_name} files not found in {raw.resolve()}.\n"
                f"Put these four uncompressed IDX files there: {', '.join(FILES)}.\n"
                "This project does not download (it must run offline). Copy them from a machine "
                "with network access, or point data.root=/path/to/dir at a folder that holds "
                f"{self.dataset_name}/raw/."
            ) from None


class FashionMNISTDataModule(MNISTDataModule):
    """Zalando's FashionMNIST: same format as MNIST, ten clothing classes."""

    dataset_name = "FashionMNIST"
    mean, std = 0.2860, 0.3530
