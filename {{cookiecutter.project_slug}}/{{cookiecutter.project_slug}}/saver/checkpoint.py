"""Checkpoints that are safe to write (atomic) and safe to read (``weights_only``).

A checkpoint is a dict of tensors and plain Python values only, so
``torch.load(weights_only=True)`` can read it and a file carrying pickled code is
refused before any of that code runs. Whatever else a user passes as a checkpoint (an
empty, text or truncated file, a bare tensor or state_dict, weights holding NaN) is
refused with one message naming the file: see ``load_training_checkpoint``. Every
checkpoint records digests of its tensors, checked at every load (``integrity``).
"""

import io
import pickle
from pathlib import Path
from typing import Any, Protocol

import torch

from ..utils.atomic_file import write_atomic as write_atomic  # saver/ imports it here
from ..utils.errors import UserError, first_line
from .integrity import recorded, tensor_mismatch, unchecked, with_digests


class CheckpointError(UserError, RuntimeError):
    """A checkpoint could not be read; the message names the file and what to do."""


# What evaluate.py and predict.py need from a checkpoint; a resume needs more.
INFERENCE_KEYS = ("model", "config")
EXPECTED_LOCATION = "runs/<run>/checkpoints/*.pt"


class CheckpointFormat(Protocol):
    """A checkpoint kept other than as one ``.pt`` file (a folder of files, say), added
    by another part to ``FORMATS``; ``load_checkpoint`` and ``resume=auto`` read it."""

    def owns(self, path: Path) -> bool:
        """Whether ``path`` is a checkpoint in this format."""

    def refuse(self, path: Path) -> None:
        """CheckpointError if ``path`` (not ``owns``-ed) is a part or a broken copy of one."""

    def load(self, path: Path, map_location: str | torch.device) -> dict[str, Any]:
        """The checkpoint dict, as a ``.pt`` file of it would hold."""

    def listed(self, directory: Path) -> list[Path]:
        """The checkpoints of this format in ``directory`` (for ``resume=auto``)."""

    def training_state(self, path: Path) -> dict[str, Any]:
        """Its state without the large tensors, checked cheaply (for ``resume=auto``)."""


FORMATS: list[CheckpointFormat] = []


def serialize(state: dict[str, Any], **digests: dict[str, str]) -> bytes:
    """The bytes of a checkpoint file: ``state`` with the digests of its tensors (and
    ``digests`` of other files it vouches for), read back by ``load_checkpoint``."""
    buffer = io.BytesIO()
    torch.save(with_digests(state, **digests), buffer)
    return buffer.getvalue()


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint dict with ``weights_only=True``; explain any failure in one message.

    Refused, each with a message naming the file: a missing path, a folder, an empty
    file, a file ``torch.save`` did not write (text, image...), a truncated or corrupt
    file, pickled Python objects (never executed), and anything that is not a dict.
    """
    path = Path(path)
    for other in FORMATS:
        if other.owns(path):
            return other.load(path, map_location)
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
    check_digests(state, path)
    return state


def check_digests(state: dict[str, Any], path: Path | str) -> dict[str, Any] | None:
    """Take the recorded digests out of ``state`` and check its tensors against them;
    returned for the caller's other checks (None, with one warning, for a checkpoint
    written before digests were recorded)."""
    digests = recorded(state)
    if digests is None:
        if all(key in state for key in INFERENCE_KEYS):  # else refused as no checkpoint
            unchecked(path)
        return None
    if problem := tensor_mismatch(state, digests):
        raise CheckpointError(
            f"checkpoint {path} was changed after it was saved: {problem}; "
            "use another checkpoint of the run"
        )
    return digests


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
    for other in FORMATS:
        other.refuse(path)
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
