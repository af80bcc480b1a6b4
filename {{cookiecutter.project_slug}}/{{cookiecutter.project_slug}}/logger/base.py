"""One small interface for every logging backend, the registry that builds the run's
loggers, and a collection that fans out to them."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any
{%- if cookiecutter.profile == "full" %}

import torch
{%- endif %}

from ..config import Registry

# Every registered logger runs unless its switch ``logger.<name>`` is false (console and
# metrics.csv have none: they always run). ``@LOGGERS.register("name")`` on the class.
LOGGERS = Registry(None)


@dataclass
class RunInfo:
    """What a logger needs to know about the run it logs."""

    run_dir: Path
    resume_epoch: int | None = None  # the checkpoint's epoch and step on resume
    resume_step: int | None = None


def panel_name(name: str) -> str:
    """``val_accuracy`` -> ``val/accuracy``: trackers group ``train/`` and ``val/`` panels."""
    split, sep, rest = name.partition("_")
    return f"{split}/{rest}" if sep and split in ("train", "val", "test") else name


class BaseLogger:
    """A backend implements the hooks it needs; each one is optional."""
{%- if cookiecutter.profile == "full" %}

    wants_predictions = False  # set True to receive ``log_predictions`` (costs a forward pass)
{%- endif %}

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "BaseLogger":
        """Build from the config (the ``logger.*`` keys) for this run."""
        return cls()
{%- if cookiecutter.profile == "full" %}

    @classmethod
    def check(cls, config, run_dir: Path | None, resuming: bool) -> None:
        """Raise a UserError if this backend cannot log the run (a tracking store that
        cannot be opened, a resumed run it no longer holds). Called before the run
        directory is claimed, so it must write nothing there."""
{%- endif %}

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        """Called once with the resolved config as a plain dict."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Per-step scalars (``train/loss_step``...), at optimizer step ``step``."""

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        """End-of-epoch metrics (``train_loss``, ``val_accuracy``, ``lr``...)."""
{%- if cookiecutter.profile == "full" %}

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        """Called once before training (e.g. to draw the graph)."""

    def log_histograms(self, model: torch.nn.Module, epoch: int) -> None:
        """Called every ``logger.histogram_every_n_epochs`` epochs."""
{%- endif %}

    def log_figure(self, tag: str, figure, step: int) -> None:
        """A matplotlib figure (the test confusion matrix, augmentations.png)."""

    def log_baselines(self, scores: dict[str, dict[str, float]]) -> None:
        """Once at the start: the baselines' figures on the same splits, by baseline
        (``{"linear": {"val_accuracy": ...}, "majority": {...}}``)."""
{%- if cookiecutter.profile == "full" %}

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        """Validation samples with predicted and true labels (image datasets)."""
{%- endif %}

    def finalize(self) -> None:
        """Flush and close; called at the end of ``fit`` (also after an error)."""


class LoggerCollection(BaseLogger):
    """Calls every logger in turn, so the trainer talks to one object."""

    def __init__(self, loggers: list[BaseLogger]) -> None:
        self.loggers = list(loggers)
{%- if cookiecutter.profile == "full" %}

    @property
    def wants_predictions(self) -> bool:  # type: ignore[override]
        return any(logger.wants_predictions for logger in self.loggers)
{%- endif %}

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        for logger in self.loggers:
            logger.log_hyperparams(params)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log_metrics(metrics, step)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log_epoch(epoch, metrics, step)
{%- if cookiecutter.profile == "full" %}

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        for logger in self.loggers:
            logger.log_model(model, example_input)

    def log_histograms(self, model: torch.nn.Module, epoch: int) -> None:
        for logger in self.loggers:
            logger.log_histograms(model, epoch)
{%- endif %}

    def log_figure(self, tag: str, figure, step: int) -> None:
        for logger in self.loggers:
            logger.log_figure(tag, figure, step)

    def log_baselines(self, scores: dict[str, dict[str, float]]) -> None:
        for logger in self.loggers:
            logger.log_baselines(scores)
{%- if cookiecutter.profile == "full" %}

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        for logger in self.loggers:
            if logger.wants_predictions:
                logger.log_predictions(images, predictions, targets, classes, epoch)
{%- endif %}

    def finalize(self) -> None:
        for logger in self.loggers:
            logger.finalize()
