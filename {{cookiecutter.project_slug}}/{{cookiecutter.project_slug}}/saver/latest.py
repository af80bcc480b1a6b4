"""The newest checkpoint of a run directory, for ``resume=auto``: judged by the training
progress it holds (completed epochs, batches into the next epoch, optimizer steps), not
by file time, which a copy or a ``touch`` changes. Files that cannot be read as a
training checkpoint (truncated, foreign) are skipped, each with a warning; so are
checkpoints of another run's configuration (another model or dataset copied beside
this run's files): continuing one would turn this run into that one."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..utils.errors import first_line
from ..utils.run_dir import LAST
from .checkpoint import FORMATS, CheckpointError
from .compatibility import TRAINING_KEYS

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Progress:
    epoch: int  # completed epochs
    batch_in_epoch: int  # batches done in the next epoch
    global_step: int

    def describe(self) -> str:
        return (
            f"epoch {self.epoch} done, step {self.global_step}, "
            f"batch {self.batch_in_epoch} of the next epoch"
        )


# What makes a checkpoint this run's: the model it trains and the data it trains on.
# Other settings (epochs, learning rate, loggers) may change between starts. Parts that
# add settings choosing the training samples add their keys here.
IDENTITY_KEYS = ["model", "data.name"]


def _get(config: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        config = config.get(part) if isinstance(config, dict) else None
    return config


def identity_mismatch(saved: Any, configured: dict) -> str | None:
    """The first identity key whose value differs between a checkpoint's config and
    this command's, as ``key is X there, Y here``; None when the checkpoint is this run's."""
    saved = saved if isinstance(saved, dict) else {}
    for key in IDENTITY_KEYS:
        theirs, ours = _get(saved, key), _get(configured, key)
        if theirs != ours:
            if isinstance(ours, dict) and isinstance(theirs, dict):
                differ = (k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
                inner = sorted(differ, key=lambda k: (k != "name", k))
                key, theirs, ours = f"{key}.{inner[0]}", theirs.get(inner[0]), ours.get(inner[0])
            return f"{key} is {theirs!r} there, {ours!r} here"
    return None


def read_progress(path: Path, configured: dict | None = None) -> Progress | str | None:
    """The progress saved in ``path``; None if it is not a readable training checkpoint;
    the difference, as text, if its config is not ``configured``'s identity.
    ``mmap``: the tensors are not read, so scanning large checkpoints stays cheap."""
    try:
        other = next((other for other in FORMATS if other.owns(path)), None)
        if other is not None:
            state = other.training_state(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        if not isinstance(state, dict) or any(key not in state for key in TRAINING_KEYS):
            raise ValueError("not a training checkpoint written by train.py")
        trainer = state["trainer"]
        progress = Progress(
            int(trainer["epoch"]), int(trainer["batch_in_epoch"]), int(trainer["global_step"])
        )
    except Exception as error:  # noqa: BLE001 - any unreadable file is skipped, named
        log.warning("resume=auto: skipping %s (%s)", path, first_line(error))
        return None
    if configured is not None and (problem := identity_mismatch(state["config"], configured)):
        return problem
    return progress


def newest_checkpoint(
    directory: Path, configured: dict | None = None
) -> tuple[Path, Progress] | None:
    """The checkpoint in ``directory`` furthest into training, or None if there is none.
    Equal progress (``last.pt`` and ``best.pt`` written at the same epoch end) prefers
    ``last.pt``, then the name (the same choice on every call). With ``configured``
    (this command's config as a dict), only checkpoints of that model and data count;
    if there are checkpoints but none of them is this run's, CheckpointError."""
    paths = [path for path in directory.glob("*.pt") if path.is_file()]
    for other in FORMATS:
        paths += other.listed(directory)
    read = {path: read_progress(path, configured) for path in sorted(paths)}
    found = [(progress, path) for path, progress in read.items() if isinstance(progress, Progress)]
    foreign = {path: problem for path, problem in read.items() if isinstance(problem, str)}
    if foreign and not found:
        path, problem = next(iter(foreign.items()))
        raise CheckpointError(
            f"resume=auto: {directory} holds checkpoints of another run only ({path.name}: "
            f"{problem}); give the settings this run was started with, resume=<file> to "
            "continue that one, or another output_dir"
        )
    for path, problem in foreign.items():
        log.warning("resume=auto: skipping %s, another run's checkpoint (%s)", path, problem)
    if not found:
        return None
    progress, path = max(found, key=lambda item: (item[0], item[1].stem == Path(LAST).stem))
    return path, progress
