"""BaseTrainer: the training loop, written once so projects never rewrite it.

Read ``fit`` top to bottom: for each epoch, ``train_epoch`` (zero_grad, forward,
loss, backward, step), then ``evaluate`` (eval mode, no_grad), then scheduler,
logging, checkpoints and early stopping. Subclasses fill in ``training_step`` and
``validation_step`` (Lightning's names); a new model never needs a new trainer.
"""

import abc
import contextlib
import logging
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from omegaconf import DictConfig
from torch import nn
from tqdm.auto import tqdm

from ..config import ConfigError, to_plain_dict
from ..logger import LoggerCollection
from ..saver import CheckpointError, CheckpointManager, load_checkpoint
from ..utils import (
    DistInfo,
    MetricTracker,
    dist,
    enable_determinism,
    get_rng_state,
    select_device,
    set_rng_state,
)
from ..utils.errors import UserError
from .early_stopping import EarlyStopping
from .optim import SchedulerSpec, build_optimizer, build_scheduler, steps_per_epoch

if TYPE_CHECKING:
    from ..data import BaseDataModule

log = logging.getLogger(__name__)

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class TrainingInterrupted(Exception):
    """SIGINT/SIGTERM arrived; ``last.pt`` was saved. ``signum`` is the signal number."""

    def __init__(self, signum: int, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum, self.checkpoint = signum, checkpoint


class NonFiniteLossError(UserError, FloatingPointError):
    """The training loss became NaN or infinite."""


@dataclass
class TrainState:
    epoch: int = 0  # completed epochs
    global_step: int = 0  # optimizer steps taken
    batch_in_epoch: int = 0  # batches done in the unfinished epoch (0 at an epoch boundary)
    should_stop: bool = False  # early stopping fired


@dataclass(frozen=True)
class StepSettings:
    """The ``trainer.*`` values read on every step, copied out of the config at the start
    of each epoch: an OmegaConf attribute lookup costs ~10 us, about 3 % of a small step."""

    accumulate: int
    skip_nonfinite: bool
    clip_val: float
    clip_algorithm: str
    log_every: int
    checkpoint_every: int

    @classmethod
    def from_config(cls, cfg: DictConfig) -> "StepSettings":
        return cls(
            accumulate=cfg.accumulate_grad_batches,
            skip_nonfinite=cfg.nonfinite_loss == "skip",
            clip_val=cfg.gradient_clip_val,
            clip_algorithm=cfg.gradient_clip_algorithm,
            log_every=cfg.log_every_n_steps,
            checkpoint_every=cfg.checkpoint.every_n_steps,
        )


class BaseTrainer(abc.ABC):
    """Owns the loop. Subclasses implement ``training_step`` and ``validation_step``;
    ``configure_optimizers`` builds from config and may be overridden."""

    def __init__(
        self,
        model: nn.Module,
        datamodule: "BaseDataModule",
        config: DictConfig,
        run_dir: Path | str,
        loggers: LoggerCollection | None = None,
        dist_info: DistInfo | None = None,
    ) -> None:
        self.config = config
        self.cfg = config.trainer
        self.run_dir = Path(run_dir)
        self.dist = dist_info or DistInfo()
        self.datamodule = datamodule
        self.loggers = loggers or LoggerCollection([])
        if self.cfg.deterministic:  # here too, so the Python API honours the key like train.py
            enable_determinism()
        if self.cfg.num_threads:
            torch.set_num_threads(self.cfg.num_threads)
        try:
            self.device = select_device(
                self.cfg.device, self.dist.local_rank if self.dist.enabled else None
            )
        except ValueError as error:
            raise ConfigError(str(error)) from None
        self._setup_precision()
        self._setup_model(model)
        self.state = TrainState()
        self.step_settings = StepSettings.from_config(self.cfg)  # refreshed every epoch
        self.checkpoints = CheckpointManager(
            self.run_dir / "checkpoints",
            **{k: v for k, v in self.cfg.checkpoint.items() if k != "every_n_steps"},
        )
        es = self.cfg.early_stopping
        self.early_stopping = EarlyStopping(
            es.monitor, es.mode, es.patience, es.min_delta, es.enabled
        )
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: SchedulerSpec | None = None
        self.train_tracker = MetricTracker()
        self.last_metrics: dict[str, float] = {}
        self.step_lr = 0.0  # the LR of the latest optimizer step (logged as lr)
        self._stop_signal: int | None = None
        self._stop_time = 0.0  # when the first stop signal arrived (time.monotonic)
        self._check_monitors()

    # ----------------------------------------------------------------- hooks to fill in
    @abc.abstractmethod
    def training_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Return ``{"loss": loss, ...}``: the loss to backpropagate plus any batch-mean
        metrics (0-dim tensors) to average over the epoch as ``train_<name>``."""

    @abc.abstractmethod
    def validation_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Return batch-mean metrics (including ``loss``), averaged as ``val_<name>``."""

    def configure_optimizers(self) -> tuple[torch.optim.Optimizer, SchedulerSpec | None]:
        optimizer = build_optimizer(self.raw_model.parameters(), self.config.optimizer)
        steps = steps_per_epoch(self.num_train_batches, self.cfg.accumulate_grad_batches)
        scheduler = build_scheduler(optimizer, self.config.lr_scheduler, self.epochs, steps)
        return optimizer, scheduler

    def batch_size(self, batch: Any) -> int:
        """Samples in a batch, used to weight epoch averages (a short last batch counts less)."""
        return len(batch[0])

    def transfer_batch_to_device(self, batch: Any) -> Any:
        non_blocking = self.device.type == "cuda"
        return tuple(t.to(self.device, non_blocking=non_blocking) for t in batch)

    def example_input(self) -> torch.Tensor | None:
        """A batch of one validation input, to draw the model graph (None: skip it).
        Indexing the dataset, not iterating a DataLoader, leaves every RNG untouched."""
        sample = self.datamodule.val_set[0]
        inputs = sample[0] if isinstance(sample, tuple | list) else sample
        return inputs.unsqueeze(0).to(self.device) if isinstance(inputs, torch.Tensor) else None

    # ----------------------------------------------------------------- the loop
    def fit(self, resume_from: Path | str | None = None) -> dict[str, float]:
        """Train ``trainer.epochs`` epochs (or until early stopping); return the last metrics."""
        overfit = self.cfg.overfit_batches > 0
        train_loader = self.datamodule.train_dataloader(shuffle=False if overfit else None)
        val_loader = train_loader if overfit else self.datamodule.val_dataloader()
        self.num_train_batches = self._limit(len(train_loader), self.cfg.limit_train_batches)
        self.num_val_batches = self._limit(len(val_loader), self.cfg.limit_val_batches)
        self.optimizer, self.scheduler = self.configure_optimizers()
        if resume_from:
            self.load_state(resume_from)
        else:
            self._log_run_start()  # a resumed run logged its config and graph already
        if self._checkpointing_enabled() and self.dist.is_main:
            self.checkpoints.remove_stale(resumed=bool(resume_from))
        log.info(
            "training on %s: %d epochs x %d batches (batch_size=%d per process, world size %d)",
            self.device,
            self.epochs,
            self.num_train_batches,
            self.config.data.batch_size,
            self.dist.world_size,
        )
        with self._signal_handlers():
            while self.state.epoch < self.epochs and not self.state.should_stop:
                epoch = self.state.epoch + 1
                started = time.perf_counter()
                self.step_lr = self.optimizer.param_groups[0]["lr"]  # kept if no step runs
                train_metrics = self.train_epoch(epoch, train_loader)
                if overfit:  # validate on the same batches from the first, even after a resume
                    self.datamodule.set_epoch(epoch)
                val_metrics = self.evaluate(val_loader, "val", self.num_val_batches)
                # lr: that of the epoch's last optimizer step (the whole epoch's LR for
                # per-epoch schedules); unlike the LR at epoch start, a mid-epoch resume
                # reproduces it.
                metrics = {"epoch": epoch, **train_metrics, **val_metrics, "lr": self.step_lr}
                metrics["epoch_time"] = time.perf_counter() - started
                self._end_epoch(epoch, metrics)
                if self._stop_agreed(sync=True):
                    raise TrainingInterrupted(self._stop_signal, self._checkpoint_on_interrupt())
        self.loggers.finalize()
        return self.last_metrics

    def train_epoch(self, epoch: int, loader) -> dict[str, float]:
        """One pass over the training data; returns ``train_<name>`` epoch averages."""
        self.model.train()
        start = self.state.batch_in_epoch
        if start == 0:
            self.train_tracker = MetricTracker()
        self.datamodule.set_epoch(epoch, start)
        settings = self.step_settings = StepSettings.from_config(self.cfg)
        accumulate = settings.accumulate
        last_batch = self.num_train_batches - 1
        every = self.config.logger.histogram_every_n_epochs
        # -1 never matches batch_idx: outside histogram epochs the check below costs one compare.
        histogram_batch = last_batch if every and epoch % every == 0 else -1
        bar = tqdm(
            total=self.num_train_batches,
            initial=start,
            desc=f"epoch {epoch}/{self.epochs}",
            # None: tqdm shows itself on a terminal only, so logs and CI output stay clean.
            disable=None if self.cfg.progress_bar and self.dist.is_main else True,
            leave=False,
            dynamic_ncols=True,
            mininterval=0.5,
        )
        for batch_idx, batch in enumerate(loader, start=start):
            if batch_idx > last_batch:
                break
            batch = self.transfer_batch_to_device(batch)
            update = (batch_idx + 1) % accumulate == 0 or batch_idx == last_batch
            with self._sync_gradients(update), self._autocast():
                outputs = self.training_step(batch, batch_idx)
            loss = outputs["loss"]
            if settings.skip_nonfinite and not self._finite_on_all_ranks(loss):
                log.warning(
                    "skipping batch %d of epoch %d: loss is %s", batch_idx, epoch, loss.item()
                )
                self.optimizer.zero_grad(set_to_none=True)
                continue
            # Average the gradients over the batches of this optimizer step; the epoch's
            # last group may be short and is divided by its real size.
            group_start = batch_idx - batch_idx % accumulate
            group_size = min(accumulate, self.num_train_batches - group_start)
            # x / 1 == x exactly: skip the division (one more kernel per step) when not needed.
            self.scaler.scale(loss / group_size if group_size > 1 else loss).backward()
            self.train_tracker.update(outputs, self.batch_size(batch))
            self.state.batch_in_epoch = batch_idx + 1
            bar.update(1)
            if update:
                self._optimizer_step(histogram_epoch=epoch if batch_idx == histogram_batch else 0)
                self._after_optimizer_step(loss, epoch, bar, mid_epoch=batch_idx < last_batch)
                at_log_step = self.state.global_step % settings.log_every == 0
                if batch_idx < last_batch and self._stop_agreed(sync=at_log_step):
                    raise TrainingInterrupted(self._stop_signal, self._checkpoint_on_interrupt())
        bar.close()
        self._raise_if_nonfinite(epoch)
        return {f"train_{name}": value for name, value in self.train_tracker.compute().items()}

    # inference_mode: no_grad without autograd's view and version bookkeeping (Lightning
    # validates under it too); tensors made here can never enter a backward pass.
    @torch.inference_mode()
    def evaluate(
        self, loader, prefix: str = "val", max_batches: int | None = None
    ) -> dict[str, float]:
        """Average ``validation_step`` over ``loader`` in eval mode, as ``<prefix>_<name>``."""
        self.model = (
            self._eval_model
        )  # plain module: ranks evaluate their shard without collectives
        self.model.eval()
        tracker = MetricTracker()
        try:
            for batch_idx, batch in enumerate(loader):
                if max_batches is not None and batch_idx >= max_batches:
                    break
                batch = self.transfer_batch_to_device(batch)
                with self._autocast():
                    outputs = self.validation_step(batch, batch_idx)
                tracker.update(outputs, self.batch_size(batch))
        finally:
            self.model = self._train_model
        return {f"{prefix}_{name}": value for name, value in tracker.compute().items()}

    def test(self, loader) -> dict[str, float]:
        return self.evaluate(loader, "test")

    # ----------------------------------------------------------------- steps and epochs
    def _optimizer_step(self, histogram_epoch: int = 0) -> None:
        """``histogram_epoch``: log weight and gradient histograms for that epoch, after the
        step (gradients unscaled and clipped) and before ``zero_grad`` drops them."""
        clip = self.step_settings.clip_val
        if clip > 0:
            self.scaler.unscale_(self.optimizer)
            if self.step_settings.clip_algorithm == "norm":
                nn.utils.clip_grad_norm_(self.raw_model.parameters(), clip)
            else:
                nn.utils.clip_grad_value_(self.raw_model.parameters(), clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if histogram_epoch:
            self.loggers.log_histograms(self.raw_model, histogram_epoch)
        self.optimizer.zero_grad(set_to_none=True)

    def _after_optimizer_step(self, loss: torch.Tensor, epoch: int, bar, mid_epoch: bool) -> None:
        self.state.global_step += 1
        step = self.state.global_step
        self.step_lr = self.optimizer.param_groups[0]["lr"]  # the LR this step used
        if self.scheduler is not None and self.scheduler.interval == "step":
            self.scheduler.scheduler.step()
        if step % self.step_settings.log_every == 0:  # the only per-step host sync
            self._raise_if_nonfinite(epoch)
            value = loss.item()
            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
            self.loggers.log_metrics({"train/loss_step": value, "train/lr": self.step_lr}, step)
        every = self.step_settings.checkpoint_every
        if every and mid_epoch and step % every == 0 and self._checkpointing_enabled():
            self._raise_if_nonfinite(epoch)
            self.save_state(self.checkpoints.last_path)

    def _log_run_start(self) -> None:
        """The resolved config and the model graph, once per run, on rank 0."""
        if not self.dist.is_main:
            return
        self.loggers.log_hyperparams(to_plain_dict(self.config))
        example = self.example_input()
        if example is None:
            return
        training = self.raw_model.training
        self.raw_model.eval()  # tracing in train mode would update BatchNorm statistics
        try:
            with torch.no_grad():
                self.loggers.log_model(self.raw_model, example)
        finally:
            self.raw_model.train(training)

    def _end_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        """Scheduler, early stopping, logging and checkpoints, in that order, so the saved
        state already holds this epoch's decisions."""
        if self.scheduler is not None and self.scheduler.interval == "epoch":
            if self.scheduler.monitor:
                self.scheduler.scheduler.step(metrics[self.scheduler.monitor])
            else:
                self.scheduler.scheduler.step()
        self.state.epoch, self.state.batch_in_epoch = epoch, 0
        self.state.should_stop = self.early_stopping.update(metrics)
        self.last_metrics = metrics
        self.loggers.log_epoch(epoch, metrics, self.state.global_step)
        self.on_epoch_end(epoch, metrics)
        if self._checkpointing_enabled():
            writes, evicted = self.checkpoints.plan(epoch, metrics)
            if self.dist.is_main:
                self.checkpoints.write(self.state_dict(), writes, evicted)
            dist.barrier()  # no rank goes on (or reads a checkpoint) before it is written
        if self.state.should_stop:
            log.info(
                "early stopping: %s has not improved for %d epochs (best %.4f)",
                self.early_stopping.monitor,
                self.early_stopping.wait,
                self.early_stopping.best,
            )

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        """Hook for subclasses (e.g. extra logging); called before checkpoints are written."""

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly, as tensors and plain Python types."""
        mid_epoch = self.state.batch_in_epoch > 0
        return {
            "format_version": 1,
            "model": self.raw_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.scheduler.scheduler.state_dict() if self.scheduler else None,
            "grad_scaler": self.scaler.state_dict(),
            "trainer": asdict(self.state),
            "train_tracker": self.train_tracker.state_dict() if mid_epoch else None,
            "early_stopping": self.early_stopping.state_dict(),
            "checkpoints": self.checkpoints.state_dict(),
            "rng": get_rng_state(),
            "config": to_plain_dict(self.config),
            "classes": list(self.datamodule.classes),
            "preprocessing": self.datamodule.preprocessing(),  # for predict.py
            "metrics": dict(self.last_metrics),
        }

    def save_state(self, path: Path) -> None:
        tracker = self.train_tracker
        if self.dist.enabled:
            # Mid-epoch saves hold the running sums of all ranks; rank 0 restores them.
            self.train_tracker = tracker.reduced()
        try:
            if self.dist.is_main:
                self.checkpoints.write(self.state_dict(), [path], [])
        finally:
            self.train_tracker = tracker
        dist.barrier()

    def load_state(self, path: Path | str) -> None:
        """Restore a checkpoint written by ``state_dict`` (call after configure_optimizers)."""
        state = load_checkpoint(path, map_location=self.device)
        missing = {"model", "optimizer", "trainer", "rng"} - set(state)
        if missing:
            raise CheckpointError(
                f"{path} is not a training checkpoint (missing {sorted(missing)})"
            )
        self.raw_model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["lr_scheduler"] is not None:
            self.scheduler.scheduler.load_state_dict(state["lr_scheduler"])
        self.scaler.load_state_dict(state["grad_scaler"])
        self.state = TrainState(**state["trainer"])
        # Under torchrun the saved sums are already over all ranks: only rank 0 takes them.
        if state["train_tracker"] is not None and self.dist.is_main:
            self.train_tracker.load_state_dict(state["train_tracker"], self.device)
        self.early_stopping.load_state_dict(state["early_stopping"])
        self.checkpoints.load_state_dict(state["checkpoints"])
        self.last_metrics = dict(state["metrics"])
        set_rng_state(state["rng"])  # last: building the objects above must not shift it
        log.info(
            "resumed from %s: epoch %d done, step %d, batch %d of the next epoch",
            path,
            self.state.epoch,
            self.state.global_step,
            self.state.batch_in_epoch,
        )

    def _stop_agreed(self, sync: bool) -> bool:
        """Whether to stop here after a SIGINT/SIGTERM. One process: as soon as the flag is
        set. Under torchrun every rank must stop at the same step, or one would wait in an
        all-reduce forever, so the flag is all-reduced, and only at ``sync`` points all ranks
        reach together (log steps and epoch ends): no extra per-step host sync."""
        if not self.dist.enabled:
            return self._stop_signal is not None
        if sync:
            self._stop_signal = dist.max_over_ranks(self._stop_signal or 0) or None
            return self._stop_signal is not None
        return False

    def _finite_on_all_ranks(self, loss: torch.Tensor) -> bool:
        """For ``nonfinite_loss=skip``: under DDP all ranks skip the batch together (a rank
        that skipped its backward alone would leave the others in the gradient all-reduce)."""
        finite = bool(torch.isfinite(loss))
        if not self.dist.enabled:
            return finite
        return dist.max_over_ranks(0 if finite else 1) == 0

    def _checkpoint_on_interrupt(self) -> Path | None:
        if not self._checkpointing_enabled():
            return None
        self._raise_if_nonfinite(self.state.epoch + 1)  # never save NaN weights as last.pt
        self.save_state(self.checkpoints.last_path)
        return self.checkpoints.last_path

    def _checkpointing_enabled(self) -> bool:
        return not self.cfg.fast_dev_run

    # ----------------------------------------------------------------- setup helpers
    @property
    def epochs(self) -> int:
        return 1 if self.cfg.fast_dev_run else self.cfg.epochs

    def _limit(self, available: int, limit: int | None) -> int:
        if self.cfg.fast_dev_run:
            return min(available, 1)
        if self.cfg.overfit_batches:
            return min(available, self.cfg.overfit_batches)
        return min(available, limit) if limit else available

    def _setup_model(self, model: nn.Module) -> None:
        """``raw_model`` holds the weights (saved without ``module.``/``_orig_mod.``
        prefixes); ``_train_model`` adds compile and DDP; ``_eval_model`` skips DDP."""
        if self.dist.enabled and self.cfg.sync_batchnorm:
            self._require_cuda_for_sync_batchnorm()
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.raw_model = model.to(self.device)
        compiled = torch.compile(self.raw_model) if self.cfg.compile else self.raw_model
        self._eval_model = compiled
        self._train_model = compiled
        if self.dist.enabled:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self._train_model = nn.parallel.DistributedDataParallel(compiled, device_ids=device_ids)
        self.model = self._train_model

    def _require_cuda_for_sync_batchnorm(self) -> None:
        """PyTorch's SyncBatchNorm only trains on GPUs: fail now, not at the first batch."""
        if self.device.type != "cuda":
            raise ConfigError(
                f"trainer.sync_batchnorm=true needs CUDA (device is {self.device}): "
                "SyncBatchNorm has no CPU implementation; set trainer.sync_batchnorm=false"
            )

    def _setup_precision(self) -> None:
        precision = self.cfg.precision
        if precision == "fp16" and self.device.type != "cuda":
            raise ConfigError(
                f"trainer.precision=fp16 needs CUDA (device is {self.device}); "
                "use precision=bf16 on CPU"
            )
        cuda = self.device.type == "cuda"
        if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
            raise ConfigError(
                f"trainer.precision=bf16: {torch.cuda.get_device_name(self.device)} has no "
                "bfloat16 support; use precision=fp16"
            )
        self.amp_dtype = AMP_DTYPES.get(precision)
        # GradScaler only matters for fp16; disabled it is a pass-through.
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=precision == "fp16")

    def _autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _sync_gradients(self, update: bool):
        """Under DDP, skip the gradient all-reduce on accumulation steps."""
        if update or not isinstance(self._train_model, nn.parallel.DistributedDataParallel):
            return contextlib.nullcontext()
        return self._train_model.no_sync()

    def _check_monitors(self) -> None:
        names = ["loss", *self.config.metrics]
        allowed = [f"val_{name}" for name in names]
        allowed += [f"train_{name}" for name in (names if self.cfg.train_metrics else ["loss"])]
        monitors = {
            "trainer.early_stopping.monitor": self.early_stopping.monitor,
            "trainer.checkpoint.monitor": self.checkpoints.monitor,
        }
        if self.config.lr_scheduler.name == "plateau":
            monitors["lr_scheduler.monitor"] = self.config.lr_scheduler.monitor
        for key, value in monitors.items():
            if value not in allowed:
                hint = ""
                if value.startswith("train_") and not self.cfg.train_metrics:
                    hint = " (train_<metric> needs trainer.train_metrics=true)"
                raise ConfigError(
                    f"{key}={value!r} is not a logged metric; choose one of {allowed}{hint}"
                )

    def _raise_if_nonfinite(self, epoch: int) -> None:
        """The running loss sum turns NaN/inf with the first bad batch, so checking it at
        log steps and epoch ends catches it without a per-step host sync."""
        total = self.train_tracker.total("loss")
        if total is not None and not math.isfinite(total):
            raise NonFiniteLossError(
                f"training loss became {total} in epoch {epoch}, at or before optimizer step "
                f"{self.state.global_step} (checked every trainer.log_every_n_steps="
                f"{self.cfg.log_every_n_steps} steps; set it to 1 to pinpoint the batch, or "
                "trainer.nonfinite_loss=skip to skip such batches). Checkpoints on disk are from "
                "before this point."
            )

    @contextlib.contextmanager
    def _signal_handlers(self):
        """First SIGINT/SIGTERM: finish the step, save last.pt, stop. Second: stop at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum, frame):
            if self._stop_signal is not None:
                # Under torchrun (and SLURM) one stop request can arrive twice, from the
                # scheduler and forwarded by torchrun: count repeats within 2 s as one.
                if self.dist.enabled and time.monotonic() - self._stop_time < 2.0:
                    return
                raise KeyboardInterrupt
            self._stop_signal, self._stop_time = signum, time.monotonic()
            log.warning(
                "%s received: finishing the current step, then saving last.pt "
                "(press Ctrl-C again to quit at once)",
                signal.Signals(signum).name,
            )

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
