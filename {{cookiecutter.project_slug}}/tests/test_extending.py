"""A user adds behaviour from their own code, without editing the package: a callback
with state that survives in the checkpoint, an optimizer registered by name, and a
model with options of its own (typed and range-checked like every config key)."""

from dataclasses import dataclass

import pytest
import torch
from torch import nn

import train
from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.config.schema import ModelConfig, at_least
from {{cookiecutter.project_slug}}.data import DATAMODULES, build_datamodule
from {{cookiecutter.project_slug}}.model import MODELS, BaseModel, build_model
from {{cookiecutter.project_slug}}.trainer import Callback, ClassificationTrainer
from {{cookiecutter.project_slug}}.trainer.optim import OPTIMIZERS
from {{cookiecutter.project_slug}}.utils import seed_everything


@OPTIMIZERS.register("rmsprop_from_a_test")
def rmsprop(params, config):
    return torch.optim.RMSprop(params, lr=config.lr, weight_decay=config.weight_decay)


class EpochLog(Callback):
    """Notes every finished epoch and the LR it ended with; resumes with its notes. It sets
    no ``state_key``: its class name keeps its state in the checkpoint."""

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
    # A step schedule: the LR of an epoch does not depend on how many epochs there are.
    options = ["optimizer.name=rmsprop_from_a_test", "lr_scheduler.name=step"]
    config = config_factory(*options, "lr_scheduler.step_size=1", "trainer.epochs=2")
    first = EpochLog()
    trainer = make(config, tmp_path / "run", first)
    trainer.fit()
    assert isinstance(trainer.optimizer, torch.optim.RMSprop)
    assert [row[0] for row in first.rows] == [1, 2]
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    saved = torch.load(last, weights_only=True)
    # The callback's state is in it, by class name, beside (not among) the trainer's parts.
    assert saved["callbacks"]["EpochLog"] == {"rows": first.rows}
    assert "EpochLog" not in saved and "early_stopping" in saved["callbacks"]

    three_epochs = [*options, "lr_scheduler.step_size=1", "trainer.epochs=3"]
    resumed_log = EpochLog()
    resumed = make(config_factory(*three_epochs), tmp_path / "run", resumed_log)
    resumed.fit(resume_from=last)
    whole_log = EpochLog()  # the same 3 epochs, never interrupted
    make(config_factory(*three_epochs), tmp_path / "whole", whole_log).fit()
    assert resumed_log.rows == whole_log.rows  # restored exactly, then continued
    assert [row[0] for row in resumed_log.rows] == [1, 2, 3]


def test_two_stateful_callbacks_of_one_class_need_their_own_keys(config_factory, tmp_path):
    datamodule = build_datamodule(config_factory().data, seed=0)
    config = config_factory("trainer.epochs=1")
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    callbacks = [EpochLog(), EpochLog()]
    trainer = ClassificationTrainer(model, datamodule, config, tmp_path, callbacks=callbacks)
    with pytest.raises(ValueError, match="share the state_key 'EpochLog'"):
        trainer.fit()


@dataclass
class WideConfig(ModelConfig):
    width: int = at_least(1, 16)


@MODELS.register("wide_from_a_test", options=WideConfig)
class Wide(BaseModel):
    """No ``from_config``: the default passes ``model.width`` to ``__init__`` by name."""

    def __init__(self, input_shape, num_classes, width: int) -> None:
        super().__init__()
        size = 1
        for dim in input_shape:
            size *= dim
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(size, width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.net(x))


def test_a_model_with_its_own_options_trains_without_a_schema_edit(config_factory, tmp_path):
    config = config_factory("model.name=wide_from_a_test", "model.width=24")
    assert config.model.width == 24 and "hidden_sizes" not in config.model
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    assert model.head.in_features == 24
    trainer = ClassificationTrainer(model, datamodule, config, tmp_path / "run")
    metrics = trainer.fit()
    assert metrics["epoch"] == config.trainer.epochs
    # Its options are checked like any key: range, type, and keys of other models.
    for override, message in [
        ("model.width=0", "model.width=0 is not allowed"),
        ("model.width=wide", "invalid value for 'model.width'"),
        ("model.hidden_sizes=[8]", "unknown config key 'model.hidden_sizes'"),
    ]:
        with pytest.raises(ConfigError, match=message):
            config_factory("model.name=wide_from_a_test", override)


@MODELS.register("nan_when_testing_from_a_test", options=WideConfig)
class NanWhenTesting(Wide):
    """A user's model with a bug that shows only in eval mode: its outputs are NaN."""

    def forward(self, x):
        out = super().forward(x)
        return out if self.training else out * float("nan")


# train.main runs in this process; torchrun's @record cannot install its fault handler
# on pytest's captured stderr, and says so.
@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_train_py_refuses_nan_test_metrics_as_evaluate_py_does(fast_args, tmp_path, capsys):
    """One writer of test results: NaN test metrics end train.py with evaluate.py's error
    line (exit 1) instead of a test_metrics.json that is not valid JSON."""
    code = train.main([*fast_args, "model.name=nan_when_testing_from_a_test", "trainer.epochs=1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("error: the test metrics are not finite"), err
    assert "as JSON cannot hold NaN or inf" in err[-1]
    assert not (tmp_path / "run" / "test_metrics.json").exists()


class AsDicts:
    """A DataLoader whose batches are dicts, as a user's own data might give them."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        return ({"image": inputs, "label": targets} for inputs, targets in self.loader)


class DictTrainer(ClassificationTrainer):
    """Steps that read dict batches; moving and counting them is left to the defaults."""

    def training_step(self, batch, batch_idx):
        return super().training_step((batch["image"], batch["label"]), batch_idx)

    def validation_step(self, batch, batch_idx):
        return super().validation_step((batch["image"], batch["label"]), batch_idx)


def dict_run(config_factory, run_dir, epochs: int, resume=None):
    # A step schedule: the LR of an epoch does not depend on how many epochs there are.
    config = config_factory(
        f"trainer.epochs={epochs}", "lr_scheduler.name=step", "lr_scheduler.step_size=1"
    )
    registered = DATAMODULES.get(config.data.name)

    class DictData(registered):
        def train_dataloader(self, shuffle=None):
            return AsDicts(super().train_dataloader(shuffle))

        def val_dataloader(self):
            return AsDicts(super().val_dataloader())

    seed_everything(config.seed)
    datamodule = DictData(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    metrics = DictTrainer(model, datamodule, config, run_dir).fit(resume_from=resume)
    return model, metrics


def test_dict_batches_train_validate_and_resume_exactly(config_factory, tmp_path):
    """One batch path: the default transfer and batch-size hooks handle dict batches in
    training and validation alike, and a resumed run ends where an uninterrupted one does."""
    whole, whole_metrics = dict_run(config_factory, tmp_path / "whole", epochs=3)
    assert whole_metrics["epoch"] == 3 and 0 < whole_metrics["val_accuracy"] <= 1
    dict_run(config_factory, tmp_path / "part", epochs=2)
    last = tmp_path / "part" / "checkpoints" / "last.pt"
    resumed, resumed_metrics = dict_run(config_factory, tmp_path / "part", 3, resume=last)
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name
    assert resumed_metrics["val_loss"] == whole_metrics["val_loss"]
