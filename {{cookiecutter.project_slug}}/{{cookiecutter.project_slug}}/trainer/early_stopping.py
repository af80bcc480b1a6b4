"""Early stopping on a monitored metric, with state that survives a resume."""

import math


class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs."""

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

    def improved(self, score: float) -> bool:
        if math.isnan(score):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return score < self.best - self.min_delta
        return score > self.best + self.min_delta

    def update(self, metrics: dict[str, float]) -> bool:
        """Record this epoch; return True when training should stop."""
        score = metrics[self.monitor]
        if self.improved(score):
            self.best, self.wait = score, 0
        else:
            self.wait += 1
        return self.enabled and self.wait >= self.patience

    def state_dict(self) -> dict:
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.wait = state["best"], int(state["wait"])
