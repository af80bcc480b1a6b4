"""Resume mid-epoch with another number of processes (torchrun): the samples the saved
run had not reached in its epoch are shared out anew, each used once."""

import logging
from typing import Any

log = logging.getLogger(__name__)


def share_out_resumed_epoch(trainer, state: dict[str, Any]) -> bool:
    """After ``restore_state``: a checkpoint from ``W`` processes, ``b`` batches of
    ``batch_size`` into its epoch, had used the first ``b * batch_size * W`` samples of
    the epoch's order (DistributedSampler deals that order out rank by rank). This run
    gets the rest of the epoch, split over its own processes, and starts the loop so
    that it runs exactly those batches. Only the order of the samples changes. True
    when it did (and said so)."""
    saved_world = len(state.get("rng_per_rank") or [])
    world, done = trainer.strategy.world_size, trainer.state.batch_in_epoch
    if done == 0 or saved_world in (0, world) or trainer.config.trainer.overfit_batches:
        return False
    consumed = done * state["config"]["data"]["batch_size"] * saved_world
    epoch = trainer.state.epoch + 1
    sampler = trainer.datamodule.train_sampler
    if not hasattr(sampler, "share_out_rest"):  # a sampler of the user's own
        return False
    batch_size = trainer.config.data.batch_size
    batches = sampler.share_out_rest(epoch, consumed, trainer.num_train_batches, batch_size)
    trainer.state.batch_in_epoch = trainer.num_train_batches - batches
    if trainer.strategy.is_main:
        log.warning(
            "resuming epoch %d with %d process(es), saved by %d: its remaining samples are "
            "shared out anew (each used once, in another order than an uninterrupted run), "
            "and every process continues from rank 0's random state",
            *(epoch, world, saved_world),
        )
    return True
