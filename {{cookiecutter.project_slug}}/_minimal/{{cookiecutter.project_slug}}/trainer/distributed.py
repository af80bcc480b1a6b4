"""The model on its device. One process trains the module itself: ``self.model`` and
``self.module`` are the same ``nn.Module``."""

import contextlib

import torch
from torch import nn

from ..utils import DistInfo


def wrap_model(
    module: nn.Module, device: torch.device, dist_info: DistInfo, cfg
) -> tuple[nn.Module, nn.Module]:
    """(the module on ``device``, whose weights are saved; the same module, which trains)."""
    module = module.to(device)
    return module, module


def without_ddp(model: nn.Module) -> nn.Module:
    return model


def sync_gradients(model: nn.Module, update: bool):
    """Every batch's gradients add up in ``.grad`` until the optimizer steps."""
    return contextlib.nullcontext()
