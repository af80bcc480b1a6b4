"""Saver: atomic, ``weights_only``-safe checkpoints and the policy of which to keep."""

from .checkpoint import CheckpointError, CheckpointManager, load_checkpoint, save_checkpoint

__all__ = ["CheckpointError", "CheckpointManager", "load_checkpoint", "save_checkpoint"]
