"""The keys of the full profile's added parts, each section extending the core's
(``schema.extends``), and the checks that span them (``checks.extra_check``).

Loaded by config/__init__.py, so every config of this project has them: data.folds
(cv.py), per-step schedulers and warm-up, top-k and periodic checkpoints, precision,
compile, the process strategy under torchrun, and the trackers' and figures' keys.
"""

from dataclasses import dataclass

from omegaconf import DictConfig

from ..utils.errors import ConfigError
from .checks import extra_check, extra_monitors
from .schema import (
    CheckpointConfig,
    DataConfig,
    LoggerConfig,
    LRSchedulerConfig,
    TrainerConfig,
    at_least,
    extends,
    fraction,
    non_negative,
    one_of,
    positive,
    ranged,
    tracker_switch,
)


@extends(DataConfig)
@dataclass
class FullDataConfig(DataConfig):
    # k-fold cross-validation (cv.py): the training and validation splits are pooled and
    # cut into `folds` stratified folds; fold `fold` validates, the rest trains. 0 = off.
    # (data.batch_size is per process under torchrun.)
    folds: int = non_negative(0)
    fold: int = non_negative(0)


@extends(LRSchedulerConfig)
@dataclass
class FullLRSchedulerConfig(LRSchedulerConfig):
    # name also: multistep | exponential | plateau | onecycle; gamma also serves multistep
    # and exponential.
    interval: str = one_of("epoch", "step")  # when scheduler.step() is called
    warmup: int = non_negative(0)  # linear warm-up length, in units of `interval`
    warmup_start_factor: float = ranged(0.1, 0, 1, low_open=True)
    milestones: list[int] = at_least(1, [10, 20])  # multistep
    max_lr: float = positive(0.01)  # onecycle
    monitor: str = "val_loss"  # plateau
    mode: str = one_of("min", "max")  # plateau
    factor: float = fraction(0.1)  # plateau
    patience: int = non_negative(3)  # plateau


@extends(CheckpointConfig)
@dataclass
class FullCheckpointConfig(CheckpointConfig):
    # epoch=NNN-<monitor>=X.pt files kept by the monitor; 0 none, -1 all
    save_top_k: int = at_least(-1, 1)
    # also keep checkpoints/epoch=NNN.pt every n epochs; 0 = off
    every_n_epochs: int = non_negative(0)
    # trainer.strategy=fsdp: write the shard folders in a background thread while training
    # goes on (each save waits for the one before; the last save of a run is synchronous).
    async_save: bool = False


@extends(TrainerConfig)
@dataclass
class FullTrainerConfig(TrainerConfig):
    precision: str = one_of("32", "bf16", "fp16")  # fp16 needs CUDA
    compile: bool = False  # torch.compile the model
    sync_batchnorm: bool = False  # under torchrun
    # Under torchrun: ddp (a full copy per process) | fsdp (FSDP2: weights, gradients and
    # optimizer state sharded over the processes; checkpoints are folders of shards).
    strategy: str = one_of("ddp", "fsdp")


@extends(LoggerConfig)
@dataclass
class FullLoggerConfig(LoggerConfig):
    wandb: bool = tracker_switch()
    mlflow: bool = tracker_switch()
{%- if cookiecutter.logger == "tensorboard" %}
    log_graph: bool = True  # the model graph, drawn once at the start
{%- elif cookiecutter.logger == "wandb" %}
    wandb_project: str = "my_project"
    wandb_watch: bool = False  # wandb.watch: gradient and parameter histograms
{%- elif cookiecutter.logger == "mlflow" %}
    mlflow_experiment: str = "my_project"
    # null: $MLFLOW_TRACKING_URI, else sqlite:///<project>/mlflow.db
    mlflow_tracking_uri: str | None = None
{%- endif %}
    # Weight/gradient histograms for loggers that draw them; 0 = off.
    histogram_every_n_epochs: int = non_negative(5)
    # Grid of validation predictions at the first epoch, every N epochs and at the last;
    # 0 = off. Drawing the figure takes a moment: every epoch would slow small runs.
    images_every_n_epochs: int = non_negative(5)


@extra_check
def _validate_training_controls(config: DictConfig) -> None:
    """Scheduler combinations that would otherwise be silently ignored or misbehave."""
    scheduler = config.lr_scheduler
    if scheduler.name == "plateau" and scheduler.warmup:
        raise ConfigError("lr_scheduler.warmup is not supported with lr_scheduler.name=plateau")
    if scheduler.name == "plateau" and scheduler.interval == "step":
        raise ConfigError(
            "lr_scheduler.name=plateau steps on an epoch metric; use lr_scheduler.interval=epoch"
        )
    if scheduler.name == "onecycle" and scheduler.warmup:
        raise ConfigError(
            "lr_scheduler.name=onecycle has its own warm-up phase; set lr_scheduler.warmup=0"
        )


@extra_check
def _validate_folds(config: DictConfig) -> None:
    folds, fold = config.data.folds, config.data.fold
    if folds == 1:
        raise ConfigError("data.folds=1 leaves nothing to validate on; use 0 (off) or 2 and more")
    if folds and fold >= folds:
        raise ConfigError(
            f"data.fold={fold} is not a fold of data.folds={folds}; use 0..{folds - 1}"
        )
    if not folds and fold:
        raise ConfigError(f"data.fold={fold} needs data.folds (the number of folds), e.g. 5")


@extra_monitors
def _plateau_monitor(config: DictConfig) -> dict[str, str]:
    """ReduceLROnPlateau follows a metric: it must be one the run logs."""
    if config.lr_scheduler.name == "plateau":
        return {"lr_scheduler.monitor": config.lr_scheduler.monitor}
    return {}
