"""The LR schedule of a resumed run whose length changed (``trainer.epochs=4`` on a
2-epoch run's checkpoint).

A scheduler whose curve spans the run's length (cosine with ``t_max: 0``, and any
other planned over the whole run) saves that length in its state: restored as is, a
finished 2-epoch cosine would train epoch 3 at lr 0 and then climb back up (it is
periodic); one that counts its total steps would fail past them. The choice: continue
on the schedule this run was built with, at the point it would have reached after the
steps already taken, which is what a run started with the new length does from here on
(refusing would leave no setting that extends the run).
Schedulers that do not depend on the length (step, ...) restore unchanged.
"""

import logging
import warnings
from typing import Any

log = logging.getLogger(__name__)

# What a length-dependent scheduler was planned for (CosineAnnealingLR's T_max, and
# total_steps: torch's schedulers that end after a set number of steps).
PLAN_KEYS = ("T_max", "total_steps")


def restore_scheduler(trainer, checkpoint: dict[str, Any]) -> None:
    """``trainer.scheduler`` from a checkpoint's ``lr_scheduler`` state."""
    before = checkpoint["config"]["trainer"]["epochs"]
    restore_schedule(trainer, trainer.scheduler, checkpoint["lr_scheduler"], before)


def restore_schedule(trainer, scheduler, saved: dict[str, Any] | None, before: int) -> None:
    """``scheduler`` (of ``trainer``'s optimizer) from its saved state; if the checkpoint
    planned another length (``before`` epochs), this run's own schedule advanced to where
    it would be."""
    if scheduler is None or saved is None:
        return
    fresh = scheduler.state_dict()  # built for this run's length, not stepped yet
    if _plan(fresh) == _plan(saved):
        scheduler.load_state_dict(saved)
        return
    # The optimizer was restored with the old schedule's lr; the fresh schedule starts
    # from the lr it set when it was built, then takes the steps the checkpoint took.
    for group, lr in zip(trainer.optimizer.param_groups, fresh["_last_lr"], strict=True):
        group["lr"] = lr
    with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()": a replay
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(saved["last_epoch"]):
            scheduler.step()
    log.info("%s", _note(trainer, before, saved["last_epoch"], scheduler.get_last_lr()[0]))


def _plan(state: dict[str, Any]) -> list:
    """The lengths a scheduler state was planned for, its sub-schedulers' too (SequentialLR)."""
    own = {key: state[key] for key in PLAN_KEYS if key in state}
    return [own, *(_plan(inner) for inner in state.get("_schedulers", []))]


def _note(trainer, before: int, steps: int, lr: float) -> str:
    name, epochs = trainer.config.lr_scheduler.name, trainer.epochs
    planned_for = f"trainer.epochs={before}" if before != epochs else "another number of steps"
    return (
        f"lr_scheduler.name={name} was planned for {planned_for}; this run has "
        f"trainer.epochs={epochs}: the learning rate continues on the {epochs}-epoch schedule "
        f"from where a run started with trainer.epochs={epochs} would be now (lr {lr:.4g}), "
        f"after {steps} scheduler step(s)"
    )
