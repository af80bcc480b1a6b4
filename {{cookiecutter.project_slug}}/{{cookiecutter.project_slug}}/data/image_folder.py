"""Your own images: ``data.root/<class>/<image>``, as torchvision's ``ImageFolder``.

Either ``root/train/<class>/...`` (with optional ``root/val`` and ``root/test``; a
missing one is split off ``train``) or one ``root/<class>/...`` folder, split by
``data.val_fraction`` / ``data.test_fraction``, stratified by class and fixed by
``data.split_seed``. Class names are the folder names, sorted.

Files are decoded by ``torchvision.io`` into uint8 tensors and transformed by the
``data.train_transforms`` / ``data.eval_transforms`` lists; each training sample's
augmentation is seeded from (seed, epoch, index), so batches depend neither on
``num_workers`` nor on a resume.
"""

import logging
from pathlib import Path

import torch
from omegaconf import OmegaConf

from ..utils.errors import ConfigError, DataError
from .base import DATAMODULES, BaseDataModule
from .datasets import BaseDataset
from .image_files import check_classes_left, scan_split
from .image_stats import auto_channels, auto_image_size, normalize_statistics
from .images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BadImageError,
    ImagePipeline,
    decode,
    default_transforms,
    sample_seed,
)
from .splits import stratified_split

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


class ImageFolderDataset(BaseDataset):
    """Image files and their class indices. ``dataset[i]`` prepares item i with the
    pipeline; ``dataset[(i, epoch)]`` seeds its random transforms from (seed, epoch, i)."""

    def __init__(
        self,
        files: list[str],
        targets: list[int],
        classes: list[str],
        channels: int,
        pipeline: ImagePipeline | None = None,
        seed: int | None = None,
    ) -> None:
        self.files, self.targets, self.classes = files, targets, classes
        self.channels, self.pipeline, self.seed = channels, pipeline, seed
        self.images: list[torch.Tensor] | None = None  # data.cache=true: decoded once
        self.shape: tuple[int, ...] | None = None  # every output must have it

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> torch.Tensor:
        if self.images is not None:
            return self.images[index]
        return decode(self.files[index], self.channels)

    def __getitem__(self, item):
        index, epoch = item if isinstance(item, tuple) else (item, 0)
        seed = None if self.seed is None else sample_seed(self.seed, epoch, index)
        sample = self.pipeline(self.image(index), seed)
        if self.shape is not None and tuple(sample.shape) != self.shape:
            raise DataError(
                f"the transforms turned {self.files[index]} into shape {tuple(sample.shape)}, "
                f"not {self.shape} like the other images; end data.train_transforms and "
                "data.eval_transforms with a fixed-size crop or resize"
            )
        return sample, self.targets[index]


