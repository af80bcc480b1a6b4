"""Optimizers and LR schedulers built from ``optimizer.*`` and ``lr_scheduler.*``."""
{% if cookiecutter.profile == "full" %}
import math
{%- endif %}
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim import lr_scheduler as sched

from ..config import Registry
from ..config.schema import LRSchedulerConfig, OptimizerConfig
from ..utils.lasting import first_import


@dataclass
class SchedulerSpec:
    """A scheduler and when the trainer steps it: at the end of each epoch (given a
    metric when ``monitor`` names one), or after each optimizer step."""

    scheduler: Any  # a torch.optim.lr_scheduler scheduler
    interval: str = "epoch"  # epoch | step
    monitor: str | None = None  # the metric the scheduler steps on

    def after_optimizer_step(self) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def after_epoch(self, metrics: dict[str, float]) -> None:
        if self.interval == "epoch":
            self.scheduler.step(*([metrics[self.monitor]] if self.monitor else []))


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


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    config: LRSchedulerConfig,
    epochs: int,
{%- if cookiecutter.profile == "full" %}
    steps_per_epoch: int,
{%- endif %}
) -> SchedulerSpec | None:
{%- if cookiecutter.profile == "full" %}
    """The main scheduler, preceded by ``warmup`` units of linear warm-up when asked."""
    interval = "step" if config.name == "onecycle" else config.interval
    length = epochs * steps_per_epoch if interval == "step" else epochs
    if config.name == "plateau":
        plateau = sched.ReduceLROnPlateau(
            optimizer, mode=config.mode, factor=config.factor, patience=config.patience
        )
        return SchedulerSpec(plateau, "epoch", config.monitor)
    main = _main_scheduler(optimizer, config, max(1, length - config.warmup))
    if config.warmup:
        warmup = sched.LinearLR(
            optimizer, start_factor=config.warmup_start_factor, total_iters=config.warmup
        )
        if main is None:
            return SchedulerSpec(warmup, interval)
        main = sched.SequentialLR(optimizer, [warmup, main], milestones=[config.warmup])
    return SchedulerSpec(main, interval) if main is not None else None


def _main_scheduler(optimizer, config: LRSchedulerConfig, length: int):
    """The named scheduler over ``length`` epochs or steps (None for ``none``)."""
    return SCHEDULERS.get(config.name)(optimizer, config, length)
{%- else %}
    """The named scheduler over the run's epochs (None for ``none``)."""
    scheduler = SCHEDULERS.get(config.name)(optimizer, config, epochs)
    return SchedulerSpec(scheduler) if scheduler is not None else None
{%- endif %}


# Each takes (optimizer, lr_scheduler config, length of the run in {% if cookiecutter.profile == "full" %}its interval's units{% else %}epochs{% endif %}).
SCHEDULERS.register("none")(lambda optimizer, config, length: None)
{%- if cookiecutter.profile == "full" %}
SCHEDULERS.register("plateau")(None)  # built in build_scheduler: it steps on a metric
{%- endif %}


@SCHEDULERS.register("step")
def step(optimizer, config, length):
    return sched.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
{%- if cookiecutter.profile == "full" %}


@SCHEDULERS.register("multistep")
def multistep(optimizer, config, length):
    return sched.MultiStepLR(optimizer, milestones=list(config.milestones), gamma=config.gamma)


@SCHEDULERS.register("exponential")
def exponential(optimizer, config, length):
    return sched.ExponentialLR(optimizer, gamma=config.gamma)
{%- endif %}


@SCHEDULERS.register("cosine")
def cosine(optimizer, config, length):
    return sched.CosineAnnealingLR(optimizer, T_max=config.t_max or length, eta_min=config.eta_min)
{%- if cookiecutter.profile == "full" %}


@SCHEDULERS.register("onecycle")
def onecycle(optimizer, config, length):
    return sched.OneCycleLR(optimizer, max_lr=config.max_lr, total_steps=max(1, length))


def steps_per_epoch(num_batches: int, accumulate_grad_batches: int) -> int:
    return math.ceil(num_batches / accumulate_grad_batches)
{%- endif %}
