"""The configuration schema: every key a run accepts, its type and its default.

OmegaConf checks keys and types against these dataclasses, so a typo such as
``trainer.epoch=3`` is an error instead of a silently ignored value.
``Optional`` and ``List`` come from ``typing`` because OmegaConf reads them.

Numeric keys carry their allowed range next to their type (``at_least(1, 20)``,
``positive(1e-3)``...), keys with a closed set of values their choices
(``one_of("min", "max")``); ``checks.py`` checks every value against them at load time,
so ``optimizer.lr=-1`` or ``{{ "trainer.precision=16" if cookiecutter.profile == "full" else "trainer.epochs=0" }}`` fails before a run directory exists.
"""

import math
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


@dataclass
class DataConfig:
    name: str = "{{ cookiecutter.dataset }}"  # {% if cookiecutter.dataset == "digits" %}digits | {% endif %}{% if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}mnist | fashion_mnist | {% endif %}image_folder | csv
    # {% if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}mnist/fashion_mnist: IDX files; {% endif %}image_folder: root/<class>/<image>; csv: the .csv file
    root: str = "data"
    label_column: str = "label"  # csv: the column of class labels; every other is a feature
    val_fraction: float = fraction(0.1)  # share of the training split held out for validation
    split_seed: int = 0  # fixed split, independent of the training seed
{%- if cookiecutter.profile == "full" %}
    # k-fold cross-validation (cv.py): the training and validation splits are pooled and
    # cut into `folds` stratified folds; fold `fold` validates, the rest trains. 0 = off.
    folds: int = non_negative(0)
    fold: int = non_negative(0)
{%- endif %}
    batch_size: int = at_least(1, 64){% if cookiecutter.profile == "full" %}  # per process under torchrun{% endif %}
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
{%- if cookiecutter.profile == "full" %}
    name: str = "none"  # none | step | multistep | exponential | cosine | plateau | onecycle
    interval: str = one_of("epoch", "step")  # when scheduler.step() is called
    warmup: int = non_negative(0)  # linear warm-up length, in units of `interval`
    warmup_start_factor: float = ranged(0.1, 0, 1, low_open=True)
    step_size: int = at_least(1, 10)  # step
    milestones: List[int] = at_least(1, [10, 20])  # multistep
    gamma: float = positive(0.1)  # step | multistep | exponential
{%- else %}
    name: str = "none"  # none | step | cosine; stepped at the end of every epoch
    step_size: int = at_least(1, 10)  # step
    gamma: float = positive(0.1)  # step
{%- endif %}
    t_max: int = non_negative(0)  # cosine; 0 = the whole run
    eta_min: float = non_negative(0.0)  # cosine
{%- if cookiecutter.profile == "full" %}
    max_lr: float = positive(0.01)  # onecycle
    monitor: str = "val_loss"  # plateau
    mode: str = one_of("min", "max")  # plateau
    factor: float = fraction(0.1)  # plateau
    patience: int = non_negative(3)  # plateau
{%- endif %}


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
{%- if cookiecutter.profile == "full" %}
    save_top_k: int = at_least(
        -1, 1
    )  # epoch=NNN-<monitor>=X.pt files kept by the monitor; 0 none, -1 all
{%- endif %}
    save_last: bool = True  # checkpoints/last.pt after every epoch
{%- if cookiecutter.profile == "full" %}
    every_n_epochs: int = non_negative(
        0
    )  # also keep checkpoints/epoch=NNN.pt every n epochs; 0 = off
{%- endif %}
    every_n_steps: int = non_negative(
        0
    )  # refresh last.pt every n optimizer steps (long epochs); 0 = off
{%- if cookiecutter.profile == "full" %}
    # trainer.strategy=fsdp: write the shard folders in a background thread while training
    # goes on (each save waits for the one before; the last save of a run is synchronous).
    async_save: bool = False
{%- endif %}


@dataclass
class TrainerConfig:
    epochs: int = at_least(1, 20)
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
{%- if cookiecutter.profile == "full" %}
    precision: str = one_of("32", "bf16", "fp16")  # fp16 needs CUDA
{%- endif %}
    accumulate_grad_batches: int = at_least(1, 1)
    gradient_clip_val: float = non_negative(0.0)  # 0 = off
    gradient_clip_algorithm: str = one_of("norm", "value")
    log_every_n_steps: int = at_least(1, 50)
    # Also average ``metrics`` over the training batches (train_accuracy...). Off: on CPU
    # their small kernels cost 5-10 % of a small model's step; the loss is always tracked.
    train_metrics: bool = False
    progress_bar: bool = True
{%- if cookiecutter.profile == "full" %}
    compile: bool = False  # torch.compile the model
{%- endif %}
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
{%- if cookiecutter.profile == "full" %}
    sync_batchnorm: bool = False  # under torchrun
    # Under torchrun: ddp (a full copy per process) | fsdp (FSDP2: weights, gradients and
    # optimizer state sharded over the processes; checkpoints are folders of shards).
    strategy: str = one_of("ddp", "fsdp")
{%- endif %}
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)


@dataclass
class LoggerConfig:
    # The tracker switches: only the tracker this project was generated with exists.
    tensorboard: bool = False
{%- if cookiecutter.profile == "full" %}
    wandb: bool = False
    mlflow: bool = False
{%- endif %}
{%- if cookiecutter.logger == "tensorboard" and cookiecutter.profile == "full" %}
    log_graph: bool = True  # the model graph, drawn once at the start
{%- elif cookiecutter.logger == "wandb" %}
    wandb_project: str = "my_project"
    wandb_watch: bool = False  # wandb.watch: gradient and parameter histograms
{%- elif cookiecutter.logger == "mlflow" %}
    mlflow_experiment: str = "my_project"
    # null: $MLFLOW_TRACKING_URI, else sqlite:///<project>/mlflow.db
    mlflow_tracking_uri: Optional[str] = None
{%- endif %}
    curves: bool = True  # curves.png at the end of training
{%- if cookiecutter.profile == "full" %}
    # Weight/gradient histograms for loggers that draw them; 0 = off.
    histogram_every_n_epochs: int = non_negative(5)
    # Grid of validation predictions at the first epoch, every N epochs and at the last;
    # 0 = off. Drawing the figure takes a moment: every epoch would slow small runs.
    images_every_n_epochs: int = non_negative(5)
{%- endif %}


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
    data: DataConfig = field(default_factory=DataConfig)
    # Typed by the chosen model's own dataclass (see ModelConfig) when the config loads.
    model: Any = field(default_factory=lambda: {"name": "mlp"})
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    lr_scheduler: LRSchedulerConfig = field(default_factory=LRSchedulerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
