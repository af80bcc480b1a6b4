"""MNIST and FashionMNIST read from their local IDX files (the format torchvision's
classes read; see idx.py for why not through them).

The project never downloads: without the files it stops with a message that says
which files to put where.
"""

from pathlib import Path

import torch

from ..utils.errors import DataError
from .base import DATAMODULES, BaseDataModule, normalize
from .datasets import InMemoryDataset
from .idx import read_idx_pair
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
    """28x28 grayscale digits. Each split is read as one uint8 tensor, scaled and
    normalized once; training never touches PIL."""

    dataset_name = "MNIST"  # the folder under data.root, as torchvision.datasets names it
    mean, std = 0.1307, 0.3081  # the usual MNIST training-set statistics
    # As torchvision.datasets.MNIST.classes names them, so checkpoints keep their names.
    class_names = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def setup(self):
        # exists(), not is_file(): a folder where a file belongs gets idx.py's own message.
        missing = [name for name in FILES if not (self._raw / name).exists()]
        if missing:
            raise DatasetNotFoundError(
                f"{self.dataset_name} files not found in {self._raw.resolve()} (missing: "
                f"{', '.join(missing)}); put the four uncompressed IDX files {', '.join(FILES)} "
                "there (this project does not download: copy them from a machine with network "
                f"access), or point data.root at a folder that holds {self.dataset_name}/raw/"
            )
        train_images, train_targets = read_idx_pair(*(self._raw / name for name in FILES[:2]))
        test_images, test_targets = read_idx_pair(*(self._raw / name for name in FILES[2:]))
        if train_images.shape[1:] != test_images.shape[1:]:
            raise DataError(
                f"{self._raw / FILES[0]} holds {size(train_images)} images but "
                f"{self._raw / FILES[2]} holds {size(test_images)}; every split needs the same "
                "image size"
            )
        for targets, name in ((train_targets, FILES[1]), (test_targets, FILES[3])):
            check_labels(targets, self._raw / name, len(self.class_names))
        train_idx, val_idx, _ = split_indices(
            len(train_targets), self.config.val_fraction, 0.0, self.config.split_seed
        )
        full_train = InMemoryDataset(self._images(train_images), train_targets, self.class_names)
        test_set = InMemoryDataset(self._images(test_images), test_targets, self.class_names)
        return full_train.subset(train_idx), full_train.subset(val_idx), test_set

    @property
    def _raw(self) -> Path:
        return Path(self.config.root) / self.dataset_name / "raw"

    def _images(self, pixels: torch.Tensor) -> torch.Tensor:
        # One float copy, scaled and normalized in place: a new tensor of 60,000 images
        # costs ~0.1 s of fresh pages each time, before the first training step.
        images = pixels.unsqueeze(1).float().div_(255.0)
        return normalize(images, self.mean, self.std, in_place=True)


@DATAMODULES.register("fashion_mnist")
class FashionMNISTDataModule(MNISTDataModule):
    """Zalando's FashionMNIST: same format as MNIST, ten clothing classes."""

    dataset_name = "FashionMNIST"
    mean, std = 0.2860, 0.3530
    class_names = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


def size(images: torch.Tensor) -> str:
    """``28x28`` for (N, 28, 28) images."""
    return "x".join(str(side) for side in images.shape[1:])


def check_labels(targets: torch.Tensor, source, num_classes: int) -> None:
    """Every label is a class index in [0, num_classes); ``source`` names the file."""
    bad = ((targets < 0) | (targets >= num_classes)).nonzero()
    if len(bad):
        index = int(bad[0])
        raise DataError(
            f"{source}: label {int(targets[index])} at position {index} is outside the "
            f"{num_classes} classes (labels must be 0..{num_classes - 1}); "
            f"{len(bad)} labels are out of range"
        )
