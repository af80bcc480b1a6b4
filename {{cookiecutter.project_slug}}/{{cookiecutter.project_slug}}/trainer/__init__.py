"""Trainer: the loop (BaseTrainer) and the classification steps (ClassificationTrainer)."""

from .base import BaseTrainer, NonFiniteLossError, TrainingInterrupted, TrainState
from .early_stopping import EarlyStopping
from .trainer import ClassificationTrainer

__all__ = [
    "BaseTrainer",
    "ClassificationTrainer",
    "EarlyStopping",
    "NonFiniteLossError",
    "TrainState",
    "TrainingInterrupted",
]
