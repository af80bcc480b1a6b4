"""Base classes for data: a dataset that knows its classes, and a data module that
builds the train/val/test DataLoaders from config.

Subclass ``BaseDataModule`` and implement ``setup`` to add your own data; the
trainer only ever calls the ``*_dataloader`` methods and ``set_epoch``.
"""

import abc
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, DistributedSampler, Sampler

from ..config import Registry
from ..config.schema import DataConfig
from ..utils import DistInfo, seed_worker
from ..utils.errors import ConfigError, DataError

# @DATAMODULES.register("name") on each data module: the name is data.name.
DATAMODULES = Registry("data.name")


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


class ResumableSampler(DistributedSampler):
    """``DistributedSampler`` whose order depends only on (seed, epoch), and that can
    start part-way through an epoch: resuming at batch k replays the same order.

    With ``with_epoch`` it yields ``(index, epoch)`` pairs: the dataset then seeds each
    sample's random augmentation from them, in whichever worker process prepares it."""

    def __init__(
        self,
        dataset: Sequence,
        dist_info: DistInfo,
        shuffle: bool,
        seed: int,
        with_epoch: bool = False,
    ) -> None:
        super().__init__(
            dataset,
            num_replicas=dist_info.world_size,
            rank=dist_info.rank,
            shuffle=shuffle,
            seed=seed,
        )
        self.start_index = 0
        self.with_epoch = with_epoch

    def set_epoch(self, epoch: int, start_index: int = 0) -> None:
        super().set_epoch(epoch)
        self.start_index = start_index

    def epoch_indices(self) -> list[int]:
        return list(super().__iter__())

    def __iter__(self) -> Iterator:
        indices = self.epoch_indices()[self.start_index :]
        if self.with_epoch:
            return iter([(index, self.epoch) for index in indices])
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples - self.start_index


class WeightedResumableSampler(ResumableSampler):
    """``data.sampler=weighted``: each epoch draws ``len(dataset)`` samples with
    replacement, class c with probability proportional to 1 / (its count), so every
    class is seen about equally often. The draw depends only on (seed, epoch)."""

    def __init__(self, dataset, dist_info: DistInfo, seed: int, with_epoch: bool = False):
        super().__init__(dataset, dist_info, True, seed, with_epoch)
        targets = torch.as_tensor(dataset.targets)
        counts = torch.bincount(targets, minlength=len(dataset.classes)).double()
        self.weights = 1.0 / counts[targets]

    def epoch_indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        drawn = torch.multinomial(self.weights, self.total_size, True, generator=generator)
        return drawn[self.rank : self.total_size : self.num_replicas].tolist()


class ShardSampler(Sampler):
    """Evaluation sampler: rank r takes items r, r+W, r+2W... No padding, so under
    torchrun every sample is counted exactly once (DistributedSampler would repeat some)."""

    def __init__(self, dataset: Sequence, dist_info: DistInfo) -> None:
        self.indices = range(dist_info.rank, len(dataset), dist_info.world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int):
    """A fixed random (train, val, test) split of ``range(n)``."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = round(n * test_fraction)
    n_val = round((n - n_test) * val_fraction)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


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

    def __getitem__(self, index: int):
        return self.items[int(self.indices[index])]

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


def normalize(images: torch.Tensor, mean, std) -> torch.Tensor:
    """``(images - mean) / std``: one value, or one per channel (images ``(C, H, W)`` or
    ``(N, C, H, W)``); unchanged when either is None. The data modules scale once at load
    time, so training never converts per item; predict.py prepares new images with it."""
    if mean is None or std is None:
        return images
    mean = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1, 1)
    std = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1, 1)
    return (images - mean) / std


class BaseDataModule(abc.ABC):
    """Owns the datasets and builds their DataLoaders with the settings in ``data.*``."""

    # Image data modules set these to the normalization applied to pixels in [0, 1]
    # (a float, or one value per channel). They are saved in every checkpoint, so
    # predict.py prepares new images exactly like the training data. None: no normalization.
    mean: float | list[float] | None = None
    std: float | list[float] | None = None
    # True: the training sampler yields (index, epoch) pairs (see ResumableSampler).
    per_sample_epoch: bool = False

    def __init__(self, config: DataConfig, seed: int = 0, dist_info: DistInfo | None = None):
        self.config = config
        self.seed = seed
        self.dist_info = dist_info or DistInfo()
        self.train_set, self.val_set, self.test_set = self.setup()
        if config.folds:  # here, so every data module gets k-fold without code of its own
            self.train_set, self.val_set = pool_and_fold(
                self.train_set, self.val_set, config.folds, config.fold, config.split_seed
            )
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
                setting = (
                    f"data.folds={self.config.folds}"
                    if self.config.folds
                    else f"data.val_fraction={self.config.val_fraction}"
                )
                raise ConfigError(
                    f"the {name} split of data.name={self.config.name} is empty; with "
                    f"{setting} it needs more data (or another setting)"
                )
        per_rank = len(self.train_set) // self.dist_info.world_size
        if self.config.drop_last and per_rank < self.config.batch_size:
            raise ConfigError(
                f"data.batch_size={self.config.batch_size} with data.drop_last=true leaves no "
                f"training batch ({per_rank} training samples per process); lower the batch "
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
                self.train_set, self.dist_info, self.seed, self.per_sample_epoch
            )
        else:
            self._train_sampler = ResumableSampler(
                self.train_set, self.dist_info, shuffle, self.seed, self.per_sample_epoch
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

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Fix the epoch's shuffle order; skip ``start_batch`` batches when resuming mid-epoch."""
        if self._train_sampler is not None:
            self._train_sampler.set_epoch(epoch, start_batch * self.config.batch_size)
        # Worker seeds come from this generator: re-seed it so epoch e gets the same
        # worker seeds whether or not the run was resumed.
        self._train_generator.manual_seed(self.seed + epoch)

    def _eval_loader(self, dataset: BaseDataset) -> DataLoader:
        sampler = ShardSampler(dataset, self.dist_info)
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
