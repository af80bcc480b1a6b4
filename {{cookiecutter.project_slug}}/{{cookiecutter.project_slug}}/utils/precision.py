"""The precision seam: the number format the loop computes in. The core trains in
fp32, so each hook below hands back what it was given; the loop calls them beside
``loss.backward()`` and ``optimizer.step()`` so that a mixed-precision part can scale
the loss and skip overflowed steps without the verbs leaving the loop. Other precisions
add themselves to ``PRECISIONS`` (by the name ``trainer.precision`` gives) when
trainer/__init__.py imports them."""

import contextlib
import logging
from collections.abc import Callable

import torch
from torch import nn

log = logging.getLogger(__name__)


class Float32Precision:
    """fp32: no autocast, no loss scaling; every step is taken."""

    def autocast(self):
        """Around the forward pass (and evaluation)."""
        return contextlib.nullcontext()

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss to call ``backward()`` on."""
        return loss

    def gradients_finite(self, optimizer: torch.optim.Optimizer) -> bool:
        """Before clipping and ``optimizer.step()``: the gradients as the step will see
        them (unscaled), and whether to step at all."""
        return True

    def update(self) -> None:
        """After the step (taken or skipped)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """fp32 keeps no state: a checkpoint's loss scale (mixed precision) goes unused."""
        if state:
            log.info("the checkpoint's loss scale is not used: this run trains in fp32")


# trainer.precision -> a factory taking the run's device (a run without the key trains in fp32).
PRECISIONS: dict[str, Callable[[torch.device], Float32Precision]] = {
    "32": lambda device: Float32Precision(),
}


def build_precision(cfg, device: torch.device) -> Float32Precision:
    """The precision part ``trainer.precision`` names."""
    return PRECISIONS[cfg.get("precision", "32")](device)


def clip_gradients(parameters, clip_val: float, algorithm: str) -> None:
    """``trainer.gradient_clip_val``/``_algorithm`` (norm or value)."""
    if algorithm == "norm":
        nn.utils.clip_grad_norm_(parameters, clip_val)
    else:
        nn.utils.clip_grad_value_(parameters, clip_val)


def batches_in_step(batch_idx: int, accumulate: int, num_batches: int) -> int:
    """How many batches' gradients the optimizer step of ``batch_idx`` averages:
    ``accumulate``, or fewer for the epoch's short last group."""
    group_start = batch_idx - batch_idx % accumulate
    return min(accumulate, num_batches - group_start)
