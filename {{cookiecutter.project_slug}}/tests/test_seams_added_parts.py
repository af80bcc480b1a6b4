"""The seams added parts plug into without editing the loop: a checkpoint keep-policy
(``KEEP_POLICIES``), a callback every run gets (``ADDED_CALLBACKS``, with ``on_fit_start``
once the optimizer is made) and a schedule another part steps (``SCHEDULE_TAKERS``)."""

from contextlib import contextmanager
from pathlib import Path

import torch

from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.saver import load_checkpoint
from {{cookiecutter.project_slug}}.trainer import Callback, ClassificationTrainer
from {{cookiecutter.project_slug}}.trainer.callbacks import ADDED_CALLBACKS
from {{cookiecutter.project_slug}}.trainer.callbacks.checkpointing import KEEP_POLICIES
from {{cookiecutter.project_slug}}.trainer.optim import SCHEDULE_TAKERS

BASE = [
    "model.name=mlp",
    "trainer.device=cpu",
    "trainer.early_stopping.enabled=false",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
]


@contextmanager
def added(registry: list, item):
    registry.append(item)
    try:
        yield
    finally:
        registry.remove(item)


def fit(config, run_dir: Path, resume_from=None) -> ClassificationTrainer:
    torch.manual_seed(config.seed)
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    trainer = ClassificationTrainer(model, datamodule, config, run_dir)
    trainer.fit(resume_from)
    return trainer


class KeepNewest:
    """Keeps ``newest-<epoch>.pt`` of the latest epoch only; counts its files in its state."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.count = directory, 0

    def plan(self, manager, metrics):
        epoch = int(metrics["epoch"])
        self.count += 1
        old = [self.directory / f"newest-{epoch - 1}.pt"] if epoch > 1 else []
        return [self.directory / f"newest-{epoch}.pt"], old

    def stale(self, resumed: bool) -> list[Path]:
        return []

    def state_dict(self) -> dict:
        return {"newest_count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.count = state.get("newest_count", 0)


def test_a_keep_policy_writes_its_files_and_deletes_the_ones_it_no_longer_keeps(
    tmp_path, config_factory
):
    config = config_factory(*BASE, "trainer.epochs=3")
    with added(KEEP_POLICIES, lambda directory, section: KeepNewest(directory)):
        trainer = fit(config, tmp_path)
    checkpoints = trainer.checkpoint.manager.directory
    assert sorted(p.name for p in checkpoints.glob("newest-*.pt")) == ["newest-3.pt"]
    saved = load_checkpoint(checkpoints / "newest-3.pt")
    assert saved["trainer"]["epoch"] == 3
    assert saved["callbacks"]["checkpoints"]["newest_count"] == 3  # saved after its decision
    assert {"best.pt", "last.pt"} <= {p.name for p in checkpoints.iterdir()}


def test_a_policy_that_is_not_asked_for_adds_nothing(tmp_path, config_factory):
    config = config_factory(*BASE, "trainer.epochs=1")
    without = fit(config, tmp_path / "without").checkpoint.manager
    with added(KEEP_POLICIES, lambda directory, section: None):
        manager = fit(config, tmp_path / "with").checkpoint.manager
    assert len(manager.policies) == len(without.policies)
    assert {p.name for p in manager.directory.iterdir()} == {
        p.name for p in without.directory.iterdir()
    }


class Recorder(Callback):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_fit_start(self, trainer) -> None:
        # The optimizer is made, and nothing was restored yet: step 0 even on a resume.
        assert trainer.optimizer is not None
        self.calls.append(f"fit_start step={trainer.state.global_step}")

    def on_train_start(self, trainer, resumed: bool) -> None:
        self.calls.append(f"train_start step={trainer.state.global_step}")

    def on_epoch_end(self, trainer, epoch: int, metrics: dict[str, float]) -> None:
        self.calls.append(f"epoch_end {epoch}")


def test_an_added_callback_runs_in_every_trainer_from_before_a_resume(tmp_path, config_factory):
    config = config_factory(*BASE, "trainer.epochs=1")
    recorders: list[Recorder] = []

    def make(trainer):
        recorders.append(Recorder())
        return recorders[-1]

    with added(ADDED_CALLBACKS, make), added(ADDED_CALLBACKS, lambda trainer: None):
        first = fit(config, tmp_path)
        last = first.checkpoint.last_path
        resumed = fit(config_factory(*BASE, "trainer.epochs=2"), tmp_path / "more", last)
    assert recorders[0] in first.callbacks and recorders[1] in resumed.callbacks
    assert None not in first.callbacks
    assert recorders[0].calls == ["fit_start step=0", "train_start step=0", "epoch_end 1"]
    assert recorders[1].calls == ["fit_start step=0", "train_start step=2", "epoch_end 2"]


def test_a_schedule_another_part_takes_is_not_stepped_by_the_loop(tmp_path, config_factory):
    """lr_scheduler.name=step halves the LR after every epoch, unless a part takes it."""
    schedule = ["lr_scheduler.name=step", "lr_scheduler.step_size=1", "lr_scheduler.gamma=0.5"]
    config = config_factory(*BASE, *schedule, "trainer.epochs=2", "optimizer.lr=0.1")
    stepped = fit(config, tmp_path / "loop")
    assert stepped.optimizer.param_groups[0]["lr"] == 0.1 * 0.5**2
    with added(SCHEDULE_TAKERS, lambda section: section.name == "step"):
        taken = fit(config, tmp_path / "taken")
    assert taken.scheduler is None
    assert taken.optimizer.param_groups[0]["lr"] == 0.1
