"""Pick the device a run uses, and its CPU threads."""

import os

import torch

from .errors import ConfigError
from .seed import enable_determinism


def select_device(name: str = "auto") -> torch.device:
    """``auto`` prefers CUDA, then Apple's MPS, then CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"trainer.device={name!r} but CUDA is not available; use device=cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("trainer.device='mps' but MPS is not available; use device=cpu")
    return torch.device(name)


# Why the process has its thread count: the run's opening line says it (threads_note).
_threads_why = "PyTorch's default"


def cpu_threads(setting) -> tuple[int | None, str]:
    """(intra-op threads to set, or None to leave PyTorch's; why) for trainer.num_threads.

    ``auto``: one per core this process may use (its CPU affinity), shared by the
    processes a launcher starts on the machine, less the cores the 1-minute load average
    says are busy, at least 1. OpenMP threads spin while they wait: on cores other jobs
    use, a second thread makes a small model several times slower, not faster.
    OMP_NUM_THREADS, when set, is someone's choice and is kept."""
    if setting is None:
        return None, "trainer.num_threads=null: PyTorch's default"
    if setting != "auto":
        return int(setting), f"trainer.num_threads={setting}"
    if os.environ.get("OMP_NUM_THREADS"):
        return None, f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS, Windows
        cores = os.cpu_count() or 1
    processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    threads = max(1, min(cores // processes, cores - int(load)))
    shared = f", {processes} processes" if processes > 1 else ""
    return threads, f"trainer.num_threads=auto: {cores} cores{shared}, load {load:.1f}"


def threads_note() -> str:
    """``2 CPU threads (why)``: what the run's opening line says about threads."""
    count = torch.get_num_threads()
    return f"{count} CPU thread{'s' if count > 1 else ''} ({_threads_why})"


def prepare_device(cfg) -> torch.device:
    """``trainer.device``, with ``trainer.deterministic``
    and ``trainer.num_threads`` applied (here too, so the Python API honours them)."""
    if cfg.deterministic:
        enable_determinism()
    global _threads_why
    threads, _threads_why = cpu_threads(cfg.num_threads)
    if threads:
        torch.set_num_threads(threads)
    try:
        return select_device(cfg.device)
    except ValueError as error:
        raise ConfigError(str(error)) from None
