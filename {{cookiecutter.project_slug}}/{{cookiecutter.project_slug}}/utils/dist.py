"""Distributed helpers. Everything degrades to a no-op in a single ``python train.py``."""

import atexit
import os
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the process group torchrun describes in the environment (RANK, WORLD_SIZE...).

    NCCL when the run uses CUDA (``trainer.device`` auto or cuda*), gloo otherwise
    (CPU, or ``trainer.device=cpu`` on a GPU machine). Without torchrun this returns a
    single-process DistInfo and touches nothing.
    """
    if not launched_by_torchrun():
        return DistInfo()
    info = DistInfo(
        rank=int(os.environ["RANK"]),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
        world_size=int(os.environ["WORLD_SIZE"]),
    )
    if not dist.is_initialized():
        wants_cuda = device in ("auto", "cuda") or device.startswith("cuda:")
        if wants_cuda and torch.cuda.is_available():
            # Before any CUDA work: every rank's collectives and default tensors on its own GPU.
            torch.cuda.set_device(info.local_rank)
            device = torch.device("cuda", info.local_rank)
            dist.init_process_group(backend="nccl", device_id=device, **_restart_store())
        else:
            dist.init_process_group(backend="gloo", **_restart_store())
    return info


def _restart_store() -> dict[str, Any]:
    """Keys of its own for each process group a torchrun job forms.

    The processes of a group that ``torchrun --max-restarts`` restarted meet in the same
    store as the first attempt (torchrun shares its own store across restarts), which
    still holds the dead processes' addresses under the same keys: a new rank could read
    one, then fail with "Connection refused" or wait forever. A prefix per group keeps
    them apart. Empty for a single node's first attempt (nothing stale yet)."""
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    nodes = int(os.environ.get("GROUP_WORLD_SIZE", "1"))
    if attempt == "0" and nodes == 1:
        return {}
    store, rank, world_size = next(dist.rendezvous("env://"))
    if nodes == 1:  # one agent restarts all processes: its restart count names the group
        prefix = f"restart-{attempt}/"
    else:
        # Several agents (nodes) count restarts apart: one whose processes lived restarts
        # them with an unchanged count. Each rank number joins each group once, so "the
        # n-th time this rank joins" is the same n on every rank of a group. (A process
        # killed before it got here would leave its rank one behind: keep restarts for
        # failures during training.)
        prefix = f"group-{store.add(f'groups-joined/rank-{rank}', 1)}/"
    return {"store": dist.PrefixStore(prefix, store), "rank": rank, "world_size": world_size}


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """Rank 0, or the only process; readable before and after the process group exists."""
    return int(os.environ.get("RANK", "0")) == 0


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def end_process(exit_code: int) -> NoReturn:
    """A script's end: ``end_worker`` under torchrun, else ``sys.exit``."""
    if launched_by_torchrun():
        end_worker(exit_code)  # see there: torch's threads and the interpreter's teardown
    sys.exit(exit_code)


def end_worker(exit_code: int) -> NoReturn:
    """End a torchrun worker whose outputs are closed: the atexit handlers run (log
    handlers, trackers), stdout and stderr are flushed, then the process ends without
    the interpreter's teardown. torch keeps its C++ threads (gloo's, and the autograd
    threads FSDP starts) alive past ``destroy_process_group``, and the teardown racing
    them aborted a finished rank in our CI ("terminate called without an active
    exception"): a run that trained and saved everything, reported as failed."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


def is_enabled() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def barrier() -> None:
    if is_enabled():
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over ranks in place (no-op for one process)."""
    if is_enabled():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def max_over_ranks(value: int) -> int:
    """The largest ``value`` any rank holds, so every rank takes the same decision
    (e.g. stop if any rank got a signal). A collective: call it where all ranks are."""
    if not is_enabled():
        return value
    tensor = torch.tensor(value, dtype=torch.int64, device=collective_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (``[obj]`` for one process)."""
    if not is_enabled():
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def collective_device() -> torch.device:
    """Where tensors for collectives must live: the rank's GPU under NCCL, else the CPU."""
    if is_enabled() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Send a small picklable object from ``src`` to every rank (e.g. the run directory)."""
    if not is_enabled():
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=src)
    return holder[0]
