"""Saver: atomic, ``weights_only``-safe checkpoints and the policy of which to keep."""

from .checkpoint import CheckpointError, CheckpointManager, load_checkpoint, save_checkpoint
from .compatibility import check_resumable

__all__ = [
    "CheckpointError",
    "CheckpointManager",
    "load_checkpoint",
    "check_resumable",
    "save_checkpoint",
]
