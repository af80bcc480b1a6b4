"""BaseTrainer: the training loop, written once so projects never rewrite it.

Read ``fit`` top to bottom: for each epoch, ``train_epoch`` (forward and loss in
``training_step``, then ``loss.backward()``, ``optimizer.step()``,
``optimizer.zero_grad()``), then ``validate``, then the scheduler, logging and the
callbacks (early stopping, checkpoints, extra logging). The hooks a subclass fills in
are declared in hooks.py. Two parts the loop calls through: ``strategy`` (where the
model trains: trainer/strategy.py) and ``precision`` (the number format: utils/precision.py);
the core's are one device and fp32, whose hooks hand back what they are given.
"""

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from omegaconf import DictConfig
from torch import nn

from ..logger import LoggerCollection
from ..utils import MetricTracker
from ..utils.device import threads_note
from ..utils.precision import Float32Precision, batches_in_step, build_precision, clip_gradients
from ..utils.run_dir import RunFiles
from .callbacks import (
    ADDED_CALLBACKS,
    HOOKS,
    Callback,
    EarlyStopping,
    LoggingExtras,
    ModelCheckpoint,
    overriding,
)
from .evaluation import run_evaluation
from .graceful_stop import TrainingInterrupted
from .hooks import TrainerHooks
from .nonfinite import check_finite_loss, skip_nonfinite_batch
from .setup import batch_counts, describe_run, epoch_loaders, progress_bar
from .state import TrainState, collect_state, restore_state, resume
from .strategy import SingleDevice, build_strategy

if TYPE_CHECKING:
    from ..data import BaseDataModule

log = logging.getLogger(__name__)


