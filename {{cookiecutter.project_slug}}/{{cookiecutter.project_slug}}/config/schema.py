"""The configuration schema: every key a run accepts, its type and its default.

OmegaConf checks keys and types against these dataclasses, so a typo such as
``trainer.epoch=3`` is an error instead of a silently ignored value.
``Optional`` and ``List`` come from ``typing`` because OmegaConf reads them.

Numeric keys carry their allowed range next to their type (``at_least(1, 20)``,
``positive(1e-3)``...), keys with a closed set of values their choices
(``one_of("min", "max")``); ``checks.py`` checks every value against them at load time,
so ``optimizer.lr=-1`` or ``trainer.epochs=0`` fails before a run directory exists.

Each section is a dataclass of its own. A part of the project that needs more keys in a
section subclasses it and registers the subclass with ``@extends(<section>)``; the
root schema is then built with the subclass, so its keys load, print and are checked
like every other (``section`` below).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union


def ranged(default, low=-math.inf, high=math.inf, low_open=False, high_open=False):
    """A field whose value (or, for a list, each item) must lie in [low, high]; an open
    end excludes the bound. ``None`` (where the type allows it) is always accepted."""
    bounds = {"low": low, "high": high, "low_open": low_open, "high_open": high_open}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"range": bounds})
    return field(default=default, metadata={"range": bounds})


def one_of(*choices, default=None):
    """A field with a closed set of values; the default is the first unless given."""
    return field(default=choices[0] if default is None else default, metadata={"choices": choices})


def at_least(low, default):
    return ranged(default, low)


def positive(default):
    return ranged(default, 0, low_open=True)


def non_negative(default):
    return ranged(default, 0)


def fraction(default):
    """Strictly between 0 and 1, e.g. the share of samples held out."""
    return ranged(default, 0, 1, low_open=True, high_open=True)


def probability(default):
    """From 0 (included) to 1 (excluded), e.g. dropout or momentum."""
    return ranged(default, 0, 1, high_open=True)


def tracker_switch():
    """A ``logger`` key that turns one experiment tracker on; checks.py refuses it for a
    tracker this project was not generated with."""
    return field(default=False, metadata={"tracker": True})


# Section dataclass -> the subclass registered to extend it (with keys of its own).
_EXTENSIONS: dict[type, type] = {}


def extends(base: type) -> Callable[[type], type]:
    """Class decorator: the decorated subclass of ``base`` replaces it in the schema.
    A second extension of the same section subclasses the first (``section_type``)."""

    def register(subclass: type) -> type:
        if not issubclass(subclass, section_type(base)):
            raise TypeError(f"{subclass.__name__} must subclass {section_type(base).__name__}")
        _EXTENSIONS[base] = subclass
        return subclass

    return register


def section_type(base: type) -> type:
    """The dataclass the schema uses for section ``base``: its registered extension, if any."""
    return _EXTENSIONS.get(base, base)


def section(base: type):
    """A field holding section ``base``, looked up when a config is built, so extensions
    registered after this module was imported count."""
    return field(default_factory=lambda: section_type(base)())


@dataclass
class DataConfig:
    name: str = "{{ cookiecutter.dataset }}"  # {{ "digits" if cookiecutter.dataset == "digits" else "mnist | fashion_mnist" }} | image_folder | csv
    # {{ "" if cookiecutter.dataset == "digits" else "mnist/fashion_mnist: IDX files; " }}image_folder: root/<class>/<image>; csv: the .csv file
    root: str = "data"
    label_column: str = "label"  # csv: the column of class labels; every other is a feature
    val_fraction: float = fraction(0.1)  # share of the training split held out for validation
    split_seed: int = 0  # fixed split, independent of the training seed
    batch_size: int = at_least(1, 64)
    eval_batch_size: int = at_least(1, 256)
    shuffle: bool = True
    num_workers: int = non_negative(0)  # in-memory tensors need no worker processes
    pin_memory: bool = True  # only takes effect on CUDA
    drop_last: bool = False
    persistent_workers: bool = True  # only takes effect when num_workers > 0
    prefetch_factor: Optional[int] = at_least(1, None)  # batches per worker; null: torch's 2
    sampler: str = one_of("random", "weighted")  # weighted: by inverse class frequency
    # image_folder (without test/) and csv: share held out for test
    test_fraction: float = probability(0.1)
    # --- image_folder only (see data/image_folder.py and the README) ---
    # grayscale or RGB: every image is decoded to this; auto: 1 if the training images are gray
    channels: Union[int, str] = one_of(1, 3, "auto", default=3)
    # the default transforms' crop size; auto: the images' median side, at most 64
    image_size: Union[int, str] = at_least(1, 224)
    flip: bool = False  # the default transforms add random horizontal flips: never for digits/text
    # Lists of torchvision.transforms.v2 transforms on uint8 images, by name, e.g.
    # [{name: RandomResizedCrop, size: 224, scale: [0.6, 1.0]}]; null: the defaults.
    # ToDtype(float32, scale=True) + Normalize are appended to both.
    train_transforms: Optional[List[Any]] = None
    eval_transforms: Optional[List[Any]] = None
    normalize: str = one_of("auto", "imagenet", "none")  # auto: the training images' (cached)
    cache: bool = False  # decode every image once into memory (small datasets)
    skip_bad_images: bool = False  # true: leave out unreadable images (counted in the log)


@dataclass
class ModelConfig:
    """The keys every model takes. Each model adds its own by subclassing this next to
    its code and registering the subclass: ``@MODELS.register("cnn", options=CNNConfig)``.
    Changing ``model.name`` in a later layer (an experiment file, the command line)
    starts the ``model`` section again from that model's defaults."""

    name: str = "mlp"  # a registered model: mlp | cnn | resnet18 | ...
    freeze: List[str] = field(default_factory=list)  # module names to freeze, e.g. [backbone]
    freeze_batchnorm: bool = True  # frozen modules' BatchNorm stays in eval mode (stats fixed)


