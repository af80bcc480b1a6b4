"""The checkpoint policy as a callback: which files to write at the end of each epoch,
``last.pt`` every N optimizer steps and on a graceful stop. The files themselves are
the saver's (atomic writes, ``weights_only``-safe contents); the strategy writes them
(``strategy.save_checkpoint``)."""

from collections.abc import Callable
from pathlib import Path

from ...saver import CheckpointManager
from ...saver.policy import KeepPolicy
from .base import Callback

# More files to keep beside best.pt and last.pt: factories taking the checkpoint
# directory and the ``trainer.checkpoint`` section, returning a policy or None (not
# asked for). Other parts add theirs (trainer/__init__.py imports them).
KEEP_POLICIES: list[Callable[[Path, object], KeepPolicy | None]] = []


class ModelCheckpoint(Callback):
    state_key = "checkpoints"

    def __init__(self, directory: Path, config, enabled: bool = True) -> None:
        """``config``: the ``trainer.checkpoint`` section."""
        self.enabled = enabled
        self.every_n_steps = config.every_n_steps
        policies = [policy(directory, config) for policy in KEEP_POLICIES]
        self.manager = CheckpointManager(
            directory,
            monitor=config.monitor,
            mode=config.mode,
            save_best=config.save_best,
            save_last=config.save_last,
            policies=[policy for policy in policies if policy is not None],
        )

    @property
    def last_path(self) -> Path:
        return self.manager.last_path

    def on_train_start(self, trainer, resumed: bool) -> None:
        if self.enabled and trainer.strategy.is_main:
            self.manager.remove_stale(resumed)

    def on_optimizer_step(self, trainer, mid_epoch: bool) -> None:
        step = trainer.state.global_step
        if self.enabled and self.every_n_steps and mid_epoch and step % self.every_n_steps == 0:
            self.save(trainer, self.last_path)

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        """Runs last, so the saved state holds every other decision of this epoch."""
        if self.enabled:
            trainer.strategy.save_checkpoint(trainer, self.manager, self.manager.plan(metrics))

    def save(self, trainer, path: Path) -> Path:
        """A mid-epoch checkpoint (every N steps, or on a graceful stop)."""
        trainer.raise_if_nonfinite()  # never save NaN weights as last.pt
        [path] = trainer.strategy.save_checkpoint(trainer, self.manager, [path])
        return path

    def save_on_interrupt(self, trainer) -> Path | None:
        return self.save(trainer, self.last_path) if self.enabled else None

    def state_dict(self) -> dict:
        return self.manager.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.manager.load_state_dict(state)
