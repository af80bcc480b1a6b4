"""The trainer's checkpoint: its own counters plus each part's ``state_dict``, as tensors
and plain Python types only (``torch.load(weights_only=True)`` reads it)."""

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import to_plain_dict
from ..saver import load_checkpoint
from ..utils import get_rng_state, set_rng_state

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    epoch: int = 0  # completed epochs
    global_step: int = 0  # optimizer steps taken
    batch_in_epoch: int = 0  # batches done in the unfinished epoch (0 at an epoch boundary)
    should_stop: bool = False  # early stopping fired


def collect_state(trainer) -> dict[str, Any]:
    mid_epoch = trainer.state.batch_in_epoch > 0
    scheduler = trainer.scheduler
    checkpoint = {
        "format_version": 1,
        "model": trainer.module.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "lr_scheduler": scheduler.scheduler.state_dict() if scheduler else None,
        "grad_scaler": trainer.precision.state_dict(),
        "trainer": asdict(trainer.state),
        "train_tracker": trainer.train_tracker.state_dict() if mid_epoch else None,
        **{cb.state_key: cb.state_dict() for cb in trainer.callbacks if cb.state_key},
        "rng": get_rng_state(),
        "config": to_plain_dict(trainer.config),
        "classes": list(trainer.datamodule.classes),
        "preprocessing": trainer.datamodule.preprocessing(),  # for predict.py
        "metrics": dict(trainer.last_metrics),
    }
    trainer.on_save_checkpoint(checkpoint)
    return checkpoint


def restore_state(trainer, state: dict[str, Any]) -> None:
    trainer.module.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    if trainer.scheduler is not None and state["lr_scheduler"] is not None:
        trainer.scheduler.scheduler.load_state_dict(state["lr_scheduler"])
    trainer.precision.load_state_dict(state["grad_scaler"])
    trainer.state = TrainState(**state["trainer"])
    # Under torchrun the saved sums are already over all ranks: only rank 0 takes them.
    if state["train_tracker"] is not None and trainer.dist.is_main:
        trainer.train_tracker.load_state_dict(state["train_tracker"], trainer.device)
    for callback in trainer.callbacks:
        if callback.state_key in state:
            callback.load_state_dict(state[callback.state_key])
    trainer.last_metrics = dict(state["metrics"])
    trainer.on_load_checkpoint(state)
    set_rng_state(state["rng"])  # last: building the objects above must not shift it


def resume(trainer, checkpoint: Path | str | dict[str, Any]) -> None:
    """Continue from a checkpoint file, or from its contents when train.py read it."""
    if isinstance(checkpoint, dict):
        source = trainer.config.resume or "the given checkpoint"
    else:
        source, checkpoint = checkpoint, load_checkpoint(checkpoint, trainer.device)
    trainer.load_state_dict(checkpoint)
    log.info("resumed from %s: %s", source, trainer.state)
