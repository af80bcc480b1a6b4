"""The trainer's checkpoint: its own counters plus each part's ``state_dict``, as tensors
and plain Python types only (``torch.load(weights_only=True)`` reads it).
{%- if cookiecutter.profile == "full" %}

Under torchrun every rank draws its own random numbers (dropout, augmentation), so the
checkpoint holds every rank's RNG state (``rng_per_rank``, gathered to rank 0) and each
rank restores its own: a resumed multi-process run is as exact as a single process.
{%- endif %}"""

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import to_plain_dict
from ..saver import load_checkpoint
{%- if cookiecutter.profile == "full" %}
from ..utils import DistInfo, dist, get_rng_state, set_rng_state
from .reshard import share_out_resumed_epoch
{%- else %}
from ..utils import get_rng_state, set_rng_state
{%- endif %}

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
    scheduler = trainer.scheduler
{%- if cookiecutter.profile == "full" %}
    rng = get_rng_state()  # this process's; every rank's under torchrun: checkpoint_state
{%- endif %}
    checkpoint = {
        "format_version": 1,
        **trainer.strategy.model_and_optimizer_state(trainer),  # "model", "optimizer"
        "lr_scheduler": scheduler.scheduler.state_dict() if scheduler else None,
        "grad_scaler": trainer.precision.state_dict(),  # the loss scale ({} in fp32)
        "trainer": asdict(trainer.state),
        "train_tracker": trainer.train_tracker.state_dict() if mid_epoch else None,
        "callbacks": callback_states(trainer.callbacks),
{%- if cookiecutter.profile == "full" %}
        "rng": rng,
        "rng_per_rank": [rng],
{%- else %}
        "rng": get_rng_state(),
{%- endif %}
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


{%- if cookiecutter.profile == "full" %}


def checkpoint_state(trainer) -> dict[str, Any]:
    """``trainer.state_dict()`` with every rank's RNG state (rank 0 writes it). A
    collective under torchrun: every rank must call it at the same point."""
    rng_per_rank = dist.all_gather_object(get_rng_state())
    state = trainer.state_dict()
    state["rng_per_rank"] = rng_per_rank
    return state


def own_rng_state(state: dict[str, Any], info: DistInfo, quiet: bool = False) -> dict[str, Any]:
    """This rank's saved RNG state. A checkpoint from another number of processes (or
    written before ``rng_per_rank`` existed) gives every rank rank 0's state: such a
    resume cannot be exact anyway, since the data shards depend on the world size."""
    per_rank = state.get("rng_per_rank") or []
    if len(per_rank) == info.world_size:
        return per_rank[info.rank]
    if info.is_main and per_rank and not quiet:
        log.warning(
            "the checkpoint was written by %d process(es), this run has %d: the data order "
            "changes (the samples are dealt out to another number of processes) and every "
            "process continues from rank 0's random state (not an exact resume)",
            *(len(per_rank), info.world_size),
        )
    return state["rng"]
{%- endif %}


def restore_state(trainer, state: dict[str, Any]) -> None:
    trainer.strategy.load_model_and_optimizer(trainer, state)
    if trainer.scheduler is not None and state["lr_scheduler"] is not None:
        trainer.scheduler.scheduler.load_state_dict(state["lr_scheduler"])
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
{%- if cookiecutter.profile == "full" %}
    said = share_out_resumed_epoch(trainer, state)  # says the RNG note too
    # Last: building the objects above must not shift it.
    set_rng_state(own_rng_state(state, trainer.strategy.dist, quiet=said))
{%- else %}
    # Last: building the objects above must not shift it.
    set_rng_state(state["rng"])
{%- endif %}


def resume(trainer, checkpoint: Path | str | dict[str, Any]) -> None:
    """Continue from a checkpoint file, or from its contents when train.py read it."""
    if isinstance(checkpoint, dict):
        source = trainer.config.resume or "the given checkpoint"
    else:
        source, checkpoint = checkpoint, load_checkpoint(checkpoint, trainer.device)
    trainer.load_state_dict(checkpoint)
    log.info("resumed from %s: %s", source, trainer.state.describe())
