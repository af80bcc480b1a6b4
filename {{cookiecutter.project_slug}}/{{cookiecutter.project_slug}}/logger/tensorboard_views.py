"""TensorBoard's views of the model, beside the scalars, the config and the figures of
logger/tensorboard.py: the model graph (``logger.log_graph``), weight and gradient
histograms (``logger.histogram_every_n_epochs``) and grids of validation predictions
(``logger.images_every_n_epochs``)."""

import logging
import warnings
from pathlib import Path

import torch

from .base import LOGGERS, RunInfo
from .tensorboard import TensorBoardLogger
from .tracker_hooks import TrackerHooks

log = logging.getLogger(__name__)


@LOGGERS.register("tensorboard")  # in place of the plain TensorBoardLogger
class TensorBoardViews(TensorBoardLogger, TrackerHooks):
    wants_predictions = True

    def __init__(
        self, log_dir: Path | str, purge_step: int | None = None, log_graph: bool = True
    ) -> None:
        super().__init__(log_dir, purge_step)
        self.log_graph = log_graph

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "TensorBoardViews":
        logger = super().from_run(config, run)
        logger.log_graph = config.logger.log_graph
        return logger

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        if not self.log_graph:
            return
        try:
            with warnings.catch_warnings():  # add_graph traces with torch.jit, now deprecated
                warnings.simplefilter("ignore", FutureWarning)
                self.writer.add_graph(model, example_input)
        except Exception as error:  # tracing fails on some models; the run must not
            log.warning("could not draw the model graph in TensorBoard: %s", error)

    def log_histograms(self, model: torch.nn.Module, epoch: int) -> None:
        for name, parameter in model.named_parameters():
            self.writer.add_histogram(f"weights/{name}", parameter.detach().float().cpu(), epoch)
            if parameter.grad is not None:
                self.writer.add_histogram(f"gradients/{name}", parameter.grad.float().cpu(), epoch)

    def log_predictions(self, images, predictions, targets, classes: list[str], epoch: int) -> None:
        from .figures import prediction_grid

        grid = prediction_grid(images, predictions, targets, classes)
        self.writer.add_image("val/predictions", grid, epoch, dataformats="HWC")
