"""The hooks a trainer fills in, with Lightning's names. ``training_step`` and
``validation_step`` are required; the others have defaults. BaseTrainer (base.py)
calls them from the loop; ClassificationTrainer (trainer.py) is an example."""

import abc
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler

from .optim import build_optimizer, build_scheduler


class TrainerHooks(abc.ABC):
    @abc.abstractmethod
    def training_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Forward and loss: return ``{"loss": loss, ...}``, the loss to backpropagate plus
        any batch-mean metrics (0-dim tensors) to average over the epoch as ``train_<name>``."""

    @abc.abstractmethod
    def validation_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Return batch-mean metrics (including ``loss``), averaged as ``val_<name>``.
        Call ``self.strategy.eval_model(self.model)``, the model as evaluation runs it."""

    def on_train_epoch_end(self) -> dict[str, float]:
        """Epoch values of metrics the steps accumulated themselves (as ``train_<name>``)."""
        return {}

    def on_validation_epoch_end(self) -> dict[str, float]:
        """Likewise for validation (as ``val_<name>``)."""
        return {}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Add this trainer's own state to a checkpoint being saved."""

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore what ``on_save_checkpoint`` added."""

    def configure_optimizers(self) -> tuple[torch.optim.Optimizer, LRScheduler | None]:
        """The optimizer, and the LR scheduler the loop steps once per epoch (or None)."""
        optimizer = build_optimizer(self.module.parameters(), self.config.optimizer)
        return optimizer, build_scheduler(optimizer, self.config.lr_scheduler, self.epochs)

    def transfer_batch_to_device(self, batch: Any) -> Any:
        """The batch on the device, for training, validation and train.py's test: by
        default the data module's hook, which evaluate.py uses too."""
        return self.datamodule.transfer_batch_to_device(batch, self.device)

    def get_batch_size(self, batch: Any) -> int:
        """Samples in a batch (weights the epoch averages): the data module's count."""
        return self.datamodule.batch_size(batch)
