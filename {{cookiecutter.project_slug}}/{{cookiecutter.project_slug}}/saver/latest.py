"""The newest checkpoint of a run directory, for ``resume=auto``: judged by the training
progress it holds (completed epochs, batches into the next epoch, optimizer steps), not
by file time, which a copy or a ``touch`` changes. Files that cannot be read as a
training checkpoint (truncated, foreign) are skipped, each with a warning."""

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from ..utils.errors import first_line
from ..utils.run_dir import LAST
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


def read_progress(path: Path) -> Progress | None:
    """The progress saved in ``path``, or None if it is not a readable training checkpoint.
    ``mmap``: the tensors are not read, so scanning large checkpoints stays cheap."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        if not isinstance(state, dict) or any(key not in state for key in TRAINING_KEYS):
            raise ValueError("not a training checkpoint written by train.py")
        trainer = state["trainer"]
        return Progress(
            int(trainer["epoch"]), int(trainer["batch_in_epoch"]), int(trainer["global_step"])
        )
    except Exception as error:  # noqa: BLE001 - any unreadable file is skipped, named
        log.warning("resume=auto: skipping %s (%s)", path, first_line(error))
        return None


def newest_checkpoint(directory: Path) -> tuple[Path, Progress] | None:
    """The checkpoint in ``directory`` furthest into training, or None if there is none.
    Equal progress (``last.pt`` and ``best.pt`` written at the same epoch end) prefers
    ``last.pt``, then the name, so every rank picks the same file."""
    found = [
        (progress, path)
        for path in sorted(directory.glob("*.pt"))
        if path.is_file() and (progress := read_progress(path)) is not None
    ]
    if not found:
        return None
    progress, path = max(found, key=lambda item: (item[0], item[1].name == LAST))
    return path, progress
