"""The optimizer step, in fp32: ``backward`` and ``step`` are where the course calls
``loss.backward()`` and ``optimizer.step()``, with gradient accumulation and clipping."""

import torch
from torch import nn


class Precision:
    def __init__(self, clip_val: float = 0.0, clip_algorithm: str = "norm") -> None:
        self.clip_val, self.clip_algorithm = clip_val, clip_algorithm

    @classmethod
    def from_config(cls, cfg) -> "Precision":
        """From the ``trainer.gradient_clip_*`` keys."""
        return cls(cfg.gradient_clip_val, cfg.gradient_clip_algorithm)

    def backward(self, loss: torch.Tensor, accumulated_batches: int = 1) -> None:
        """``loss.backward()``, the loss divided by the number of batches whose gradients
        add up to one optimizer step (so the step sees their mean)."""
        if accumulated_batches > 1:  # x / 1 == x: skip the extra kernel when not needed
            loss = loss / accumulated_batches
        loss.backward()

    def step(self, optimizer: torch.optim.Optimizer, parameters) -> None:
        """``optimizer.step()``, after clipping the gradients if asked."""
        if self.clip_val > 0:
            if self.clip_algorithm == "norm":
                nn.utils.clip_grad_norm_(parameters, self.clip_val)
            else:
                nn.utils.clip_grad_value_(parameters, self.clip_val)
        optimizer.step()


def batches_in_step(batch_idx: int, accumulate: int, num_batches: int) -> int:
    """How many batches' gradients the optimizer step of ``batch_idx`` averages:
    ``accumulate``, or fewer for the epoch's short last group."""
    group_start = batch_idx - batch_idx % accumulate
    return min(accumulate, num_batches - group_start)
