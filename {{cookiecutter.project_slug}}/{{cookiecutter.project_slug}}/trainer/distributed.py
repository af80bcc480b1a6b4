"""Distributed wrapping: SyncBatchNorm, torch.compile and DistributedDataParallel
around the plain module, and DDP's ``no_sync`` on gradient-accumulation batches."""

import contextlib

import torch
from torch import nn

from ..config import ConfigError
from ..utils import DistInfo
{%- if cookiecutter.profile == "full" %}
from .strategy import shard_model
{%- endif %}


def wrap_model(
    module: nn.Module, device: torch.device, dist_info: DistInfo, cfg
) -> tuple[nn.Module, nn.Module]:
    """(the plain module on ``device``, whose weights are saved; the model that trains),
    by ``trainer.sync_batchnorm`` and ``trainer.compile``."""
    if dist_info.enabled and cfg.sync_batchnorm:
        if device.type != "cuda":  # PyTorch's SyncBatchNorm only trains on GPUs: fail now
            raise ConfigError(
                f"trainer.sync_batchnorm=true needs CUDA (device is {device}): "
                "SyncBatchNorm has no CPU implementation; set trainer.sync_batchnorm=false"
            )
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
{%- if cookiecutter.profile == "full" %}
    if cfg.strategy == "fsdp":  # sharded in place: the module is the model that trains
        module = shard_model(module, device, dist_info)
        return module, torch.compile(module) if cfg.compile else module
{%- endif %}
    module = module.to(device)
    model = torch.compile(module) if cfg.compile else module
    if dist_info.enabled:
        device_ids = [device.index] if device.type == "cuda" else None
        model = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    return module, model


def without_ddp(model: nn.Module) -> nn.Module:
    """The model without its DDP wrapper (compiled if it was): each rank evaluates its own
    shard, with no collective in the forward pass."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def sync_gradients(model: nn.Module, update: bool):
    """Under DDP, skip the gradient all-reduce on batches that only accumulate."""
    if update or not isinstance(model, nn.parallel.DistributedDataParallel):
        return contextlib.nullcontext()
    return model.no_sync()
