"""scikit-learn's bundled 8x8 handwritten digits: 1,797 real images, no download needed."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from .base import DATAMODULES, BaseDataModule, normalize
from .datasets import InMemoryDataset
from .splits import split_indices

TEST_FRACTION = 0.2


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) float64 in 0..16, targets (1797,) int): ``load_digits()``'s
    arrays, read straight from the CSV scikit-learn ships, as ``load_digits`` itself does.
    Importing ``sklearn.datasets`` (and scipy) takes longer than all the rest of start-up;
    if the file ever moves, this falls back to it."""
    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        csv = Path(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
        if csv.is_file():
            data = np.loadtxt(csv, delimiter=",")
            return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target


@DATAMODULES.register("digits")
class DigitsDataModule(BaseDataModule):
    """Images are (1, 8, 8) floats in [0, 1] (pixels / 16), standardized with the
    training split's mean and std; 20 % is held out for test, then
    ``data.val_fraction`` of the rest for validation."""

    def setup(self):
        digit_images, digit_targets = load_digits_arrays()
        images = torch.from_numpy(digit_images).float().unsqueeze(1) / 16.0
        targets = torch.from_numpy(digit_targets).long()
        train_idx, val_idx, test_idx = split_indices(
            len(targets), self.config.val_fraction, TEST_FRACTION, self.config.split_seed
        )
        self.mean = images[train_idx].mean().item()
        self.std = images[train_idx].std().item()
        full = InMemoryDataset(
            normalize(images, self.mean, self.std), targets, [str(d) for d in range(10)]
        )
        return full.subset(train_idx), full.subset(val_idx), full.subset(test_idx)
