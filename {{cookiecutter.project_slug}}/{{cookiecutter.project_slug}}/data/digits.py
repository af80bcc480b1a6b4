"""scikit-learn's bundled 8x8 handwritten digits: 1,797 real images, no download needed."""

import torch

from .base import BaseDataModule, InMemoryDataset, normalize, split_indices

TEST_FRACTION = 0.2


class DigitsDataModule(BaseDataModule):
    """Images are (1, 8, 8) floats in [0, 1] (pixels / 16), standardized with the
    training split's mean and std; 20 % is held out for test, then
    ``data.val_fraction`` of the rest for validation."""

    def setup(self):
        from sklearn.datasets import load_digits  # deferred: only digits runs pay for sklearn

        digits = load_digits()
        images = torch.from_numpy(digits.images).float().unsqueeze(1) / 16.0
        targets = torch.from_numpy(digits.target).long()
        train_idx, val_idx, test_idx = split_indices(
            len(targets), self.config.val_fraction, TEST_FRACTION, self.config.split_seed
        )
        self.mean = images[train_idx].mean().item()
        self.std = images[train_idx].std().item()
        full = InMemoryDataset(
            normalize(images, self.mean, self.std), targets, [str(d) for d in range(10)]
        )
        return full.subset(train_idx), full.subset(val_idx), full.subset(test_idx)
