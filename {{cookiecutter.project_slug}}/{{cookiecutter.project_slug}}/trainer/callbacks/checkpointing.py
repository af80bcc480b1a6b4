"""The checkpoint policy as a callback: which files to write at the end of each epoch,
``last.pt`` every N optimizer steps and on a graceful stop. The files themselves are
the saver's (atomic writes, ``weights_only``-safe contents)."""

from pathlib import Path

from ...saver import CheckpointManager
{%- if cookiecutter.profile == "full" %}
from ...saver.sharded import finish_pending, remove_stale_folders, save_sharded
from ...utils import dist
from ..distributed import checkpoint_state
from ..fsdp import is_sharded
{%- endif %}
from .base import Callback


class ModelCheckpoint(Callback):
    state_key = "checkpoints"

    def __init__(self, directory: Path, config, enabled: bool = True) -> None:
        """``config``: the ``trainer.checkpoint`` section."""
        self.enabled = enabled
        self.every_n_steps = config.every_n_steps
{%- if cookiecutter.profile == "full" %}
        own = ("every_n_steps", "async_save")  # the callback's; the rest is the manager's
        self.async_save = config.get("async_save", False)
        self.manager = CheckpointManager(
            directory, **{k: v for k, v in config.items() if k not in own}
        )
{%- else %}
        self.manager = CheckpointManager(
            directory, **{k: v for k, v in config.items() if k != "every_n_steps"}
        )
{%- endif %}

    @property
    def last_path(self) -> Path:
        return self.manager.last_path

    def on_train_start(self, trainer, resumed: bool) -> None:
{%- if cookiecutter.profile == "full" %}
        if self.enabled and trainer.strategy.is_main:
            self.manager.remove_stale(resumed=resumed)
            remove_stale_folders(self.manager.directory)
{%- else %}
        if self.enabled:
            self.manager.remove_stale()
{%- endif %}

    def on_optimizer_step(self, trainer, mid_epoch: bool) -> None:
{%- if cookiecutter.profile == "full" %}
        if self.async_save:  # a background save that is written: its folders go in now
            finish_pending(wait=False)
{%- endif %}
        step = trainer.state.global_step
        if self.enabled and self.every_n_steps and mid_epoch and step % self.every_n_steps == 0:
            self.save(trainer, self.last_path)

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        """Runs last, so the saved state holds every other decision of this epoch."""
        if not self.enabled:
            return
{%- if cookiecutter.profile == "full" %}
        writes, evicted = self.manager.plan(epoch, metrics)
        state = checkpoint_state(trainer)  # on every rank: it gathers metric and RNG states
        self.write(trainer, state, writes, evicted)
        dist.barrier()  # no rank goes on (or reads a checkpoint) before it is written
{%- else %}
        writes = self.manager.plan(epoch, metrics)
        self.manager.write(trainer.state_dict(), writes)
{%- endif %}

    def save(self, trainer, path: Path) -> Path:
        """A mid-epoch checkpoint (every N steps, or on a graceful stop)."""
        trainer.raise_if_nonfinite()  # never save NaN weights as last.pt
{%- if cookiecutter.profile == "full" %}
        tracker = trainer.train_tracker
        if trainer.strategy.world_size > 1:
            # Mid-epoch saves hold the running sums of all ranks; rank 0 restores them.
            trainer.train_tracker = trainer.strategy.reduce(tracker)
        try:
            state = checkpoint_state(trainer)  # on every rank: it gathers metric and RNG states
            [path] = self.write(trainer, state, [path], [])
        finally:
            trainer.train_tracker = tracker
        dist.barrier()
        return path
{%- else %}
        self.manager.write(trainer.state_dict(), [path])
        return path
{%- endif %}
{%- if cookiecutter.profile == "full" %}

    def write(self, trainer, state: dict, writes: list[Path], evicted: list[Path]) -> list[Path]:
        """Rank 0 writes the files (every rank its shards under ``trainer.strategy=fsdp``)."""
        if is_sharded(trainer.module):
            # In the background unless the run ends here (last epoch, early stop, signal).
            done = trainer.state.epoch >= trainer.epochs or trainer.state.should_stop
            background = self.async_save and not (done or trainer.stop.signum)
            return save_sharded(state, writes, evicted, background)
        if trainer.strategy.is_main:
            self.manager.write(state, writes, evicted)
        return writes
{%- endif %}

    def save_on_interrupt(self, trainer) -> Path | None:
        return self.save(trainer, self.last_path) if self.enabled else None

    def state_dict(self) -> dict:
        return self.manager.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.manager.load_state_dict(state)
