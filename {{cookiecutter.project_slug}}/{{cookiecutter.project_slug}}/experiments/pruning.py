"""The link between a training run and its Optuna trial: a trainer callback."""

import logging

from ..trainer import Callback
from ..utils.compare import is_better

log = logging.getLogger(__name__)


class OptunaPruning(Callback):
    """After every epoch, report ``monitor`` to the trial and ask the pruner. A pruned
    trial stops like early stopping does (``should_stop``): the epoch's checkpoints are
    written, the loop ends, and the run is tested and closed as usual."""

    def __init__(self, trial, monitor: str, mode: str) -> None:
        self.trial, self.monitor, self.mode = trial, monitor, mode
        self.best: float | None = None
        self.pruned_at: int | None = None
        self.epochs = 0

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        value = metrics[self.monitor]
        self.epochs = epoch
        if is_better(value, self.best, self.mode):
            self.best = value
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            trainer.state.should_stop = True
            log.info("pruned by the sweep at epoch %d (%s %.4f)", epoch, self.monitor, value)
