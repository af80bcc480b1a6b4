"""Logger: console + train.log, metrics.csv and curves.png always, plus the chosen tracker."""

from pathlib import Path

from omegaconf import DictConfig

from .base import LOGGERS, BaseLogger, LoggerCollection, RunInfo
from .console import ConsoleLogger, setup_logging
from .csv_logger import CSVLogger, check_metrics_file, read_metrics
from .curves import CurvesLogger, plot_curves
{%- if cookiecutter.logger == "tensorboard" %}
from .tensorboard import TensorBoardLogger
{%- elif cookiecutter.logger == "wandb" %}
from .wandb import WandbLogger
{%- elif cookiecutter.logger == "mlflow" %}
from .mlflow import MLflowLogger
{%- endif %}


def build_loggers(
    config: DictConfig,
    run_dir: Path,
{%- if cookiecutter.profile == "full" %}
    is_main: bool = True,
{%- endif %}
    resume_epoch: int | None = None,
    resume_step: int | None = None,
) -> LoggerCollection:
    """Every registered logger whose ``logger.<name>`` switch is on (console and
    metrics.csv always).{% if cookiecutter.profile == "full" %} Only rank 0 logs; other ranks get an empty collection.{% endif %}"""
{%- if cookiecutter.profile == "full" %}
    if not is_main:
        return LoggerCollection([])
{%- endif %}
    run = RunInfo(Path(run_dir), resume_epoch, resume_step)
    return LoggerCollection(
        [
            logger.from_run(config, run)
            for name, logger in LOGGERS.entries.items()
            if config.logger.get(name, True)
        ]
    )
{%- if cookiecutter.profile == "full" %}


def check_loggers(config: DictConfig, resuming: bool) -> None:
    """Every enabled logger's ``check``: before the run directory is claimed or written."""
    run_dir = Path(config.output_dir) if config.output_dir is not None else None
    for name, logger in LOGGERS.entries.items():
        if config.logger.get(name, True):
            logger.check(config, run_dir, resuming)
{%- endif %}


__all__ = [
    "LOGGERS",
    "BaseLogger",
    "CSVLogger",
    "ConsoleLogger",
    "CurvesLogger",
    "LoggerCollection",
{%- if cookiecutter.logger == "mlflow" %}
    "MLflowLogger",
{%- endif %}
    "RunInfo",
{%- if cookiecutter.logger == "tensorboard" %}
    "TensorBoardLogger",
{%- elif cookiecutter.logger == "wandb" %}
    "WandbLogger",
{%- endif %}
    "build_loggers",
{%- if cookiecutter.profile == "full" %}
    "check_loggers",
{%- endif %}
    "check_metrics_file",
    "plot_curves",
    "read_metrics",
    "setup_logging",
]
