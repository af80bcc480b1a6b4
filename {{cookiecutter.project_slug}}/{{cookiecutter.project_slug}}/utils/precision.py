{% if cookiecutter.profile == "full" -%}
"""Precision: autocast for the forward pass, a GradScaler for fp16, and the optimizer
step with gradient clipping. The loop calls ``backward`` and ``step`` where the course
calls ``loss.backward()`` and ``optimizer.step()``."""

import contextlib

import torch
from torch import nn

from .errors import ConfigError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    def __init__(
        self, precision: str, device: torch.device, clip_val: float = 0.0, clip_algorithm="norm"
    ) -> None:
        if precision == "fp16" and device.type != "cuda":
            raise ConfigError(
                f"trainer.precision=fp16 needs CUDA (device is {device}); use precision=bf16 on CPU"
            )
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError(
                f"trainer.precision=bf16: {torch.cuda.get_device_name(device)} has no "
                "bfloat16 support; use precision=fp16"
            )
        self.dtype = AMP_DTYPES.get(precision)
        self.device_type = device.type
        self.clip_val, self.clip_algorithm = clip_val, clip_algorithm
        # GradScaler only matters for fp16; disabled it is a pass-through.
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    @classmethod
    def from_config(cls, cfg, device: torch.device) -> "Precision":
        """From the ``trainer.*`` keys."""
        return cls(cfg.precision, device, cfg.gradient_clip_val, cfg.gradient_clip_algorithm)

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)
{%- else -%}
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
{%- endif %}

    def backward(self, loss: torch.Tensor, accumulated_batches: int = 1) -> None:
        """``loss.backward()``, the loss divided by the number of batches whose gradients
        add up to one optimizer step (so the step sees their mean)."""
        if accumulated_batches > 1:  # x / 1 == x: skip the extra kernel when not needed
            loss = loss / accumulated_batches
{%- if cookiecutter.profile == "full" %}
        self.scaler.scale(loss).backward()

    def step(self, optimizer: torch.optim.Optimizer, parameters) -> None:
        """``optimizer.step()``, after unscaling and clipping the gradients if asked."""
        if self.clip_val > 0:
            self.scaler.unscale_(optimizer)
{%- else %}
        loss.backward()

    def step(self, optimizer: torch.optim.Optimizer, parameters) -> None:
        """``optimizer.step()``, after clipping the gradients if asked."""
        if self.clip_val > 0:
{%- endif %}
            if self.clip_algorithm == "norm":
                nn.utils.clip_grad_norm_(parameters, self.clip_val)
            else:
                nn.utils.clip_grad_value_(parameters, self.clip_val)
{%- if cookiecutter.profile == "full" %}
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict:
        return self.scaler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scaler.load_state_dict(state)
{%- else %}
        optimizer.step()
{%- endif %}


def batches_in_step(batch_idx: int, accumulate: int, num_batches: int) -> int:
    """How many batches' gradients the optimizer step of ``batch_idx`` averages:
    ``accumulate``, or fewer for the epoch's short last group."""
    group_start = batch_idx - batch_idx % accumulate
    return min(accumulate, num_batches - group_start)
