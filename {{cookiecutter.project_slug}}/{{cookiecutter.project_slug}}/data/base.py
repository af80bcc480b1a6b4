"""Base classes for data: a dataset that knows its classes, and a data module that
builds the train/val/test DataLoaders from config.

Subclass ``BaseDataModule`` and implement ``setup`` to add your own data; the
trainer only ever calls the ``*_dataloader`` methods, ``set_epoch`` and the batch hooks
(``transfer_batch_to_device``, ``batch_size``: override them for dict batches...).
"""

import abc
from collections.abc import Callable

import torch
from torch.utils.data import DataLoader, Sampler

from ..config import Registry
from ..config.schema import DataConfig
from ..utils import seed_worker
from ..utils.errors import ConfigError
from .batches import batch_size, move_batch
from .datasets import BaseDataset, collate_batched
from .samplers import ResumableSampler, balanced_weights, make_sampler

# @DATAMODULES.register("name") on each data module: the name is data.name.
DATAMODULES = Registry("data.name")
# Functions (data config, train set, val set) -> (train set, val set) that cut the
# training data another way: every data module applies them after its ``setup``, so
# each gets them without code of its own. Added parts register here.
SPLIT_CHANGES: list[Callable] = []


def normalize(images: torch.Tensor, mean, std, in_place: bool = False) -> torch.Tensor:
    """``(images - mean) / std``: one value, or one per channel (images ``(C, H, W)`` or
    ``(N, C, H, W)``); unchanged when either is None. The data modules scale once at load
    time, so training never converts per item; predict.py prepares new images with it.
    ``in_place``: into ``images`` (the same values; no new tensor of the data's size)."""
    if mean is None or std is None:
        return images
    mean = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1, 1)
    std = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1, 1)
    return images.sub_(mean).div_(std) if in_place else (images - mean) / std


class BaseDataModule(abc.ABC):
    """Owns the datasets and builds their DataLoaders with the settings in ``data.*``."""

    # Image data modules set these to the normalization applied to pixels in [0, 1]
    # (a float, or one value per channel). They are saved in every checkpoint, so
    # predict.py prepares new images exactly like the training data. None: no normalization.
    mean: float | list[float] | None = None
    std: float | list[float] | None = None
    # True: the training sampler yields (index, epoch) pairs (see ResumableSampler).
    per_sample_epoch: bool = False

    def __init__(self, config: DataConfig, seed: int = 0, sampler: Callable | None = None):
        """``sampler(dataset, *, shuffle, seed, with_epoch, weights=None, evaluation=False)``
        makes each loader's sampler (the trainer's strategy gives it); None: ``make_sampler``."""
        self.config = config
        self.seed = seed
        self.sampler = sampler or make_sampler
        self.train_set, self.val_set, self.test_set = self.setup()
        for change in SPLIT_CHANGES:
            self.train_set, self.val_set = change(config, self.train_set, self.val_set)
        self._check_split_sizes()
        self.train_sampler: ResumableSampler | None = None  # the last train_dataloader's
        self._train_generator = torch.Generator()

    @abc.abstractmethod
    def setup(self) -> tuple[BaseDataset, BaseDataset, BaseDataset]:
        """Load the data and return the (train, val, test) datasets."""

    def _check_split_sizes(self) -> None:
        """An empty split, or a training set too small for one batch with ``drop_last``,
        would otherwise fail much later (a division by zero, an empty epoch)."""
        sizes = {"train": self.train_set, "val": self.val_set, "test": self.test_set}
        refuse_empty(sizes, self.config.name, f"data.val_fraction={self.config.val_fraction}")
        # What one epoch gives this loader: the whole training set, unless the sampler
        # deals it out to several processes.
        per_epoch = len(self.sampler(self.train_set, shuffle=False, seed=0, with_epoch=False))
        if self.config.drop_last and per_epoch < self.config.batch_size:
            raise ConfigError(
                f"data.batch_size={self.config.batch_size} with data.drop_last=true leaves no "
                f"training batch ({per_epoch} training samples an epoch); lower the batch "
                "size or set data.drop_last=false"
            )

    @property
    def classes(self) -> list[str]:
        return list(self.train_set.classes)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_counts(self) -> torch.Tensor:
        """Training samples per class (for ``class_weights=auto``)."""
        targets = torch.as_tensor(self.train_set.targets)
        return torch.bincount(targets, minlength=self.num_classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, e.g. (1, 28, 28); models size themselves from it."""
        return tuple(self.train_set[0][0].shape)

    def preprocessing(self) -> dict:
        """What predict.py needs to turn a new image into a model input, as plain types."""
        return {"input_shape": list(self.input_shape), "mean": self.mean, "std": self.std}

    def train_dataloader(self, shuffle: bool | None = None) -> DataLoader:
        shuffle = self.config.shuffle if shuffle is None else shuffle
        weights = None
        if self.config.sampler == "weighted":
            weights = balanced_weights(self.train_set.targets, len(self.train_set.classes))
        self.train_sampler = self.sampler(
            self.train_set,
            shuffle=shuffle,
            seed=self.seed,
            with_epoch=self.per_sample_epoch,
            weights=weights,
        )
        return self._loader(
            self.train_set,
            self.config.batch_size,
            self.train_sampler,
            self.config.drop_last,
            self._train_generator,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader(self.val_set)

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader(self.test_set)

    def transfer_batch_to_device(self, batch, device: torch.device):
        """The batch on ``device`` (Lightning's hook name). Training, validation, the test
        of train.py and evaluate.py all move batches through this one method."""
        return move_batch(batch, device)

    def batch_size(self, batch) -> int:
        """Samples in a batch, which weights the epoch averages of every metric."""
        return batch_size(batch)

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Fix the epoch's shuffle order; skip ``start_batch`` batches when resuming mid-epoch."""
        if self.train_sampler is not None:
            self.train_sampler.set_epoch(epoch, start_batch * self.config.batch_size)
        # Worker seeds come from this generator: re-seed it so epoch e gets the same
        # worker seeds whether or not the run was resumed.
        self._train_generator.manual_seed(self.seed + epoch)

    def _eval_loader(self, dataset: BaseDataset) -> DataLoader:
        sampler = self.sampler(
            dataset, shuffle=False, seed=self.seed, with_epoch=False, evaluation=True
        )
        generator = torch.Generator().manual_seed(self.seed)
        return self._loader(dataset, self.config.eval_batch_size, sampler, False, generator)

    def _loader(
        self,
        dataset: BaseDataset,
        batch_size: int,
        sampler: Sampler,
        drop_last: bool,
        generator: torch.Generator,
    ) -> DataLoader:
        workers = self.config.num_workers
        batched = hasattr(dataset, "__getitems__")
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=workers,
            pin_memory=self.config.pin_memory and torch.cuda.is_available(),
            drop_last=drop_last,
            persistent_workers=self.config.persistent_workers and workers > 0,
            prefetch_factor=self.config.prefetch_factor if workers > 0 else None,
            collate_fn=collate_batched if batched else None,
            worker_init_fn=seed_worker if workers > 0 else None,
            # A private generator: creating an iterator never consumes the global torch RNG.
            generator=generator,
        )


def refuse_empty(splits: dict[str, BaseDataset], data_name: str, setting: str) -> None:
    """A ConfigError naming the first empty split of ``splits`` and the ``setting`` that
    cut it (an empty split would otherwise fail much later, in a division by zero)."""
    for name, dataset in splits.items():
        if len(dataset) == 0:
            raise ConfigError(
                f"the {name} split of data.name={data_name} is empty; with "
                f"{setting} it needs more data (or another setting)"
            )
