"""``trainer.strategy=fsdp``: FSDP2 (``torch.distributed.fsdp.fully_shard``) instead of
DDP under torchrun. Each top-level block of the model and then the root are sharded
over the processes: every process holds 1/W of the weights, gradients and optimizer
state. With one process (no torchrun) there is nothing to shard: it trains as a plain
single-process run and writes ``.pt`` checkpoints.

Sharded runs save through ``torch.distributed.checkpoint`` (saver/sharded.py: a folder
of shards per checkpoint); this module turns the model and optimizer into the state
those folders hold, and back. Gradient accumulation needs no special case: FSDP2
reduce-scatters every backward and sums into the sharded gradients, which equals one
sync per optimizer step."""

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..saver import load_checkpoint
from ..saver.sharded import finish_pending, folder_for, remove_stale_folders
from ..utils.dist import DistInfo
from .callbacks import ADDED_CALLBACKS, Callback
from .distributed import DDPStrategy, with_sync_batchnorm
from .strategy import STRATEGIES

log = logging.getLogger(__name__)


class FSDPStrategy(DDPStrategy):
    def setup_model(self, module: nn.Module) -> nn.Module:
        module = with_sync_batchnorm(module, self.device, self.dist, self.cfg)
        module = shard_model(module, self.device, self.dist)  # in place: it trains itself
        return torch.compile(module) if self.cfg.compile else module

    def eval_context(self, model: nn.Module):
        return full_weights(model)  # gathered once per evaluation, not per batch


STRATEGIES["fsdp"] = FSDPStrategy


class ShardFolderUpkeep(Callback):
    """What shard-folder checkpoints need around the loop: at the start, the leftovers
    of a killed save removed; with ``async_save``, a background save's folders swapped
    in as soon as it is written (checked after every optimizer step)."""

    def __init__(self, async_save: bool) -> None:
        self.async_save = async_save

    def on_train_start(self, trainer, resumed: bool) -> None:
        if trainer.checkpoint.enabled and trainer.strategy.is_main:
            remove_stale_folders(trainer.checkpoint.manager.directory)

    def on_optimizer_step(self, trainer, mid_epoch: bool) -> None:
        if self.async_save:
            finish_pending(wait=False)


ADDED_CALLBACKS.append(
    lambda trainer: ShardFolderUpkeep(trainer.config.trainer.checkpoint.get("async_save", False))
)


def shard_model(module: nn.Module, device: torch.device, dist_info: DistInfo) -> nn.Module:
    """``module`` on ``device``, sharded per block and at the root (in place) when there
    are several processes."""
    module = module.to(device)
    if not dist_info.enabled:
        # A warning: a user who asked for sharding may have forgotten torchrun.
        log.warning("trainer.strategy=fsdp with one process: nothing to shard, training unsharded")
        return module
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    # Each rank built its model from its own seed: start from rank 0's weights, as DDP
    # does, so that sharding only splits what every rank agrees on.
    with torch.no_grad():
        for tensor in module.state_dict().values():
            torch.distributed.broadcast(tensor, src=0)
    mesh = init_device_mesh(device.type, (dist_info.world_size,))
    for block in module.children():
        if any(p.requires_grad for p in block.parameters()):
            fully_shard(block, mesh=mesh)
    fully_shard(module, mesh=mesh)
    return module


def is_sharded(module: nn.Module) -> bool:
    # Not imported to ask: a run that never sharded need not load FSDP.
    fsdp = sys.modules.get("torch.distributed.fsdp")
    return fsdp is not None and isinstance(module, fsdp.FSDPModule)


@contextlib.contextmanager
def full_weights(model: nn.Module):
    """Evaluation with every block's weights gathered once, on every rank together:
    each rank then scores its own share of the batches (ranks may run different numbers
    of batches) with no collective in the forward pass."""
    module = getattr(model, "_orig_mod", model)  # torch.compile's wrapper
    if not is_sharded(module):
        yield
        return
    sync_buffers(module)
    sharded = [m for m in module.modules() if is_sharded(m)]
    module.set_reshard_after_forward(False)
    for part in sharded:
        part.unshard()
    try:
        yield
    finally:
        for part in sharded:
            part.reshard()
        module.set_reshard_after_forward(True)


def sync_buffers(module: nn.Module) -> None:
    """Rank 0's buffers (BatchNorm running statistics) on every rank. FSDP2 leaves
    buffers unsharded and each rank updates its own; DDP copies rank 0's at every
    forward. Here, before each evaluation and each save: every rank then evaluates with,
    and a checkpoint holds, the statistics that rank 0 has (and a resume restores)."""
    with torch.no_grad():
        for buffer in module.buffers():
            torch.distributed.broadcast(buffer, src=0)


def model_and_optimizer_state(trainer) -> dict[str, Any]:
    """``model`` and ``optimizer`` entries of a checkpoint: the plain state dicts, or,
    when sharded, this rank's shards (DTensors, parameter names as keys)."""
    if not is_sharded(trainer.module):
        return {"model": trainer.module.state_dict(), "optimizer": trainer.optimizer.state_dict()}
    from torch.distributed.checkpoint.state_dict import get_state_dict

    sync_buffers(trainer.module)
    model, optimizer = get_state_dict(trainer.module, trainer.optimizer)
    return {"model": model, "optimizer": optimizer}


def load_model_and_optimizer(trainer, state: dict[str, Any]) -> None:
    """Restore ``model_and_optimizer_state``'s entries, as full tensors: a ``.pt`` file
    or a consolidated shard folder, into a sharded or a plain model (another number of
    processes, or one)."""
    groups = state["optimizer"].get("param_groups") or []
    named = any(isinstance(p, str) for group in groups for p in group["params"])
    if not (named or is_sharded(trainer.module)):
        trainer.module.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

    optimizer = state["optimizer"]
    if not named:  # a .pt from DDP: parameters numbered, FSDP wants their names
        names = [name for name, p in trainer.module.named_parameters() if p.requires_grad]
        optimizer = numbered_to_named(optimizer, names)
    set_state_dict(
        trainer.module,
        trainer.optimizer,
        model_state_dict=state["model"],
        optim_state_dict=optimizer,
        options=StateDictOptions(full_state_dict=True),
    )


def numbered_to_named(optimizer: dict[str, Any], names: list[str]) -> dict[str, Any]:
    groups = [
        {**group, "params": [names[index] for index in group["params"]]}
        for group in optimizer["param_groups"]
    ]
    state = {names[index]: value for index, value in optimizer["state"].items()}
    return {"state": state, "param_groups": groups}


def load_best_weights(trainer, best: Path) -> None:
    """The weights of ``best`` (``best.pt``, or its shard folder when sharded), if it
    exists, into the model that trains."""
    module = trainer.module
    if is_sharded(module):
        best = folder_for(best)
    if not best.exists():
        return
    weights = load_checkpoint(best, trainer.device)["model"]
    if not is_sharded(module):
        module.load_state_dict(weights)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    set_model_state_dict(module, weights, options=StateDictOptions(full_state_dict=True))
