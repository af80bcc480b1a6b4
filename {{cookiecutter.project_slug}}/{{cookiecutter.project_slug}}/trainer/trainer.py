"""ClassificationTrainer: the training step of an image classifier, in Lightning's name,
and the metrics its validation and test report."""

from typing import Any

import torch

from ..model import build_loss, build_metrics
from ..model.metric import compute_metrics, holds_accuracy, right_answers
from .base import BaseTrainer
from .evaluation import score_batch
from .metric_state import load_metric_states, metric_states


class ClassificationTrainer(BaseTrainer):
    """``batch`` is ``(inputs, targets)``; the model returns logits."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        weight = None
        if self.config.class_weights == "auto":  # inverse class frequency, mean 1
            counts = self.datamodule.class_counts().double().clamp_min(1)
            weight = (counts.sum() / (len(counts) * counts)).float().to(self.device)
        self.criterion = build_loss(self.config.loss, self.config.label_smoothing, weight)
        num_classes = self.datamodule.num_classes
        self._val_metrics = None  # built at the first validation (see val_metrics)
        # trainer.train_metrics=false (default): training batches track the loss, and their
        # accuracy when ``metrics`` holds it (an argmax and a count, for curves.png).
        self.train_metrics, self.train_accuracy = None, holds_accuracy(self.config.metrics)
        if self.config.trainer.train_metrics:
            self.train_metrics = build_metrics(self.config.metrics, num_classes).to(self.device)
            self.train_accuracy = False  # among train_metrics

    @property
    def val_metrics(self):
        """Built on first use: importing torchmetrics takes ~1 s, which the first training
        step need not wait for (metric options were checked when the config loaded)."""
        if self._val_metrics is None:
            metrics = build_metrics(self.config.metrics, self.datamodule.num_classes)
            self._val_metrics = metrics.to(self.device)
        return self._val_metrics

    def training_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        inputs, targets = batch
        outputs = self.model(inputs)
        loss = self.criterion(outputs, targets)
        if self.train_metrics is not None:
            self.train_metrics.update(outputs.detach(), targets)
        if self.train_accuracy:  # a count, summed over the epoch into train_accuracy
            return {"loss": loss, "accuracy": right_answers(outputs, targets)}
        return {"loss": loss}

    def validation_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        model = self.strategy.eval_model(self.model)
        return score_batch(model, batch, self.val_metrics, self.criterion)

    def on_train_epoch_end(self) -> dict[str, float]:
        return {} if self.train_metrics is None else computed(self.train_metrics)

    def on_validation_epoch_end(self) -> dict[str, float]:
        return computed(self.val_metrics)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Mid-epoch, the training metrics' states so far."""
        if self.train_metrics is not None and self.state.batch_in_epoch > 0:
            checkpoint["train_metrics"] = metric_states(self.train_metrics)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Saved over all processes: the main one takes them, as with the loss sums.
        saved = checkpoint.get("train_metrics")
        if saved and self.train_metrics is not None and self.strategy.is_main:
            load_metric_states(self.train_metrics, saved)


def computed(metrics) -> dict[str, float]:
    """The epoch's values, then a fresh state for the next epoch."""
    values = compute_metrics(metrics)
    metrics.reset()
    return values
