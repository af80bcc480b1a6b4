"""What a run logs besides its metrics and config: the model graph at the start, weight
and gradient histograms every ``logger.histogram_every_n_epochs`` epochs, and a grid of
validation predictions at the first epoch, every ``logger.images_every_n_epochs`` epochs
and at the last. Added to every run's callbacks (``ADDED_CALLBACKS``)."""

import torch

from ..logger.tracker_hooks import trackers
from .callbacks import ADDED_CALLBACKS, Callback
from .fsdp import is_sharded


class ModelLogging(Callback):
    def on_train_start(self, trainer, resumed: bool) -> None:
        """The model graph, once per run (a resumed run has it)."""
        if resumed or not trainer.strategy.is_main:
            return
        if is_sharded(trainer.module):  # rank 0 alone cannot run or read a sharded model
            return
        example = example_input(trainer.datamodule.val_set, trainer.device)
        if example is not None:
            # Eval mode: tracing in train mode would update BatchNorm statistics.
            with evaluating(trainer.module), torch.no_grad():
                trackers(trainer.loggers).log_model(trainer.module, example)

    def on_before_zero_grad(self, trainer) -> None:
        """Histograms after the epoch's last step: gradients unscaled and clipped."""
        if is_sharded(trainer.module):  # rank 0 alone cannot run or read a sharded model
            return
        if trainer.state.batch_in_epoch != trainer.num_train_batches:
            return  # not the epoch's last step (the config is read once an epoch, not a step)
        epoch, every = trainer.state.epoch + 1, trainer.config.logger.histogram_every_n_epochs
        if every and epoch % every == 0:
            trackers(trainer.loggers).log_histograms(trainer.module, epoch)

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        if is_sharded(trainer.module):  # rank 0 alone cannot run or read a sharded model
            return
        if trainer.strategy.is_main and trackers(trainer.loggers).wants_predictions:
            last = epoch == trainer.epochs or trainer.state.should_stop
            every = trainer.config.logger.images_every_n_epochs
            if every > 0 and (epoch == 1 or epoch % every == 0 or last):
                self.log_predictions(trainer, epoch)

    @torch.no_grad()
    def log_predictions(self, trainer, epoch: int, count: int = 16) -> None:
        """Predicted and true labels of the first ``count`` validation images (the same
        images every epoch, so the grids can be compared). Skipped for non-image inputs."""
        val_set = trainer.datamodule.val_set
        samples = [val_set[index] for index in range(min(count, len(val_set)))]
        images = torch.stack([inputs for inputs, _ in samples])
        if images.dim() != 4:  # (N, C, H, W) images only
            return
        targets = torch.stack([torch.as_tensor(target) for _, target in samples])
        with evaluating(trainer.module), trainer.precision.autocast():
            logits = trainer.module(images.to(trainer.device))
        predictions = logits.argmax(dim=1).cpu()
        classes = trainer.datamodule.classes
        trackers(trainer.loggers).log_predictions(images, predictions, targets, classes, epoch)


def example_input(dataset, device: torch.device) -> torch.Tensor | None:
    """A batch of one input, to draw the model graph (None: not a tensor dataset).
    Indexing the dataset, not iterating a DataLoader, leaves every RNG untouched."""
    sample = dataset[0]
    inputs = sample[0] if isinstance(sample, tuple | list) else sample
    return inputs.unsqueeze(0).to(device) if isinstance(inputs, torch.Tensor) else None


class evaluating:  # noqa: N801 - used like a function: ``with evaluating(module):``
    """Eval mode for the ``with`` block, then the mode the module had."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module, self.training = module, module.training

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc_info) -> None:
        self.module.train(self.training)


ADDED_CALLBACKS.append(lambda trainer: ModelLogging())
