"""Early stopping on a monitored metric, with state that survives a resume."""

import logging

from ...utils.compare import is_better
from .base import Callback

log = logging.getLogger(__name__)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs."""

    state_key = "early_stopping"

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "min",
        patience: int = 5,
        min_delta: float = 0.0,
        enabled: bool = True,
    ) -> None:
        self.monitor, self.mode = monitor, mode
        self.patience, self.min_delta, self.enabled = patience, min_delta, enabled
        self.best: float | None = None
        self.wait = 0

    def update(self, metrics: dict[str, float]) -> bool:
        """Record this epoch; return True when training should stop."""
        score = metrics[self.monitor]
        if is_better(score, self.best, self.mode, self.min_delta):
            self.best, self.wait = score, 0
        else:
            self.wait += 1
        return self.enabled and self.wait >= self.patience

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        trainer.state.should_stop = self.update(metrics)
        if trainer.state.should_stop:
            log.info(
                "early stopping: %s has not improved for %d epochs (best %.4f)",
                self.monitor,
                self.wait,
                self.best,
            )

    def state_dict(self) -> dict:
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.wait = state["best"], int(state["wait"])
