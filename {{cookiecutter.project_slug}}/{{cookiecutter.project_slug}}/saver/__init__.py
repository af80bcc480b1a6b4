"""Saver: atomic, ``weights_only``-safe checkpoints and the policy of which to keep;
the scripts' output files, checked before any work and never replaced unasked."""

from .checkpoint import (
    INFERENCE_KEYS,
    CheckpointError,
    load_checkpoint,
    load_training_checkpoint,
    require_finite_weights,
    require_training_checkpoint,
)
from .compatibility import TRAINING_KEYS, check_resumable, load_model_weights
from .latest import Progress, newest_checkpoint
from .output_file import (
    OutputFileError,
    check_output_file,
    output_destination,
    parse_overwrite,
    write_output,
)
from .policy import CheckpointManager

__all__ = [
    "INFERENCE_KEYS",
    "TRAINING_KEYS",
    "CheckpointError",
    "CheckpointManager",
    "OutputFileError",
    "Progress",
    "check_output_file",
    "check_resumable",
    "load_checkpoint",
    "load_model_weights",
    "load_training_checkpoint",
    "newest_checkpoint",
    "output_destination",
    "parse_overwrite",
    "require_finite_weights",
    "require_training_checkpoint",
    "write_output",
]