class BaseTrainer(TrainerHooks):
    """Owns the loop. Subclasses implement ``training_step`` and ``validation_step``
    and may override the other hooks (hooks.py)."""

    def __init__(
        self,
        model: nn.Module,
        datamodule: "BaseDataModule",
        config: DictConfig,
        run_dir: Path | str,
        callbacks: list[Callback] = (),
        strategy: SingleDevice | None = None,
        precision: Float32Precision | None = None,
    ) -> None:
        """``strategy`` and ``precision``: by default those ``trainer.*`` names."""
        self.config, cfg = config, config.trainer
        self.datamodule = datamodule
        self.loggers = LoggerCollection([])  # train.py sets the run's loggers
        self.strategy = strategy or build_strategy(cfg)
        self.device = self.strategy.device
        self.precision = precision or build_precision(cfg, self.device)
        self.model = self.strategy.setup_model(model)  # the model that trains
        self.stop = self.strategy.graceful_stop(self)
        self.early_stopping = EarlyStopping(**cfg.early_stopping)
        checkpoints = RunFiles(run_dir).checkpoints
        self.checkpoint = ModelCheckpoint(checkpoints, cfg.checkpoint, enabled=not cfg.fast_dev_run)
        # The checkpoint policy runs last, so the state it saves holds every decision.
        added = [callback for make in ADDED_CALLBACKS if (callback := make(self)) is not None]
        self.callbacks = [self.early_stopping, LoggingExtras(), *added, *callbacks]
        self.callbacks.append(self.checkpoint)
        self.hooks = {hook: overriding(self.callbacks, hook) for hook in HOOKS}
        self.epochs = 1 if cfg.fast_dev_run else cfg.epochs
        # Read on every step: plain attributes (see "Performance notes" in the README).
        self.accumulate, self.log_every = cfg.accumulate_grad_batches, cfg.log_every_n_steps
        self.clip_val, self.clip_algorithm = cfg.gradient_clip_val, cfg.gradient_clip_algorithm
        self.skip_nonfinite = cfg.nonfinite_loss == "skip"
        self.state, self.train_tracker, self.last_metrics = TrainState(), MetricTracker(), {}
        self.optimizer, self.scheduler = None, None  # made in fit by configure_optimizers
        self.step_lr = 0.0  # the LR of the latest optimizer step (logged as lr)

    @property
    def module(self) -> nn.Module:
        """The plain ``nn.Module`` whose weights are saved: ``model`` without the
        strategy's wrappers (on one device, ``model`` itself)."""
        return self.strategy.unwrap(self.model)

    def fit(self, resume_from: Path | str | dict | None = None) -> dict[str, float]:
        """Train ``trainer.epochs`` epochs (or until early stopping); return the last
        metrics. ``resume_from``: a checkpoint to continue, as a path or already loaded."""
        overfit = self.config.trainer.overfit_batches > 0
        train_loader, val_loader = epoch_loaders(self.datamodule, overfit)
        self.num_train_batches, self.num_val_batches = batch_counts(
            self.config.trainer, train_loader, val_loader
        )
        self.optimizer, self.scheduler = self.configure_optimizers()
        for callback in self.hooks["on_fit_start"]:
            callback.on_fit_start(self)
        if resume_from is not None:
            resume(self, resume_from)
        for callback in self.hooks["on_train_start"]:
            callback.on_train_start(self, resumed=resume_from is not None)
        log.info("training on %s, %s: %s", self.device, threads_note(), describe_run(self))
        with self.stop.handlers():
            while self.state.epoch < self.epochs and not self.state.should_stop:
                epoch, started = self.state.epoch + 1, time.perf_counter()
                self.step_lr = self.optimizer.param_groups[0]["lr"]  # kept if no step runs
                train_metrics = self.train_epoch(epoch, train_loader)
                if overfit:  # validate on the same batches from the first, even after a resume
                    self.datamodule.set_epoch(epoch)
                val_metrics = self.validate(val_loader)
                # lr: that of the epoch's last optimizer step (the whole epoch's LR for
                # per-epoch schedules); a mid-epoch resume reproduces it.
                metrics = {"epoch": epoch, **train_metrics, **val_metrics, "lr": self.step_lr}
                metrics["epoch_time"] = time.perf_counter() - started
                self.end_epoch(epoch, metrics)
                if self.stop.requested():
                    self.interrupt()
        return self.last_metrics

    def train_epoch(self, epoch: int, loader) -> dict[str, float]:
        """One pass over the training data; returns ``train_<name>`` epoch averages."""
        self.model.train()
        start = self.state.batch_in_epoch
        self.datamodule.set_epoch(epoch, start)
        last = self.num_train_batches - 1
        show = self.config.trainer.progress_bar and self.strategy.is_main
        bar = progress_bar(self.num_train_batches, start, f"epoch {epoch}/{self.epochs}", show)
        for batch_idx, batch in enumerate(loader, start=start):
            if batch_idx > last:
                break
            batch = self.transfer_batch_to_device(batch)
            update = (batch_idx + 1) % self.accumulate == 0 or batch_idx == last
            with self.strategy.forward_context(self.model, update), self.precision.autocast():
                outputs = self.training_step(batch, batch_idx)  # outputs = model(x); loss = ...
            loss = outputs["loss"]
            if self.skip_nonfinite and skip_nonfinite_batch(self, loss, epoch, batch_idx):
                continue
            group = batches_in_step(batch_idx, self.accumulate, self.num_train_batches)
            if group > 1:  # the step averages the gradients of the group's batches
                loss = loss / group
            loss = self.precision.scale(loss)  # fp32: the loss itself
            loss.backward()
            self.train_tracker.update(outputs, self.get_batch_size(batch))
            self.state.batch_in_epoch = batch_idx + 1
            bar.update(1)
            if update:
                if self.precision.gradients_finite(self.optimizer):  # fp32: always
                    if self.clip_val > 0:
                        clip_gradients(self.module.parameters(), self.clip_val, self.clip_algorithm)
                    self.optimizer.step()
                self.precision.update()
                for callback in self.hooks["on_before_zero_grad"]:
                    callback.on_before_zero_grad(self)
                self.optimizer.zero_grad(set_to_none=True)
                self.after_optimizer_step(outputs["loss"], bar, mid_epoch=batch_idx < last)
                if batch_idx < last and self.stop.requested():
                    self.interrupt()
        bar.close()
        self.raise_if_nonfinite()
        metrics = self.strategy.reduce(self.train_tracker).compute() | self.on_train_epoch_end()
        # The next epoch's sums start here, not at its first batch: a resumed epoch may
        # start at batch 0 with restored sums.
        self.train_tracker = MetricTracker()
        return {f"train_{name}": value for name, value in metrics.items()}

    def validate(self, loader) -> dict[str, float]:
        self.model.eval()
        limit, autocast = self.num_val_batches, self.precision.autocast
        batches = (self.transfer_batch_to_device, self.get_batch_size)
        with self.strategy.eval_context(self.model):
            metrics = run_evaluation(
                self.validation_step, loader, batches, "val", limit, autocast, self.strategy.reduce
            )
        extra = self.on_validation_epoch_end()
        return metrics | {f"val_{name}": value for name, value in extra.items()}

    def after_optimizer_step(self, loss: torch.Tensor, bar, mid_epoch: bool) -> None:
        self.state.global_step += 1
        step = self.state.global_step
        self.step_lr = self.optimizer.param_groups[0]["lr"]  # the LR this step used
        if step % self.log_every == 0:  # the only per-step host sync
            self.raise_if_nonfinite()
            value = loss.item()
            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
            self.loggers.log_metrics({"train/loss_step": value, "train/lr": self.step_lr}, step)
        for callback in self.hooks["on_optimizer_step"]:
            callback.on_optimizer_step(self, mid_epoch)

    def end_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        """Scheduler, logging, then the callbacks (the checkpoint policy last)."""
        if self.scheduler is not None:
            self.scheduler.step()
        self.state.epoch, self.state.batch_in_epoch = epoch, 0
        self.last_metrics = metrics
        self.loggers.log_epoch(epoch, metrics, self.state.global_step)
        for callback in self.hooks["on_epoch_end"]:
            callback.on_epoch_end(self, epoch, metrics)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: the collection of the parts' states."""
        return collect_state(self)  # calls on_save_checkpoint

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        """Restore ``state_dict``'s output (call after configure_optimizers)."""
        restore_state(self, checkpoint)  # calls on_load_checkpoint

    def interrupt(self) -> None:
        """A graceful stop at a step boundary: save last.pt, then leave the loop."""
        raise TrainingInterrupted(self.stop.signum, self.checkpoint.save_on_interrupt(self))

    def raise_if_nonfinite(self) -> None:
        check_finite_loss(self.train_tracker, self.state, self.log_every)
