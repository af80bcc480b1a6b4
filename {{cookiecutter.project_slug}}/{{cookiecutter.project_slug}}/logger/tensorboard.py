"""TensorBoard: scalars, the model graph, weight/gradient histograms, prediction grids."""

import logging
from pathlib import Path

import torch

from .base import BaseLogger

log = logging.getLogger(__name__)


def tag(name: str) -> str:
    """``val_accuracy`` -> ``val/accuracy`` so TensorBoard groups train and val panels."""
    split, sep, rest = name.partition("_")
    return f"{split}/{rest}" if sep and split in ("train", "val", "test") else name


class TensorBoardLogger(BaseLogger):
    """Writes event files under ``<run_dir>/tensorboard`` (``tensorboard --logdir runs``)."""

    def __init__(
        self,
        log_dir: Path | str,
        purge_step: int | None = None,
        log_graph: bool = True,
        log_images: bool = True,
    ) -> None:
        from torch.utils.tensorboard import SummaryWriter  # deferred: slow import

        self.log_dir = Path(log_dir)
        # purge_step drops events a crashed run wrote after the checkpoint we resume from.
        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=purge_step)
        self.log_graph = log_graph
        self.wants_predictions = log_images

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            if name not in ("epoch", "epoch_time"):
                self.writer.add_scalar(tag(name), value, epoch)
        self.writer.flush()

    def log_model(self, model: torch.nn.Module, example_input: torch.Tensor) -> None:
        if not self.log_graph:
            return
        try:
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

        self.writer.add_figure(
            "val/predictions", prediction_grid(images, predictions, targets, classes), epoch
        )

    def finalize(self) -> None:
        self.writer.flush()
        self.writer.close()
