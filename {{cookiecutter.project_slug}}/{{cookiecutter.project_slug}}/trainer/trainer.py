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
        self.train_metrics = self.cfg.train_metrics  # read once: it is checked every step

    def training_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        inputs, targets = batch
        logits = self.model(inputs)
        loss = self.criterion(logits, targets)
        if not self.train_metrics:  # trainer.train_metrics=false (default): the loss only
            return {"loss": loss}
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

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        if self.dist.is_main and self.loggers.wants_predictions and self.is_image_epoch(epoch):
            self.log_predictions(epoch)

    def is_image_epoch(self, epoch: int) -> bool:
        """The first epoch (an early look that data and labels match), every
        ``logger.images_every_n_epochs`` epochs, and the last one (planned, or the one early
        stopping ends on), so every run shows its final predictions."""
        every = self.config.logger.images_every_n_epochs
        last = epoch == self.epochs or self.state.should_stop
        return every > 0 and (epoch == 1 or epoch % every == 0 or last)

    @torch.no_grad()
    def log_predictions(self, epoch: int, count: int = 16) -> None:
        """Predicted and true labels of the first ``count`` validation images (the same
        images every epoch, so the grids can be compared). Skipped for non-image inputs."""
        val_set = self.datamodule.val_set
        samples = [val_set[index] for index in range(min(count, len(val_set)))]
        images = torch.stack([inputs for inputs, _ in samples])
        if images.dim() != 4:  # (N, C, H, W) images only
            return
        targets = torch.stack([torch.as_tensor(target) for _, target in samples])
        training = self.raw_model.training
        self.raw_model.eval()
        try:
            with self._autocast():
                logits = self.raw_model(images.to(self.device))
        finally:
            self.raw_model.train(training)
        predictions = logits.argmax(dim=1).cpu()
        self.loggers.log_predictions(images, predictions, targets, self.datamodule.classes, epoch)
