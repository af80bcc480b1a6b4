"""ClassificationTrainer: the training step of an image classifier, in Lightning's name,
and the metrics its validation and test report."""

import torch

from ..model import build_loss, build_metrics
from .base import BaseTrainer
from .distributed import without_ddp
from .evaluation import batch_metrics


class ClassificationTrainer(BaseTrainer):
    """``batch`` is ``(inputs, targets)``; the model returns logits."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        weight = None
        if self.config.class_weights == "auto":  # inverse class frequency, mean 1
            counts = self.datamodule.class_counts().double().clamp_min(1)
            weight = (counts.sum() / (len(counts) * counts)).float().to(self.device)
        self.criterion = build_loss(self.config.loss, self.config.label_smoothing, weight)
        self.metrics = build_metrics(list(self.config.metrics))
        self.train_metrics = self.config.trainer.train_metrics  # read once: used every step
        self.eval_metrics = {"loss": self.criterion, **self.metrics}  # validation and test

    def training_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        inputs, targets = batch
        outputs = self.model(inputs)
        loss = self.criterion(outputs, targets)
        if not self.train_metrics:  # trainer.train_metrics=false (default): the loss only
            return {"loss": loss}
        logits = outputs.detach()
        return {"loss": loss, **{name: fn(logits, targets) for name, fn in self.metrics.items()}}

    def validation_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        # Without DDP's wrapper: each rank evaluates its own shard, with no collective.
        return batch_metrics(without_ddp(self.model), batch, self.eval_metrics)
