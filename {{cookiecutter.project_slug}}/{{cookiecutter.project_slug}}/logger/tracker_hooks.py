"""What the trackers log beyond scalars and figures: the model graph, weight and gradient
histograms, grids of validation predictions (trainer/callbacks/extras.py calls them),
and a check of the tracking store before the run directory is claimed. A backend
subclasses ``TrackerHooks`` for these; ``trackers(run_loggers)`` calls the ones that do."""

from pathlib import Path

import torch
from omegaconf import DictConfig

from .base import LOGGERS, BaseLogger, LoggerCollection


class TrackerHooks(BaseLogger):
    """The optional hooks of the trackers, beside BaseLogger's."""

    wants_predictions = False  # set True to receive ``log_predictions`` (costs a forward pass)

    @classmethod
    def check(cls, config, run_dir: Path | None, resuming: bool) -> None:
        """Raise a UserError if this backend cannot log the run (a tracking store that
        cannot be opened, a resumed run it no longer holds). Called before the run
        directory is claimed, so it must write nothing there."""

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        """Called once before training (e.g. to draw the graph)."""

    def log_histograms(self, model: torch.nn.Module, epoch: int) -> None:
        """Called every ``logger.histogram_every_n_epochs`` epochs."""

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        """Validation samples with predicted and true labels (image datasets)."""


class TrackerCollection(LoggerCollection, TrackerHooks):
    """Calls every tracker in turn (see ``trackers``)."""

    def __init__(self, loggers: list[TrackerHooks]) -> None:
        super().__init__(loggers)

    @property
    def wants_predictions(self) -> bool:  # type: ignore[override]
        return any(logger.wants_predictions for logger in self.loggers)

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        for logger in self.loggers:
            logger.log_model(model, example_input)

    def log_histograms(self, model: torch.nn.Module, epoch: int) -> None:
        for logger in self.loggers:
            logger.log_histograms(model, epoch)

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        for logger in self.loggers:
            if logger.wants_predictions:
                logger.log_predictions(images, predictions, targets, classes, epoch)


def trackers(loggers: LoggerCollection) -> TrackerCollection:
    """The run's loggers that have the tracker hooks, as one object to call."""
    return TrackerCollection([each for each in loggers.loggers if isinstance(each, TrackerHooks)])


def check_loggers(config: DictConfig, resuming: bool) -> None:
    """Every enabled tracker's ``check``: before the run directory is claimed or written."""
    run_dir = Path(config.output_dir) if config.output_dir is not None else None
    for name, logger in LOGGERS.entries.items():
        if config.logger.get(name, True) and issubclass(logger, TrackerHooks):
            logger.check(config, run_dir, resuming)