@dataclass
class OptimizerConfig:
    name: str = "adam"  # adam | adamw | sgd
    lr: float = positive(1e-3)
    weight_decay: float = non_negative(0.0)
    momentum: float = probability(0.9)  # sgd only
    nesterov: bool = False  # sgd only


@dataclass
class LRSchedulerConfig:
    name: str = "none"  # a registered scheduler (trainer/optim.py): none | step | cosine | ...
    step_size: int = at_least(1, 10)  # step
    gamma: float = positive(0.1)  # step: the factor applied every step_size epochs
    t_max: int = non_negative(0)  # cosine; 0 = the whole run
    eta_min: float = non_negative(0.0)  # cosine


@dataclass
class EarlyStoppingConfig:
    enabled: bool = True
    monitor: str = "val_loss"
    mode: str = one_of("min", "max")
    patience: int = non_negative(5)
    min_delta: float = non_negative(0.0)


@dataclass
class CheckpointConfig:
    monitor: str = "val_loss"
    mode: str = one_of("min", "max")
    save_best: bool = True  # checkpoints/best.pt
    save_last: bool = True  # checkpoints/last.pt after every epoch
    # refresh last.pt every n optimizer steps (long epochs); 0 = off
    every_n_steps: int = non_negative(0)


@dataclass
class TrainerConfig:
    epochs: int = at_least(1, 20)
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    accumulate_grad_batches: int = at_least(1, 1)
    gradient_clip_val: float = non_negative(0.0)  # 0 = off
    gradient_clip_algorithm: str = one_of("norm", "value")
    log_every_n_steps: int = at_least(1, 50)
    # Also average ``metrics`` over the training batches (train_accuracy...). Off: on CPU
    # their small kernels cost 5-10 % of a small model's step; the loss is always tracked.
    train_metrics: bool = False
    progress_bar: bool = True
    deterministic: bool = False
    # Intra-op CPU threads (torch.set_num_threads). auto: the cores this process may use
    # that the load average says are free (OMP_NUM_THREADS, if set, wins); null: PyTorch's
    # default, one per core, even when other jobs keep them busy.
    num_threads: Optional[Union[int, str]] = at_least(1, "auto")
    nonfinite_loss: str = one_of("raise", "skip")
    fast_dev_run: bool = False  # one train and one val batch, no checkpoints
    overfit_batches: int = non_negative(0)  # train and validate on the same first N batches
    limit_train_batches: Optional[int] = at_least(1, None)
    limit_val_batches: Optional[int] = at_least(1, None)
    early_stopping: EarlyStoppingConfig = section(EarlyStoppingConfig)
    checkpoint: CheckpointConfig = section(CheckpointConfig)


@dataclass
class LoggerConfig:
    # One switch per tracker (tracker_switch): only the tracker this project was
    # generated with may be turned on.
    tensorboard: bool = tracker_switch()
    curves: bool = True  # curves.png at the end of training


@dataclass
class Config:
    experiment: Optional[str] = None  # name of configs/experiment/<name>.yaml merged on top
    seed: int = 42
    output_dir: Optional[str] = None  # None: runs/<timestamp>
    # A checkpoint to continue from, or auto: the newest in output_dir (none: a new run).
    resume: Optional[str] = None
    overwrite: bool = False  # true: replace the run already in output_dir, as a whole
    loss: str = "cross_entropy"  # cross_entropy | nll
    label_smoothing: float = probability(0.0)
    class_weights: str = one_of("none", "auto")  # auto: loss weighted by inverse class frequency
    # Names (accuracy, top3_accuracy, f1, precision, recall, auroc) or names with options,
    # e.g. {name: f1, average: micro}: see model/metric.py.
    metrics: List[Any] = field(default_factory=lambda: ["accuracy"])
    data: DataConfig = section(DataConfig)
    # Typed by the chosen model's own dataclass (see ModelConfig) when the config loads.
    model: Any = field(default_factory=lambda: {"name": "mlp"})
    optimizer: OptimizerConfig = section(OptimizerConfig)
    lr_scheduler: LRSchedulerConfig = section(LRSchedulerConfig)
    trainer: TrainerConfig = section(TrainerConfig)
    logger: LoggerConfig = section(LoggerConfig)
