"""Checkpoints that are safe to write (atomic) and safe to read (``weights_only``).

A checkpoint is a dict of tensors and plain Python values only, so
``torch.load(weights_only=True)`` can read it and a file carrying pickled code is
refused before any of that code runs. Whatever else a user passes as a checkpoint (an
empty, text or truncated file, a bare tensor or state_dict, weights holding NaN) is
refused with one message naming the file: see ``load_training_checkpoint``.
"""

import io
import math
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..utils.compare import is_better
from ..utils.errors import UserError, first_line
from ..utils.run_dir import BEST, LAST


class CheckpointError(UserError, RuntimeError):
    """A checkpoint could not be read; the message names the file and what to do."""


# What evaluate.py and predict.py need from a checkpoint; a resume needs more.
INFERENCE_KEYS = ("model", "config")
EXPECTED_LOCATION = "runs/<run>/checkpoints/*.pt"


def serialize(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def write_atomic(data: bytes, path: Path) -> Path:
    """A temporary file in the same directory, flushed and fsynced, then ``os.replace``:
    a crash leaves the old file or the new one, never a truncated mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as error:  # a full or read-only disk: name the file, keep the old one
        Path(tmp_name).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint dict with ``weights_only=True``; explain any failure in one message.

    Refused, each with a message naming the file: a missing path, a folder, an empty
    file, a file ``torch.save`` did not write (text, image...), a truncated or corrupt
    file, pickled Python objects (never executed), and anything that is not a dict.
    """
    path = Path(path)
    _check_readable_file(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"refused to load {path}: it holds pickled Python objects, which could run code "
            f"when unpickled ({first_line(error)}). Only tensors and plain types are "
            "accepted; nothing in the file was executed."
        ) from None
    except OSError as error:
        raise CheckpointError(f"cannot read checkpoint {path}: {error.strerror}") from None
    except Exception as error:  # zip, pickle and storage errors of a damaged file
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt ({first_line(error)})"
            f"{_other_checkpoints(path)}"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(
            f"checkpoint {path} holds a {type(state).__name__}, not a checkpoint dict; "
            f"expected a checkpoint written by train.py ({EXPECTED_LOCATION})"
        )
    return state


def require_training_checkpoint(
    state: dict[str, Any], path: Path | str, keys: tuple[str, ...] = INFERENCE_KEYS
) -> dict[str, Any]:
    """``state`` (from ``load_checkpoint``) if it is a checkpoint written by the trainer
    with every entry in ``keys``; otherwise a CheckpointError saying what the file is.

    ``model`` must be a state dict (names -> tensors) and ``config`` a dict.
    """
    if state and all(isinstance(value, torch.Tensor) for value in state.values()):
        example = next(iter(state))
        raise CheckpointError(
            f"{path} holds a bare model state_dict ({len(state)} tensors, e.g. {example!r}), "
            f"not a training checkpoint: expected a checkpoint written by train.py "
            f"({EXPECTED_LOCATION}), which also records the config, classes and "
            "preprocessing; to use bare weights, build the model in Python and call "
            "model.load_state_dict(torch.load(path, weights_only=True))"
        )
    missing = [key for key in keys if key not in state]
    if missing:
        raise CheckpointError(
            f"{path} is not a training checkpoint: it has no {', '.join(map(repr, missing))} "
            f"(keys found: {sorted(map(str, state))}); expected a checkpoint written by "
            f"train.py ({EXPECTED_LOCATION})"
        )
    weights = state.get("model", {})
    if not isinstance(weights, dict) or not all(
        isinstance(value, torch.Tensor) for value in weights.values()
    ):
        raise CheckpointError(
            f"{path}: 'model' holds a {type(weights).__name__} of other values, not the "
            "model's state_dict (names -> tensors); the file was not written by train.py"
        )
    if not isinstance(state.get("config", {}), dict):
        raise CheckpointError(
            f"{path}: 'config' holds a {type(state['config']).__name__}, not a config dict; "
            "the file was not written by train.py"
        )
    return state


def require_finite_weights(weights: dict[str, torch.Tensor], path: Path | str) -> None:
    """Refuse weights holding NaN or inf: every prediction from them would be NaN."""
    for name, tensor in weights.items():
        # Integer buffers (e.g. BatchNorm's num_batches_tracked) are always finite.
        real = tensor.is_floating_point() or tensor.is_complex()
        if real and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(
                f"checkpoint {path} holds non-finite model weights (NaN or inf), first in "
                f"{name!r}: the run diverged before it was saved; use an earlier "
                "checkpoint of the run or retrain (e.g. with a lower optimizer.lr)"
            )


def load_training_checkpoint(
    path: Path | str,
    map_location: str | torch.device = "cpu",
    keys: tuple[str, ...] = INFERENCE_KEYS,
) -> dict[str, Any]:
    """``load_checkpoint`` + ``require_training_checkpoint`` + finite model weights:
    what evaluate.py and predict.py (and a resume) need before building anything."""
    state = require_training_checkpoint(load_checkpoint(path, map_location), path, keys)
    require_finite_weights(state["model"], path)
    return state


def _check_readable_file(path: Path) -> None:
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.pt"))
        hint = f"; it holds {inside}" if inside else ""
        raise CheckpointError(
            f"checkpoint {path} is a folder, not a file; give a .pt file "
            f"(e.g. {path / 'best.pt'}){hint}"
        )
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist{_other_checkpoints(path)}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a regular file; give a .pt file")
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"checkpoint {path} is empty (0 bytes), not a checkpoint written by train.py"
            f"{_other_checkpoints(path)}"
        )
    with path.open("rb") as handle:
        head = handle.read(2)
    if not (head.startswith(b"PK") or head.startswith(b"\x80")):  # zip or legacy pickle
        raise CheckpointError(
            f"checkpoint {path} was not written by torch.save (it is neither a zip archive "
            f"nor a pickle; a text or image file?); expected a checkpoint written by "
            f"train.py ({EXPECTED_LOCATION})"
        )


