"""Logger: console + train.log, metrics.csv and curves.png always, plus the chosen tracker."""

from pathlib import Path

from omegaconf import DictConfig

from .base import BaseLogger, LoggerCollection
from .console import ConsoleLogger, setup_logging
from .csv_logger import CSVLogger, check_metrics_file, read_metrics
from .curves import CurvesLogger, plot_curves


def build_loggers(
    config: DictConfig,
    run_dir: Path,
    is_main: bool = True,
    resume_epoch: int | None = None,
    resume_step: int | None = None,
) -> LoggerCollection:
    """The loggers for a run. Only rank 0 logs; other ranks get an empty collection."""
    if not is_main:
        return LoggerCollection([])
    loggers: list[BaseLogger] = [
        ConsoleLogger(config.trainer.epochs),
        CSVLogger(run_dir / "metrics.csv", resume_epoch),
    ]
    if config.logger.curves:
        loggers.append(CurvesLogger(run_dir / "metrics.csv", run_dir / "curves.png"))
{%- if cookiecutter.logger == "tensorboard" %}
    if config.logger.tensorboard:
        from .tensorboard import TensorBoardLogger

        loggers.append(
            TensorBoardLogger(
                run_dir / "tensorboard",
                # Steps <= the checkpoint's were logged before it was saved: keep them.
                purge_step=None if resume_step is None else resume_step + 1,
                log_graph=config.logger.log_graph,
            )
        )
{%- endif %}
{%- if cookiecutter.logger == "wandb" %}
    if config.logger.wandb:
        from ..config import to_plain_dict
        from .wandb import WandbLogger

        loggers.append(
            WandbLogger(
                run_dir,
                config.logger.wandb_project,
                to_plain_dict(config),
                watch=config.logger.wandb_watch,
                resume=resume_epoch is not None,
                watch_log_freq=config.trainer.log_every_n_steps,
            )
        )
{%- endif %}
    return LoggerCollection(loggers)


__all__ = [
    "BaseLogger",
    "CSVLogger",
    "LoggerCollection",
    "build_loggers",
    "check_metrics_file",
    "plot_curves",
    "read_metrics",
    "setup_logging",
]
