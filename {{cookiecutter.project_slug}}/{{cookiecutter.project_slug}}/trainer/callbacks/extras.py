"""What a run logs besides its metrics: the resolved config, once at the start (other
parts add their own logging callbacks: trainer/callbacks/base.py ``ADDED_CALLBACKS``)."""

from ...config import to_plain_dict
from .base import Callback


class LoggingExtras(Callback):
    def on_train_start(self, trainer, resumed: bool) -> None:
        if not resumed and trainer.strategy.is_main:  # a resumed run has it
            trainer.loggers.log_hyperparams(to_plain_dict(trainer.config))
