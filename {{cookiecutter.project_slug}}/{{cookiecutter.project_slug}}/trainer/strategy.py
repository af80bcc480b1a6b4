"""The strategy seam: where the model trains and what the processes of a run share
(Lightning's strategies, in small). The core's strategy is one process on one device:
the model is moved there, nothing is shared, and this process writes the files. Other
strategies implement the same methods and add themselves to ``STRATEGIES`` (by the
name ``trainer.strategy`` gives); trainer/__init__.py imports them."""

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from torch import nn

from ..data.samplers import make_sampler
from ..saver import load_checkpoint
from ..utils import MetricTracker, get_rng_state, seed_everything, set_rng_state
from ..utils.device import prepare_device
from ..utils.errors import ConfigError
from .graceful_stop import GracefulStop

T = TypeVar("T")


class SingleDevice:
    multi_process = False  # can train over the several processes torchrun starts
    is_main = True  # the process that writes files, logs and the progress bar
    world_size = 1  # processes training together
    batch_note = ""  # after data.batch_size in the log's run summary

    # The samplers of the data module's loaders (build_datamodule's ``sampler``): here
    # this one process reads all the data.
    sampler = staticmethod(make_sampler)

    def __init__(self, cfg) -> None:
        self.device = prepare_device(cfg)

    def seed(self, seed: int, deterministic: bool) -> None:
        """Seed this process's random streams from the run's ``seed``."""
        seed_everything(seed, deterministic)

    def on_main(self, make: Callable[[], T]) -> T:
        """``make()``, run by the main process; its result (or its error) for every process."""
        return make()

    def load_best_weights(self, trainer, best: Path) -> None:
        """The weights of the run's best checkpoint, if one was saved, into the model."""
        if best.exists():
            trainer.module.load_state_dict(load_checkpoint(best, trainer.device)["model"])

    def setup_model(self, module: nn.Module) -> nn.Module:
        """The model that trains, made from ``module``: here, ``module`` on the device."""
        return module.to(self.device)

    def unwrap(self, model: nn.Module) -> nn.Module:
        """The plain ``nn.Module`` inside the model that trains (whose weights are saved)."""
        return model

    def forward_context(self, model: nn.Module, update: bool):
        """Around one batch's forward pass; ``update``: an optimizer step follows its backward."""
        return contextlib.nullcontext()

    def eval_model(self, model: nn.Module) -> nn.Module:
        """The model a validation step calls (here, the model that trains)."""
        return model

    def eval_context(self, model: nn.Module):
        """Around an evaluation pass."""
        return contextlib.nullcontext()

    def any_process(self, flag: bool) -> bool:
        """Whether ``flag`` holds in any process (the call is a collective where there
        are several)."""
        return flag

    def reduce(self, tracker: MetricTracker) -> MetricTracker:
        """The tracker of every process's sums (a collective where there are several):
        here, ``tracker`` itself."""
        return tracker

    def graceful_stop(self, trainer) -> GracefulStop:
        """The stop-signal handler for ``trainer``'s loop (Ctrl-C, SIGTERM)."""
        return GracefulStop()

    def model_and_optimizer_state(self, trainer) -> dict[str, Any]:
        """The ``model`` and ``optimizer`` entries of a checkpoint."""
        return {"model": trainer.module.state_dict(), "optimizer": trainer.optimizer.state_dict()}

    def load_model_and_optimizer(self, trainer, state: dict[str, Any]) -> None:
        trainer.module.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])

    def save_checkpoint(self, trainer, manager, paths: list[Path]) -> list[Path]:
        """Write ``trainer``'s checkpoint to ``paths`` through ``manager`` (the saver's
        CheckpointManager); return where it went."""
        manager.write(trainer.state_dict(), paths)
        return paths

    def rng_state(self) -> dict[str, Any]:
        """The checkpoint's ``rng`` entry: the random streams of this process."""
        return {"rng": get_rng_state()}

    def restore_rng_state(self, trainer, state: dict[str, Any]) -> None:
        """The last step of a restore: the saved random streams continue."""
        set_rng_state(state["rng"])


# trainer.strategy -> the strategy's class (a run without the key trains on one device).
STRATEGIES: dict[str, Callable[[Any], SingleDevice]] = {"single_device": SingleDevice}


def check_launch() -> None:
    """Refuse a torchrun launch (it sets WORLD_SIZE and LOCAL_RANK) when no strategy of
    this project trains over several processes: each process would train the same run
    on its own and write the same files."""
    world_size = os.environ.get("WORLD_SIZE", "1")
    if any(strategy.multi_process for strategy in STRATEGIES.values()):
        return
    if world_size != "1" or "LOCAL_RANK" in os.environ:
        raise ConfigError(
            f"launched by torchrun (WORLD_SIZE={world_size}), but this project trains in one "
            "process (profile=minimal): run `python train.py`; the full profile has DDP and FSDP"
        )


def build_strategy(cfg) -> SingleDevice:
    """The strategy ``trainer.strategy`` names, for the ``trainer.*`` keys ``cfg``."""
    return STRATEGIES[cfg.get("strategy", "single_device")](cfg)
