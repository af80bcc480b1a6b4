"""More LR schedules: ``multistep`` and ``exponential`` (stepped once per epoch by the
loop, like the core's), and the schedules the loop does not step itself, built and
stepped here by a callback: ``lr_scheduler.interval=step`` (after every optimizer step),
a linear warm-up (``lr_scheduler.warmup``), ``onecycle`` (per step) and ``plateau``
(once per epoch, on the ``lr_scheduler.monitor`` metric)."""

import math
from typing import Any

from torch.optim import lr_scheduler as sched

from ..config.schema import LRSchedulerConfig
from .callbacks import ADDED_CALLBACKS, Callback
from .optim import SCHEDULE_TAKERS, SCHEDULERS
from .schedule_resume import restore_schedule

# Each takes (optimizer, lr_scheduler config, length of the run in its interval's units).
SCHEDULERS.register("plateau")(None)  # built in build_schedule: it steps on a metric


@SCHEDULERS.register("multistep")
def multistep(optimizer, config, length):
    return sched.MultiStepLR(optimizer, milestones=list(config.milestones), gamma=config.gamma)


@SCHEDULERS.register("exponential")
def exponential(optimizer, config, length):
    return sched.ExponentialLR(optimizer, gamma=config.gamma)


@SCHEDULERS.register("onecycle")
def onecycle(optimizer, config, length):
    return sched.OneCycleLR(optimizer, max_lr=config.max_lr, total_steps=max(1, length))


def interval(config: LRSchedulerConfig) -> str:
    """When the schedule steps: ``step`` (after each optimizer step) or ``epoch``."""
    return "step" if config.name == "onecycle" else config.interval


def takes(config: LRSchedulerConfig) -> bool:
    """Whether this part, not the loop, builds and steps the schedule."""
    return interval(config) == "step" or bool(config.warmup) or config.name == "plateau"


def steps_per_epoch(num_batches: int, accumulate_grad_batches: int) -> int:
    return math.ceil(num_batches / accumulate_grad_batches)


def build_schedule(optimizer, config: LRSchedulerConfig, epochs: int, epoch_steps: int):
    """The named scheduler, preceded by ``warmup`` units of linear warm-up when asked;
    ``epoch_steps``: optimizer steps per epoch."""
    length = epochs * epoch_steps if interval(config) == "step" else epochs
    if config.name == "plateau":
        return sched.ReduceLROnPlateau(
            optimizer, mode=config.mode, factor=config.factor, patience=config.patience
        )
    main = SCHEDULERS.get(config.name)(optimizer, config, max(1, length - config.warmup))
    if not config.warmup:
        return main
    warmup = sched.LinearLR(
        optimizer, start_factor=config.warmup_start_factor, total_iters=config.warmup
    )
    if main is None:
        return warmup
    return sched.SequentialLR(optimizer, [warmup, main], milestones=[config.warmup])


class StepScheduler(Callback):
    """Builds the schedule once the optimizer is made and steps it: after every optimizer
    step, or at the end of each epoch on the monitored metric (``plateau``). Runs before
    the checkpoint callback, so a checkpoint holds the stepped schedule."""

    state_key = "lr_schedule"

    def __init__(self, config: LRSchedulerConfig) -> None:
        self.config, self.interval = config, interval(config)
        self.scheduler = None  # made in on_fit_start
        self.trainer = None

    def on_fit_start(self, trainer) -> None:
        self.trainer = trainer
        steps = steps_per_epoch(trainer.num_train_batches, trainer.accumulate)
        self.scheduler = build_schedule(trainer.optimizer, self.config, trainer.epochs, steps)

    def on_optimizer_step(self, trainer, mid_epoch: bool) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        if self.interval == "epoch":
            plateau = self.config.name == "plateau"
            self.scheduler.step(*([metrics[self.config.monitor]] if plateau else []))

    def state_dict(self) -> dict[str, Any]:
        return {"lr_scheduler": self.scheduler.state_dict(), "epochs": self.trainer.epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore_schedule(self.trainer, self.scheduler, state["lr_scheduler"], state["epochs"])


SCHEDULE_TAKERS.append(takes)
ADDED_CALLBACKS.append(
    lambda trainer: (
        StepScheduler(trainer.config.lr_scheduler) if takes(trainer.config.lr_scheduler) else None
    )
)
