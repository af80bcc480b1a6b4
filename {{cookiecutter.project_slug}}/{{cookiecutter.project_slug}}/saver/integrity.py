"""One integrity rule for every checkpoint: sha256 digests of its content, recorded when
it is saved, checked wherever it is loaded (a resume, evaluate.py, predict.py: every
load goes through ``load_checkpoint``).

- a ``.pt`` file records the sha256 of every tensor's bytes (with its dtype and shape)
  in a plain dict entry, ``integrity``, so ``torch.load(weights_only=True)`` still
  reads it; a tensor changed in place (negated, at the same size) no longer matches;
- a shard folder's ``state.pt`` is such a file, and also records the sha256 of every
  shard file: a shard swapped in from another checkpoint no longer matches.

This guards against accidents (a copy gone wrong, files of two checkpoints mixed), not
against someone who edits a file on purpose: a digest can be recomputed. Checkpoints
written before digests were recorded load with one warning line (see ``unchecked``).
"""

import hashlib
import logging
from pathlib import Path
from typing import Any

import torch

INTEGRITY = "integrity"  # the entry of a checkpoint dict holding its digests
log = logging.getLogger(__name__)


def tensor_digest(tensor: torch.Tensor) -> str:
    """The sha256 of a tensor's dtype, shape and bytes (one pass over its memory)."""
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    digest = hashlib.sha256(f"{flat.dtype}{tuple(tensor.shape)}".encode())
    digest.update(memoryview(flat.view(torch.uint8).numpy()))
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def tensor_digests(tree: Any, prefix: str = "") -> dict[str, str]:
    """``{"model/fc.weight": sha256, "optimizer/state/0/exp_avg": ...}`` for every tensor
    in a checkpoint's nested dicts and lists ('/' joins the keys: names hold dots)."""
    if isinstance(tree, torch.Tensor):
        return {prefix: tensor_digest(tree)}
    if isinstance(tree, dict):
        items = ((str(key), value) for key, value in tree.items() if key != INTEGRITY)
    elif isinstance(tree, (list, tuple)):
        items = ((str(index), value) for index, value in enumerate(tree))
    else:
        return {}
    digests: dict[str, str] = {}
    for key, value in items:
        digests.update(tensor_digests(value, f"{prefix}/{key}" if prefix else key))
    return digests


def with_digests(state: dict[str, Any], **extra: dict[str, str]) -> dict[str, Any]:
    """``state`` as it is saved: its tensors' digests (and ``extra`` ones, e.g. a shard
    folder's files) in the ``integrity`` entry."""
    return {
        **{key: value for key, value in state.items() if key != INTEGRITY},
        INTEGRITY: {"tensors": tensor_digests(state), **extra},
    }


def recorded(state: dict[str, Any]) -> dict[str, Any] | None:
    """The digests a checkpoint dict was saved with (None: written before they were
    recorded), taken out of ``state`` so that it is the dict that was saved."""
    digests = state.pop(INTEGRITY, None)
    return digests if isinstance(digests, dict) else None


def tensor_mismatch(state: dict[str, Any], digests: dict[str, Any]) -> str | None:
    """The first tensor that is missing, added or changed since the save, described."""
    saved = digests.get("tensors")
    if not isinstance(saved, dict):
        return "its integrity entry lists no tensors"
    found = tensor_digests(state)
    for name in sorted(saved.keys() | found.keys()):
        if name not in found:
            return f"tensor {name!r} is missing"
        if name not in saved:
            return f"tensor {name!r} was added"
        if found[name] != saved[name]:
            return f"tensor {name!r} is not the one saved (its sha256 differs)"
    return None


def unchecked(path: Path | str) -> None:
    """One warning line: old checkpoints still load (they are the user's trained models,
    and nothing else could convert them), but nobody can vouch for their content."""
    log.warning(
        "checkpoint %s records no content digests (written by an older version): loaded "
        "without an integrity check",
        path,
    )
