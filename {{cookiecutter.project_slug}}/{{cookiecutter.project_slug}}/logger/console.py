"""Console and ``train.log`` output through Python's ``logging``."""

import logging
import sys
from pathlib import Path

from ..utils.run_dir import RunFiles
from .base import LOGGERS, BaseLogger, RunInfo

FORMAT = "%(asctime)s %(levelname)s %(message)s"


def setup_logging(run_dir: Path | None, is_main: bool = True) -> None:
    """INFO to stdout and ``run_dir/train.log`` (appended on resume) from the main
    process; any other prints warnings and errors only, so nothing is shown twice."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.INFO if is_main else logging.WARNING)
    formatter = logging.Formatter(FORMAT, datefmt="%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if run_dir is not None and is_main:
        handlers.append(logging.FileHandler(RunFiles(run_dir).log, mode="a", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)


@LOGGERS.register("console")
class ConsoleLogger(BaseLogger):
    """One line per epoch: ``epoch 3/20 | train_loss 0.1234 | val_accuracy 0.9712 | ...``
    (per-step values are shown by the progress bar)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.log = logging.getLogger("metrics")

    @classmethod
    def from_run(cls, config, run: RunInfo) -> "ConsoleLogger":
        return cls(config.trainer.epochs)

    def log_epoch(self, epoch: int, metrics: dict[str, float], step: int) -> None:
        parts = [f"{name} {value:.4g}" for name, value in metrics.items() if name != "epoch"]
        self.log.info("epoch %d/%d | %s", epoch, self.epochs, " | ".join(parts))