def _other_checkpoints(path: Path) -> str:
    """Point at the newest other checkpoint in the same folder, if there is one."""
    others = sorted(
        (p for p in path.parent.glob("*.pt") if p != path and p.is_file()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return f"; the newest other checkpoint there is {others[0]}" if others else ""


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointManager:
    """Decides which files to write at the end of an epoch. Each policy is independent:

    - ``best.pt``: whenever the monitored metric improves (``save_best``);
    - ``epoch=NNN-<monitor>=X.pt``: the ``save_top_k`` best epochs by the monitor;
    - ``last.pt``: every epoch (``save_last``), and mid-epoch every ``every_n_steps``;
    - ``epoch=NNN.pt``: every ``every_n_epochs`` epochs, kept.
    """

    def __init__(
        self,
        directory: Path | str,
        monitor: str = "val_loss",
        mode: str = "min",
        save_best: bool = True,
        save_top_k: int = 1,
        save_last: bool = True,
        every_n_epochs: int = 0,
    ) -> None:
        self.directory = Path(directory)
        self.monitor, self.mode = monitor, mode
        self.save_best, self.save_top_k = save_best, save_top_k
        self.save_last, self.every_n_epochs = save_last, every_n_epochs
        self.best_score: float | None = None
        self.top_k: list[tuple[float, str]] = []  # (score, file name), best first

    @property
    def last_path(self) -> Path:
        return self.directory / LAST

    @property
    def best_path(self) -> Path:
        return self.directory / BEST

    def is_better(self, score: float, reference: float | None) -> bool:
        return is_better(score, reference, self.mode)

    def plan(self, epoch: int, metrics: dict[str, float]) -> tuple[list[Path], list[Path]]:
        """Update the bookkeeping for this epoch; return (files to write, files to delete).

        Call it before building the checkpoint so the saved state already includes
        this epoch's decision; write the files, then delete the evicted ones.
        """
        writes: list[Path] = []
        score = metrics.get(self.monitor)
        if score is None:
            raise KeyError(f"checkpoint monitor {self.monitor!r} not in metrics {sorted(metrics)}")
        if self.save_best and self.is_better(score, self.best_score):
            writes.append(self.best_path)
        if self.is_better(score, self.best_score):
            self.best_score = score
        evicted = self._update_top_k(epoch, score, writes)
        if self.every_n_epochs and epoch % self.every_n_epochs == 0:
            writes.append(self.directory / f"epoch={epoch:03d}.pt")
        if self.save_last:
            writes.append(self.last_path)
        return writes, evicted

    def _update_top_k(self, epoch: int, score: float, writes: list[Path]) -> list[Path]:
        if self.save_top_k == 0 or math.isnan(score):
            return []
        name = f"epoch={epoch:03d}-{self.monitor}={score:.4f}.pt"
        candidates = [*self.top_k, (score, name)]
        candidates.sort(key=lambda item: item[0], reverse=self.mode == "max")
        keep = candidates if self.save_top_k < 0 else candidates[: self.save_top_k]
        evicted = [self.directory / n for s, n in candidates if (s, n) not in keep]
        if (score, name) in keep:
            writes.append(self.directory / name)
        self.top_k = keep
        return [path for path in evicted if path.name != name]

    def write(self, state: dict[str, Any], writes: list[Path], evicted: list[Path]) -> None:
        data = serialize(state) if writes else b""  # serialize once, write to every file
        for path in writes:
            write_atomic(data, path)
        for path in evicted:  # only after the new files are safely on disk
            path.unlink(missing_ok=True)

    def remove_stale(self, resumed: bool) -> list[Path]:
        """Delete what a killed run leaves behind: temporary files of an unfinished write
        and, when resuming, top-k files the restored bookkeeping no longer lists (written
        after the checkpoint we resume from, or evicted but not yet deleted)."""
        stale = list(self.directory.glob(".*.pt.*.tmp"))
        if resumed:
            kept = {name for _, name in self.top_k}
            pattern = f"epoch=[0-9][0-9][0-9]*-{self.monitor}=*.pt"
            stale += [p for p in self.directory.glob(pattern) if p.name not in kept]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "top_k": [list(item) for item in self.top_k]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_score = state["best_score"]
        self.top_k = [(float(score), str(name)) for score, name in state["top_k"]]
