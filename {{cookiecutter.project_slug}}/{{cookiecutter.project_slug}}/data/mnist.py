"""MNIST and FashionMNIST read by torchvision's own classes from local IDX files.

The project never downloads: without the files it stops with a message that says
which files to put where.
"""

from pathlib import Path

import torch

from ..utils.errors import DataError
from .base import DATAMODULES, BaseDataModule, check_labels, normalize
from .datasets import InMemoryDataset
from .idx import check_idx_pair
from .splits import split_indices

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetNotFoundError(DataError, FileNotFoundError):
    """The dataset's files are not where the config says."""


@DATAMODULES.register("mnist")
class MNISTDataModule(BaseDataModule):
    """28x28 grayscale digits. ``.data`` is read as one uint8 tensor, scaled and
    normalized once; training never touches PIL."""

    dataset_name = "MNIST"  # the torchvision.datasets class, and the folder under data.root
    mean, std = 0.1307, 0.3081  # the usual MNIST training-set statistics

    def setup(self):
        self._check_files()
        train = self._load(train=True)
        test = self._load(train=False)
        classes = list(train.classes)
        for dataset, prefix in ((train, "train"), (test, "t10k")):
            check_labels(dataset.targets, self._raw / f"{prefix}-labels-idx1-ubyte", len(classes))
        train_idx, val_idx, _ = split_indices(
            len(train), self.config.val_fraction, 0.0, self.config.split_seed
        )
        full_train = InMemoryDataset(self._images(train), train.targets.long(), classes)
        test_set = InMemoryDataset(self._images(test), test.targets.long(), classes)
        return full_train.subset(train_idx), full_train.subset(val_idx), test_set

    @property
    def _raw(self) -> Path:
        return Path(self.config.root) / self.dataset_name / "raw"

    def _check_files(self) -> None:
        """Header, size and count checks of the IDX files that exist (a missing one is
        reported by ``_load``); both splits' images must have one size."""
        sizes = {}
        for prefix in ("train", "t10k"):
            images = self._raw / f"{prefix}-images-idx3-ubyte"
            labels = self._raw / f"{prefix}-labels-idx1-ubyte"
            if images.exists() and labels.exists():
                sizes[images] = check_idx_pair(images, labels)
        if len(set(sizes.values())) > 1:
            (train, train_size), (test, test_size) = sizes.items()
            raise DataError(
                f"{train} holds {train_size[0]}x{train_size[1]} images but {test} holds "
                f"{test_size[0]}x{test_size[1]}; every split needs the same image size"
            )

    def _images(self, dataset) -> torch.Tensor:
        # One float copy, scaled and normalized in place: a new tensor of 60,000 images
        # costs ~0.1 s of fresh pages each time, before the first training step.
        images = dataset.data.unsqueeze(1).float().div_(255.0)
        return normalize(images, self.mean, self.std, in_place=True)

    def _load(self, train: bool):
        from torchvision import datasets  # deferred: slow to import, and only these need it

        try:
            dataset_class = getattr(datasets, self.dataset_name)
            return dataset_class(self.config.root, train=train, download=False)
        except RuntimeError as error:
            if "not found" not in str(error).lower():
                raise
            raise DatasetNotFoundError(
                f"{self.dataset_name} files not found in {self._raw.resolve()}.\n"
                f"Put these four uncompressed IDX files there: {', '.join(FILES)}.\n"
                "This project does not download (it must run offline). Copy them from a machine "
                "with network access, or point data.root=/path/to/dir at a folder that holds "
                f"{self.dataset_name}/raw/."
            ) from None


@DATAMODULES.register("fashion_mnist")
class FashionMNISTDataModule(MNISTDataModule):
    """Zalando's FashionMNIST: same format as MNIST, ten clothing classes."""

    dataset_name = "FashionMNIST"
    mean, std = 0.2860, 0.3530
