"""``trainer.strategy=ddp`` (the full profile's default): one process per device under
torchrun, each with a full copy of the model in DistributedDataParallel; without
torchrun, one process (still with ``trainer.compile`` and the cluster's stop signals).
Also SyncBatchNorm, and DDP's ``no_sync`` on gradient-accumulation batches."""

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import ConfigError
from ..data.sharded import sampler_for
from ..utils import dist, get_rng_state, seed_everything, set_rng_state
from ..utils.device import prepare_device
from ..utils.dist import DistInfo, init_distributed
from ..utils.rank_sums import summed_over_ranks
from .cluster_stop import ClusterStop
from .reshard import share_out_resumed_epoch
from .strategy import STRATEGIES, SingleDevice, T

log = logging.getLogger(__name__)


class DDPStrategy(SingleDevice):
    multi_process = True

    def __init__(self, cfg, dist_info: DistInfo | None = None) -> None:
        self.cfg = cfg
        # Joins the process group torchrun describes (a single process without torchrun).
        self.dist = dist_info or init_distributed(cfg.device)
        self.device = prepare_device(cfg)
        if self.device.type == "cuda" and self.dist.enabled:
            # Each process takes cuda:LOCAL_RANK, so two processes never share one GPU.
            self.device = torch.device("cuda", self.dist.local_rank)

    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    @property
    def world_size(self) -> int:
        return self.dist.world_size

    @property
    def sampler(self):
        """Each rank's shard of the data (see data/sharded.py)."""
        return sampler_for(self.dist)

    @property
    def batch_note(self) -> str:
        return f" per process, world size {self.world_size}"

    def seed(self, seed: int, deterministic: bool) -> None:
        seed_everything(seed + self.dist.rank, deterministic)  # each rank its own streams

    def on_main(self, make: Callable[[], T]) -> T:
        result, error = None, None
        if self.is_main:
            try:
                result = make()
            except Exception as problem:  # every rank raises it, none waits for a result
                error = problem
        shared = dist.broadcast_object(error)
        if shared is not None:
            raise error if error is not None else shared
        return dist.broadcast_object(result)

    def load_best_weights(self, trainer, best: Path) -> None:
        from .fsdp import load_best_weights

        load_best_weights(trainer, best)  # best.dcp when sharded

    def setup_model(self, module: nn.Module) -> nn.Module:
        return wrap_model(module, self.device, self.dist, self.cfg)[1]

    def unwrap(self, model: nn.Module) -> nn.Module:
        return getattr(without_ddp(model), "_orig_mod", without_ddp(model))  # compile's wrapper

    def eval_model(self, model: nn.Module) -> nn.Module:
        return without_ddp(model)  # each rank evaluates its own shard, with no collective

    def forward_context(self, model: nn.Module, update: bool):
        return sync_gradients(model, update)

    def any_process(self, flag: bool) -> bool:
        # Under DDP all ranks skip a batch together: a rank that skipped its backward
        # alone would leave the others waiting in the gradient all-reduce.
        return flag if not self.dist.enabled else dist.max_over_ranks(int(flag)) == 1

    def reduce(self, tracker):
        return summed_over_ranks(tracker)

    def graceful_stop(self, trainer) -> ClusterStop:
        return ClusterStop(self.dist, lambda: at_sync_point(trainer))

    def model_and_optimizer_state(self, trainer) -> dict[str, Any]:
        from .fsdp import model_and_optimizer_state

        return model_and_optimizer_state(trainer)  # this rank's shards when sharded

    def load_model_and_optimizer(self, trainer, state: dict[str, Any]) -> None:
        from .fsdp import load_model_and_optimizer

        load_model_and_optimizer(trainer, state)  # also a sharded run's consolidated state

    def save_checkpoint(self, trainer, manager, paths: list[Path]) -> list[Path]:
        """Every rank builds the state (it gathers metric and RNG states); rank 0 writes
        the files, or every rank its shards when the model is sharded."""
        from ..saver.sharded import save_sharded
        from .fsdp import is_sharded

        tracker = trainer.train_tracker
        if self.world_size > 1 and trainer.state.batch_in_epoch:
            # Mid-epoch saves hold the running sums of all ranks; rank 0 restores them.
            trainer.train_tracker = self.reduce(tracker)
        try:
            state = checkpoint_state(trainer)
        finally:
            trainer.train_tracker = tracker
        if is_sharded(trainer.module):
            # In the background unless the run ends here (last epoch, early stop, signal).
            done = trainer.state.epoch >= trainer.epochs or trainer.state.should_stop
            async_save = trainer.config.trainer.checkpoint.get("async_save", False)
            background = async_save and not (done or trainer.stop.signum)
            paths = save_sharded(state, paths, manager.take_deletions(), background)
        elif self.is_main:
            manager.write(state, paths)
        else:
            manager.take_deletions()  # rank 0's to do
        dist.barrier()  # no rank goes on (or reads a checkpoint) before it is written
        return paths

    # Under torchrun every rank draws its own random numbers (dropout, augmentation), so
    # the checkpoint holds every rank's RNG state (``rng_per_rank``, gathered to rank 0 by
    # checkpoint_state) and each rank restores its own: as exact as a single process.
    def rng_state(self) -> dict[str, Any]:
        rng = get_rng_state()  # this process's; every rank's in checkpoint_state
        return {"rng": rng, "rng_per_rank": [rng]}

    def restore_rng_state(self, trainer, state: dict[str, Any]) -> None:
        said = share_out_resumed_epoch(trainer, state)  # says the RNG note too
        set_rng_state(own_rng_state(state, self.dist, quiet=said))


STRATEGIES["ddp"] = DDPStrategy


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


def at_sync_point(trainer) -> bool:
    """Where all ranks agree on a stop request: log steps and epoch ends, which every rank
    reaches together (no extra per-step host sync)."""
    state = trainer.state
    return state.batch_in_epoch == 0 or state.global_step % trainer.log_every == 0


def with_sync_batchnorm(module: nn.Module, device: torch.device, dist_info: DistInfo, cfg):
    """``module`` with SyncBatchNorm layers under torchrun and ``trainer.sync_batchnorm``."""
    if dist_info.enabled and cfg.sync_batchnorm:
        if device.type != "cuda":  # PyTorch's SyncBatchNorm only trains on GPUs: fail now
            raise ConfigError(
                f"trainer.sync_batchnorm=true needs CUDA (device is {device}): "
                "SyncBatchNorm has no CPU implementation; set trainer.sync_batchnorm=false"
            )
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return module


def wrap_model(
    module: nn.Module, device: torch.device, dist_info: DistInfo, cfg
) -> tuple[nn.Module, nn.Module]:
    """(the plain module on ``device``, whose weights are saved; the model that trains),
    by ``trainer.sync_batchnorm`` and ``trainer.compile``."""
    module = with_sync_batchnorm(module, device, dist_info, cfg).to(device)
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
