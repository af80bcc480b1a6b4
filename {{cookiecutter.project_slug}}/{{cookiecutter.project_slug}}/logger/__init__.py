"""Logger: console + train.log, metrics.csv and curves.png always, plus the chosen tracker."""

from .base import LOGGERS, BaseLogger, LoggerCollection, RunInfo, build_loggers
from .console import ConsoleLogger, setup_logging
from .csv_logger import CSVLogger, check_metrics_file, read_metrics
from .curves import CurvesLogger, plot_curves
{%- if cookiecutter.profile == "full" %}
from .main_process import build_loggers, check_loggers, setup_logging  # noqa: F401, F811 (rank 0)
{%- endif %}
{%- if cookiecutter.logger == "tensorboard" %}
from .tensorboard import TensorBoardLogger
{%- if cookiecutter.profile == "full" %}
from .tensorboard_views import TensorBoardViews  # noqa: F401  the graph, histograms, predictions
{%- endif %}
{%- elif cookiecutter.logger == "wandb" %}
from .wandb import WandbLogger
{%- elif cookiecutter.logger == "mlflow" %}
from .mlflow import MLflowLogger
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
    "check_metrics_file",
    "plot_curves",
    "read_metrics",
    "setup_logging",
]
