"""Is a monitored score better than the best so far? One rule for early stopping, the
checkpoint policy and anything else that tracks a best value."""

import math


def is_better(score: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    """``mode="min"``: lower by more than ``min_delta``; ``"max"``: higher. NaN never is."""
    if math.isnan(score):
        return False
    if best is None:
        return True
    return score < best - min_delta if mode == "min" else score > best + min_delta
