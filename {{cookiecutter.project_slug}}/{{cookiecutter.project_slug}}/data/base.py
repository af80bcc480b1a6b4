"""Base classes for data: a dataset that knows its classes, and a data module that
builds the train/val/test DataLoaders from config.

Subclass ``BaseDataModule`` and implement ``setup`` to add your own data; the
trainer only ever calls the ``*_dataloader`` methods, ``set_epoch`` and the batch hooks
(``transfer_batch_to_device``, ``batch_size``: override them for dict batches...).
"""

import abc

import torch
from torch.utils.data import DataLoader, Sampler

from ..config import Registry
from ..config.schema import DataConfig
from ..utils import seed_worker
{%- if cookiecutter.profile == "full" %}
from ..utils.dist import DistInfo
{%- endif %}
from ..utils.errors import ConfigError{% if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}, DataError{% endif %}
from .batches import batch_size, move_batch
from .datasets import BaseDataset, collate_batched
from .samplers import ResumableSampler, {% if cookiecutter.profile == "full" %}ShardSampler, {% endif %}WeightedResumableSampler
{%- if cookiecutter.profile == "full" %}
from .splits import pool_and_fold
{%- endif %}

# @DATAMODULES.register("name") on each data module: the name is data.name.
DATAMODULES = Registry("data.name")
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}


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
{%- endif %}


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
{%- if cookiecutter.profile == "full" %}

    def __init__(self, config: DataConfig, seed: int = 0, dist_info: DistInfo | None = None):
        self.config = config
        self.seed = seed
        self.dist_info = dist_info or DistInfo()
{%- else %}

    def __init__(self, config: DataConfig, seed: int = 0):
        self.config = config
        self.seed = seed
{%- endif %}
        self.train_set, self.val_set, self.test_set = self.setup()
{%- if cookiecutter.profile == "full" %}
        if config.folds:  # here, so every data module gets k-fold without code of its own
            self.train_set, self.val_set = pool_and_fold(
                self.train_set, self.val_set, config.folds, config.fold, config.split_seed
            )
{%- endif %}
        self._check_split_sizes()
        self._train_sampler: ResumableSampler | None = None
        self._train_generator = torch.Generator()

    @abc.abstractmethod
    def setup(self) -> tuple[BaseDataset, BaseDataset, BaseDataset]:
        """Load the data and return the (train, val, test) datasets."""

    def _check_split_sizes(self) -> None:
        """An empty split, or a training set too small for one batch with ``drop_last``,
        would otherwise fail much later (a division by zero, an empty epoch)."""
        sizes = {"train": self.train_set, "val": self.val_set, "test": self.test_set}
        for name, dataset in sizes.items():
            if len(dataset) == 0:
{%- if cookiecutter.profile == "full" %}
                setting = (
                    f"data.folds={self.config.folds}"
                    if self.config.folds
                    else f"data.val_fraction={self.config.val_fraction}"
                )
{%- else %}
                setting = f"data.val_fraction={self.config.val_fraction}"
{%- endif %}
                raise ConfigError(
                    f"the {name} split of data.name={self.config.name} is empty; with "
                    f"{setting} it needs more data (or another setting)"
                )
{%- if cookiecutter.profile == "full" %}
        per_rank = len(self.train_set) // self.dist_info.world_size
        if self.config.drop_last and per_rank < self.config.batch_size:
            raise ConfigError(
                f"data.batch_size={self.config.batch_size} with data.drop_last=true leaves no "
                f"training batch ({per_rank} training samples per process); lower the batch "
{%- else %}
        if self.config.drop_last and len(self.train_set) < self.config.batch_size:
            raise ConfigError(
                f"data.batch_size={self.config.batch_size} with data.drop_last=true leaves no "
                f"training batch ({len(self.train_set)} training samples); lower the batch "
{%- endif %}
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
        if self.config.sampler == "weighted":
            self._train_sampler = WeightedResumableSampler(
                self.train_set, {% if cookiecutter.profile == "full" %}self.dist_info, {% endif %}self.seed, self.per_sample_epoch
            )
        else:
            self._train_sampler = ResumableSampler(
                self.train_set, {% if cookiecutter.profile == "full" %}self.dist_info, {% endif %}shuffle, self.seed, self.per_sample_epoch
            )
        return self._loader(
            self.train_set,
            self.config.batch_size,
            self._train_sampler,
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
        if self._train_sampler is not None:
            self._train_sampler.set_epoch(epoch, start_batch * self.config.batch_size)
        # Worker seeds come from this generator: re-seed it so epoch e gets the same
        # worker seeds whether or not the run was resumed.
        self._train_generator.manual_seed(self.seed + epoch)

{%- if cookiecutter.profile == "full" %}

    def share_out_rest_of_epoch(self, epoch: int, consumed: int, batches: int) -> int | None:
        """Resume ``epoch`` after ``consumed`` samples of its order, taken by another number
        of processes: each remaining sample of the epoch (``batches`` per process) goes to
        one process. Returns the batches each process runs; None for a weighted sampler
        (its draw depends on the number of processes: nothing to continue)."""
        sampler = self._train_sampler
        if sampler is None or isinstance(sampler, WeightedResumableSampler):
            return None
        batch_size = self.config.batch_size
        end = min(len(self.train_set), batches * batch_size * self.dist_info.world_size)
        return sampler.share_out_rest(epoch, consumed, end, batch_size)
{%- endif %}

    def _eval_loader(self, dataset: BaseDataset) -> DataLoader:
{%- if cookiecutter.profile == "full" %}
        sampler = ShardSampler(dataset, self.dist_info)
        generator = torch.Generator().manual_seed(self.seed)
        return self._loader(dataset, self.config.eval_batch_size, sampler, False, generator)
{%- else %}
        generator = torch.Generator().manual_seed(self.seed)
        return self._loader(dataset, self.config.eval_batch_size, None, False, generator)
{%- endif %}

    def _loader(
        self,
        dataset: BaseDataset,
        batch_size: int,
        sampler: Sampler{% if cookiecutter.profile != "full" %} | None{% endif %},
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
