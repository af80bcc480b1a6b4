"""A user adds behaviour from their own code, without editing the package: a callback
with state that survives in the checkpoint, and an optimizer registered by name."""

import torch

from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import Callback, ClassificationTrainer
from {{cookiecutter.project_slug}}.trainer.optim import OPTIMIZERS


@OPTIMIZERS.register("rmsprop_from_a_test")
def rmsprop(params, config):
    return torch.optim.RMSprop(params, lr=config.lr, weight_decay=config.weight_decay)


class EpochLog(Callback):
    """Notes every finished epoch and the LR it ended with; resumes with its notes."""

    state_key = "epoch_log"

    def __init__(self) -> None:
        self.rows: list[list[float]] = []

    def on_epoch_end(self, trainer, epoch, metrics):
        self.rows.append([epoch, metrics["lr"]])

    def state_dict(self):
        return {"rows": [list(row) for row in self.rows]}

    def load_state_dict(self, state):
        self.rows = [list(row) for row in state["rows"]]


def make(config, run_dir, callback):
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    return ClassificationTrainer(model, datamodule, config, run_dir, callbacks=[callback])


def test_a_custom_callback_and_optimizer_train_and_resume(config_factory, tmp_path):
    config = config_factory("optimizer.name=rmsprop_from_a_test", "trainer.epochs=2")
    first = EpochLog()
    trainer = make(config, tmp_path / "run", first)
    trainer.fit()
    assert isinstance(trainer.optimizer, torch.optim.RMSprop)
    assert [row[0] for row in first.rows] == [1, 2]
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    saved = torch.load(last, weights_only=True)
    assert saved["epoch_log"] == {"rows": first.rows}  # the callback's state is in it

    resumed_log = EpochLog()
    resumed = make(
        config_factory("optimizer.name=rmsprop_from_a_test", "trainer.epochs=3"),
        tmp_path / "run",
        resumed_log,
    )
    resumed.fit(resume_from=last)
    assert [row[0] for row in resumed_log.rows] == [1, 2, 3]  # restored, then continued
