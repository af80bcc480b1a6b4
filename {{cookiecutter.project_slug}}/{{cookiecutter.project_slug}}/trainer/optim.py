"""Optimizers and LR schedulers built from ``optimizer.*`` and ``lr_scheduler.*``."""

from collections.abc import Callable

import torch
from torch.optim import lr_scheduler as sched

from ..config import Registry
from ..config.schema import LRSchedulerConfig, OptimizerConfig
from ..utils.lasting import first_import

OPTIMIZERS = Registry("optimizer.name")
SCHEDULERS = Registry("lr_scheduler.name")


def build_optimizer(params, config: OptimizerConfig) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]  # frozen layers are not optimized
    with first_import("torch._dynamo"):  # a torch optimizer's first construction imports it
        return OPTIMIZERS.get(config.name)(params, config)


@OPTIMIZERS.register("adam")
def adam(params, config: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


@OPTIMIZERS.register("adamw")
def adamw(params, config: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


@OPTIMIZERS.register("sgd")
def sgd(params, config: OptimizerConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        params,
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )


# Schedules stepped other than once per epoch (after every optimizer step, or on a
# metric) belong to other parts, which build and step them in a callback: each says
# whether it takes an ``lr_scheduler`` config; the loop then has no scheduler to step.
SCHEDULE_TAKERS: list[Callable[[LRSchedulerConfig], bool]] = []


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: LRSchedulerConfig, epochs: int
) -> sched.LRScheduler | None:
    """The named scheduler over the run's epochs, stepped at the end of every epoch (None
    for ``none``, or when another part takes this schedule)."""
    if any(takes(config) for takes in SCHEDULE_TAKERS):
        return None
    return SCHEDULERS.get(config.name)(optimizer, config, epochs)


# Each takes (optimizer, lr_scheduler config, length of the run in epochs).
SCHEDULERS.register("none")(lambda optimizer, config, length: None)


@SCHEDULERS.register("step")
def step(optimizer, config, length):
    return sched.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)


@SCHEDULERS.register("cosine")
def cosine(optimizer, config, length):
    return sched.CosineAnnealingLR(optimizer, T_max=config.t_max or length, eta_min=config.eta_min)
