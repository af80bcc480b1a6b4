"""NaN and inf losses: stop with a clear message (``trainer.nonfinite_loss=raise``), or
skip the batch (``skip``)."""

import logging
import math

import torch

from ..utils import MetricTracker
from ..utils.errors import UserError

log = logging.getLogger(__name__)


class NonFiniteLossError(UserError, FloatingPointError):
    """The training loss became NaN or infinite."""


def check_finite_loss(tracker: MetricTracker, state, log_every: int) -> None:
    """The running loss sum turns NaN/inf with the first bad batch, so checking it at
    log steps, saves and epoch ends catches it without a per-step host sync."""
    total = tracker.total("loss")
    if total is not None and not math.isfinite(total):
        raise NonFiniteLossError(
            f"training loss became {total} in epoch {state.epoch + 1}, at or before optimizer "
            f"step {state.global_step} (checked every trainer.log_every_n_steps={log_every} "
            "steps; set it to 1 to pinpoint the batch, or trainer.nonfinite_loss=skip to skip "
            "such batches). Checkpoints on disk are from before this point."
        )


def skip_nonfinite_batch(trainer, loss: torch.Tensor, epoch: int, batch_idx: int) -> bool:
    """``trainer.nonfinite_loss=skip``: True (after dropping the batch's gradients) when
    the loss is NaN/inf (in any process of the strategy: all skip together)."""
    if not trainer.strategy.any_process(not torch.isfinite(loss).item()):
        return False
    log.warning("skipping batch %d of epoch %d: loss is %s", batch_idx, epoch, loss.item())
    trainer.optimizer.zero_grad(set_to_none=True)
    return True