@DATAMODULES.register("image_folder")
class ImageFolderDataModule(BaseDataModule):
    """Class-per-folder JPEG/PNG/WebP images of any size and mode."""

    per_sample_epoch = True

    def setup(self):
        cfg = self.config
        root = Path(cfg.root)
        if not root.is_dir():
            raise DataError(
                f"data.root={cfg.root}: no such folder; point it at your images, laid out "
                "as <root>/<class>/<image> or <root>/train/<class>/<image>"
            )
        self.channels, self.sizes, self.lost_per_class = cfg.channels, {}, {}
        splits, skipped = self._scan(root)
        image_size = self._resolve_auto(splits)
        train_specs, eval_specs = default_transforms(image_size, cfg.flip)
        self.train_specs = self._specs("train_transforms", train_specs)
        self.eval_specs = self._specs("eval_transforms", eval_specs)
        if cfg.skip_bad_images or cfg.cache:
            splits, skipped = self._decode_all(splits, skipped)
        self.skipped = skipped  # reported in train.log by train_dataloader()
        self.mean, self.std = self._statistics(splits["train"])
        train_pipeline = ImagePipeline(
            self.train_specs, self.mean, self.std, "data.train_transforms"
        )
        eval_pipeline = ImagePipeline(self.eval_specs, self.mean, self.std, "data.eval_transforms")
        train, val, test = (splits[name] for name in SPLITS)
        train.pipeline, train.seed = train_pipeline, self.seed
        val.pipeline = test.pipeline = eval_pipeline
        shape = self._try_pipelines(train, train_pipeline, eval_pipeline)
        for dataset in (train, val, test):
            dataset.shape = shape
        self._input_shape = shape
        return train, val, test

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._input_shape

    def _try_pipelines(self, train, train_pipeline, eval_pipeline) -> tuple[int, ...]:
        """Both pipelines on the training images of the extreme sizes (smallest, largest,
        widest, tallest, by their headers), before any run directory exists: transforms
        that cannot work, or that leave images of different sizes, are found now."""
        sized = [(self.sizes[f], i) for i, f in enumerate(train.files) if f in self.sizes]
        picks = {0}
        if sized:
            for key in (
                lambda item: item[0][0] * item[0][1],
                lambda item: -item[0][0] * item[0][1],
                lambda item: item[0][1] / item[0][0],
                lambda item: item[0][0] / item[0][1],
            ):
                picks.add(min(sized, key=key)[1])
        shape = None
        for index in sorted(picks):
            path = train.files[index]
            image = train.image(index)
            for pipeline in (eval_pipeline, train_pipeline):
                got = pipeline.trial(image, path)
                if shape is None:
                    shape, first = got, (path, pipeline.key)
                elif got != shape and path == first[0]:
                    raise ConfigError(
                        f"data.train_transforms give images of shape {got} but "
                        f"data.eval_transforms give {shape}; end both lists with the same "
                        "fixed size"
                    )
                elif got != shape:
                    raise ConfigError(
                        f"{pipeline.key} turn {path} into shape {got} but {first[1]} turn "
                        f"{first[0]} into {shape}: images of different sizes need a "
                        "resize or crop to one fixed size at the end of "
                        "data.train_transforms and data.eval_transforms"
                    )
        return shape

    def _resolve_auto(self, splits) -> int:
        """data.channels=auto and data.image_size=auto from the training images (their
        headers, read by the scan): sets every split's channels, returns the size."""
        cfg, train = self.config, splits["train"]
        self.auto_notes, image_size = [], cfg.image_size
        if cfg.channels == "auto":
            self.channels, why = auto_channels(train.files)
            self.auto_notes.append(f"data.channels=auto: {self.channels} ({why})")
            for dataset in splits.values():
                dataset.channels = self.channels
        if image_size == "auto":
            sizes = [self.sizes[f] for f in train.files if self.sizes.get(f)]
            image_size, why = auto_image_size(sizes)
            self.auto_notes.append(f"data.image_size=auto: {image_size} ({why})")
        return image_size

    def train_dataloader(self, shuffle: bool | None = None):
        for note in self.auto_notes:  # here, not in setup: train.py's log file exists by now
            log.info(note)
        if self.skipped:  # here, not in setup: train.py's log file exists by now
            log.warning(
                "data.skip_bad_images: %d files left out, e.g. %s",
                *(len(self.skipped), self.skipped[0]),
            )
        if self.lost_per_class:
            log.warning(
                "data.skip_bad_images: images left out per class: %s",
                ", ".join(f"{name} {n}" for name, n in self.lost_per_class.items()),
            )
        return super().train_dataloader(shuffle)

    def preprocessing(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "mean": self.mean,
            "std": self.std,
            "eval_transforms": self.eval_specs,  # predict.py rebuilds the same pipeline
        }

    def _specs(self, key: str, default: list[dict]) -> list[dict]:
        specs = self.config[key]
        return default if specs is None else OmegaConf.to_container(specs, resolve=True)

    def _scan(self, root: Path):
        cfg, skip = self.config, self.config.skip_bad_images
        sizes, lost = self.sizes, self.lost_per_class
        if (root / "train").is_dir():
            files, targets, classes, skipped = scan_split(root / "train", None, skip, sizes, lost)
            splits = {"train": (files, targets)}
            for name in ("val", "test"):
                if (root / name).is_dir():
                    f, t, _, s = scan_split(root / name, classes, skip, sizes, lost)
                    splits[name], skipped = (f, t), skipped + s
            missing = [name for name in ("test", "val") if name not in splits]
            fractions = {"val": cfg.val_fraction, "test": cfg.test_fraction}
        else:
            files, targets, classes, skipped = scan_split(root, None, skip, sizes, lost)
            splits, missing = {}, ["test", "val"]
            fractions = {"val": cfg.val_fraction, "test": cfg.test_fraction}
        if missing:
            # test first, then val out of the rest (as split_indices does)
            parts = stratified_split(targets, [fractions[m] for m in missing], cfg.split_seed)
            for name, part in zip(missing, parts[1:], strict=True):
                splits[name] = ([files[i] for i in part], [targets[i] for i in part])
            files, targets = [files[i] for i in parts[0]], [targets[i] for i in parts[0]]
        splits["train"] = (files, targets)
        for name in SPLITS:
            if not splits[name][0]:
                where = f"{root}/{name}" if (root / name).is_dir() else f"{root}"
                raise ConfigError(
                    f"the {name} split of data.root={where} is empty; add images, or raise "
                    f"data.{name}_fraction (val_fraction={cfg.val_fraction}, "
                    f"test_fraction={cfg.test_fraction})"
                )
        datasets = {
            name: ImageFolderDataset(*splits[name], classes, self.channels) for name in SPLITS
        }
        return datasets, skipped

    def _decode_all(self, splits, skipped):
        """Decode every file once: drop undecodable ones (data.skip_bad_images) and keep
        the decoded tensors (data.cache)."""
        for dataset in splits.values():
            keep, images = [], []
            for index, path in enumerate(dataset.files):
                try:
                    image = decode(path, self.channels)
                except BadImageError as error:
                    if not self.config.skip_bad_images:
                        raise
                    skipped.append(str(error))
                    name = dataset.classes[dataset.targets[index]]
                    self.lost_per_class[name] = self.lost_per_class.get(name, 0) + 1
                    continue
                keep.append(index)
                if self.config.cache:
                    images.append(image)
            dataset.files = [dataset.files[i] for i in keep]
            dataset.targets = [dataset.targets[i] for i in keep]
            if self.config.cache:
                dataset.images = images
        for name, dataset in splits.items():
            if not dataset.files:
                raise DataError(f"every image of the {name} split is unreadable")
        check_classes_left(splits["train"])
        return splits, skipped

    def _statistics(self, train: ImageFolderDataset):
        """(mean, std) per channel for data.normalize."""
        mode = self.config.normalize
        if mode == "none":
            return None, None
        if mode == "imagenet":
            if self.channels == 1:
                return [sum(IMAGENET_MEAN) / 3], [sum(IMAGENET_STD) / 3]
            return list(IMAGENET_MEAN), list(IMAGENET_STD)
        return normalize_statistics(train, self.eval_specs)
