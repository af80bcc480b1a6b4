"""Callbacks: the base class and the ones every run uses (checkpoints, early stopping,
the extra logging)."""

from .base import ADDED_CALLBACKS, HOOKS, Callback, overriding
from .checkpointing import ModelCheckpoint
from .early_stopping import EarlyStopping
from .extras import LoggingExtras

__all__ = [
    "ADDED_CALLBACKS",
    "HOOKS",
    "Callback",
    "EarlyStopping",
    "LoggingExtras",
    "ModelCheckpoint",
    "overriding",
]
