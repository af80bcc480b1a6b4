"""One small interface for every logging backend, the registry that builds the run's
loggers, and a collection that fans out to them."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

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

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "BaseLogger":
        """Build from the config (the ``logger.*`` keys) for this run."""
        return cls()

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        """Called once with the resolved config as a plain dict."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Per-step scalars (``train/loss_step``...), at optimizer step ``step``."""

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        """End-of-epoch metrics (``train_loss``, ``val_accuracy``, ``lr``...)."""

    def log_figure(self, tag: str, figure, step: int) -> None:
        """A matplotlib figure (the test confusion matrix, augmentations.png)."""

    def log_baselines(self, scores: dict[str, dict[str, float]]) -> None:
        """Once at the start: the baselines' figures on the same splits, by baseline
        (``{"linear": {"val_accuracy": ...}, "majority": {...}}``)."""

    def finalize(self) -> None:
        """Flush and close; called at the end of ``fit`` (also after an error)."""


class LoggerCollection(BaseLogger):
    """Calls every logger in turn, so the trainer talks to one object."""

    def __init__(self, loggers: list[BaseLogger]) -> None:
        self.loggers = list(loggers)

    def log_hyperparams(self, params: dict[str, Any]) -> None:
        for logger in self.loggers:
            logger.log_hyperparams(params)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log_metrics(metrics, step)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log_epoch(epoch, metrics, step)

    def log_figure(self, tag: str, figure, step: int) -> None:
        for logger in self.loggers:
            logger.log_figure(tag, figure, step)

    def log_baselines(self, scores: dict[str, dict[str, float]]) -> None:
        for logger in self.loggers:
            logger.log_baselines(scores)

    def finalize(self) -> None:
        for logger in self.loggers:
            logger.finalize()


def build_loggers(
    config: DictConfig,
    run_dir: Path,
    resume_epoch: int | None = None,
    resume_step: int | None = None,
) -> LoggerCollection:
    """Every registered logger whose ``logger.<name>`` switch is on (console and
    metrics.csv always)."""
    run = RunInfo(Path(run_dir), resume_epoch, resume_step)
    return LoggerCollection(
        [
            logger.from_run(config, run)
            for name, logger in LOGGERS.entries.items()
            if config.logger.get(name, True)
        ]
    )
