"""Trainer: the loop (BaseTrainer), the classification step (ClassificationTrainer), the
evaluation function, and the small parts the loop is made of (callbacks, precision...)."""
{% if cookiecutter.profile == "full" %}
from . import distributed, fsdp  # noqa: F401  the strategies trainer.strategy names
{%- endif %}
from .base import BaseTrainer
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .evaluation import evaluate, evaluate_test_split
from .graceful_stop import TrainingInterrupted
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
    "TrainingInterrupted",
    "evaluate",
    "evaluate_test_split",
]
