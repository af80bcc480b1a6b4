"""ClassificationTrainer: the two steps of an image classifier, in Lightning's names."""

from typing import Any

import torch

from ..model import build_loss, build_metrics
from .base import BaseTrainer


class ClassificationTrainer(BaseTrainer):
    """``batch`` is ``(inputs, targets)``; the model returns logits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criterion = build_loss(self.config.loss, self.config.label_smoothing)
        self.metrics = build_metrics(list(self.config.metrics))

    def training_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        inputs, targets = batch
        logits = self.model(inputs)
        loss = self.criterion(logits, targets)
        return {"loss": loss, **self.compute_metrics(logits.detach(), targets)}

    def validation_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        inputs, targets = batch
        logits = self.model(inputs)
        loss = self.criterion(logits, targets)
        return {"loss": loss, **self.compute_metrics(logits, targets)}

    def compute_metrics(
        self, logits: torch.Tensor, targets: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        return {name: metric(logits, targets) for name, metric in self.metrics.items()}
