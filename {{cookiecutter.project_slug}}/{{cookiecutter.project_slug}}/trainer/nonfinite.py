"""NaN and inf losses: stop with a clear message (``trainer.nonfinite_loss=raise``), or
skip the batch{% if cookiecutter.profile == "full" %} on every rank together{% endif %} (``skip``)."""

import logging
import math

import torch

{% if cookiecutter.profile == "full" %}from ..utils import DistInfo, MetricTracker, dist{% else %}from ..utils import MetricTracker{% endif %}
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
{%- if cookiecutter.profile == "full" %}


def finite_on_all_ranks(loss: torch.Tensor, dist_info: DistInfo) -> bool:
    """Under DDP all ranks skip a batch together: a rank that skipped its backward alone
    would leave the others waiting in the gradient all-reduce."""
    finite = bool(torch.isfinite(loss))
    return finite if not dist_info.enabled else dist.max_over_ranks(0 if finite else 1) == 0
{%- endif %}


def skip_nonfinite_batch(trainer, loss: torch.Tensor, epoch: int, batch_idx: int) -> bool:
    """``trainer.nonfinite_loss=skip``: True (after dropping the batch's gradients) when
    the loss is NaN/inf{% if cookiecutter.profile == "full" %} on any rank{% endif %}."""
    if {% if cookiecutter.profile == "full" %}finite_on_all_ranks(loss, trainer.dist){% else %}torch.isfinite(loss){% endif %}:
        return False
    log.warning("skipping batch %d of epoch %d: loss is %s", batch_idx, epoch, loss.item())
    trainer.optimizer.zero_grad(set_to_none=True)
    return True
