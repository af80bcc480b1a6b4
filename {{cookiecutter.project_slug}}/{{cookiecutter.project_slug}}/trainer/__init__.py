"""Trainer: the loop (BaseTrainer), the classification step (ClassificationTrainer), the
evaluation function, and the small parts the loop is made of (callbacks, precision...)."""

from .base import BaseTrainer
from .callbacks import Callback
from .checkpointing import ModelCheckpoint
from .early_stopping import EarlyStopping
from .evaluation import evaluate, evaluate_test_split
from .graceful_stop import TrainingInterrupted
from .loading import Trained, load_trained
from .nonfinite import NonFiniteLossError
from .state import TrainState
from .trainer import ClassificationTrainer

__all__ = [
    "BaseTrainer",
    "Callback",
    "ClassificationTrainer",
    "EarlyStopping",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "TrainState",
    "Trained",
    "TrainingInterrupted",
    "evaluate",
    "evaluate_test_split",
    "load_trained",
]
