"""The trainer's checkpoint: its own counters plus each part's ``state_dict``, as tensors
and plain Python types only (``torch.load(weights_only=True)`` reads it). The random
state is the strategy's part: it knows how many processes draw random numbers."""

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import to_plain_dict
from ..saver import TRAINING_KEYS, load_checkpoint, require_training_checkpoint
from .schedule_resume import restore_scheduler

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    epoch: int = 0  # completed epochs
    global_step: int = 0  # optimizer steps taken
    batch_in_epoch: int = 0  # batches done in the unfinished epoch (0 at an epoch boundary)
    should_stop: bool = False  # early stopping fired

    def describe(self) -> str:
        """For the log: ``epoch 2 done, step 30`` (and where in the next epoch)."""
        text = f"epoch {self.epoch} done, step {self.global_step}"
        if self.batch_in_epoch:
            text += f", batch {self.batch_in_epoch} of epoch {self.epoch + 1}"
        return text + (" (early stopping had fired)" if self.should_stop else "")


def collect_state(trainer) -> dict[str, Any]:
    mid_epoch = trainer.state.batch_in_epoch > 0
    checkpoint = {
        "format_version": 1,
        **trainer.strategy.model_and_optimizer_state(trainer),  # "model", "optimizer"
        "lr_scheduler": trainer.scheduler.state_dict() if trainer.scheduler else None,
        "grad_scaler": trainer.precision.state_dict(),  # the loss scale ({} in fp32)
        "trainer": asdict(trainer.state),
        "train_tracker": trainer.train_tracker.state_dict() if mid_epoch else None,
        "callbacks": callback_states(trainer.callbacks),
        **trainer.strategy.rng_state(),  # "rng"
        "config": to_plain_dict(trainer.config),
        "classes": list(trainer.datamodule.classes),
        "preprocessing": trainer.datamodule.preprocessing(),  # for predict.py
        "metrics": dict(trainer.last_metrics),
    }
    trainer.on_save_checkpoint(checkpoint)
    return checkpoint


def callback_states(callbacks) -> dict[str, Any]:
    """Each stateful callback's ``state_dict``, by its ``state_key`` (unique)."""
    states: dict[str, Any] = {}
    for callback in callbacks:
        state = callback.state_dict()
        if not state:
            continue
        if callback.state_key in states:
            raise ValueError(
                f"two callbacks with state share the state_key {callback.state_key!r}: "
                "set state_key on one of them so both states are saved"
            )
        states[callback.state_key] = state
    return states


def restore_state(trainer, state: dict[str, Any]) -> None:
    trainer.strategy.load_model_and_optimizer(trainer, state)
    restore_scheduler(trainer, state)  # a run extended past its schedule: see there
    # Absent from checkpoints of runs that had no scaler part: it starts fresh.
    trainer.precision.load_state_dict(state.get("grad_scaler") or {})
    trainer.state = TrainState(**state["trainer"])
    # Under several processes the saved sums are already over all: the main one takes them.
    if state["train_tracker"] is not None and trainer.strategy.is_main:
        trainer.train_tracker.load_state_dict(state["train_tracker"], trainer.device)
    # Checkpoints written before the ``callbacks`` entry kept each state at the top level.
    saved = state.get("callbacks", state)
    for callback in trainer.callbacks:
        if callback.state_key in saved:
            callback.load_state_dict(saved[callback.state_key])
    trainer.last_metrics = dict(state["metrics"])
    trainer.on_load_checkpoint(state)
    # Last: building the objects above must not shift it.
    trainer.strategy.restore_rng_state(trainer, state)


def read_checkpoint(path: Path | str, map_location="cpu") -> dict[str, Any]:
    """The training checkpoint at ``path``, read and checked: the one place a resume
    reads its file (train.py's through run/resume.py, then restores from the dict)."""
    return require_training_checkpoint(load_checkpoint(path, map_location), path, TRAINING_KEYS)


def resume(trainer, checkpoint: Path | str | dict[str, Any]) -> None:
    """Continue from a checkpoint file, or from its contents when train.py read it."""
    if isinstance(checkpoint, dict):
        source = trainer.config.resume or "the given checkpoint"
    else:
        source, checkpoint = checkpoint, read_checkpoint(checkpoint, trainer.device)
    trainer.load_state_dict(checkpoint)
    log.info("resumed from %s: %s", source, trainer.state.describe())
