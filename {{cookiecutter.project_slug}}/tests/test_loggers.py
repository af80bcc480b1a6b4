"""Loggers: console + train.log + metrics.csv always, backends behind one interface, and
no TensorBoard or W&B code at all unless the project was generated with it."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
{%- if cookiecutter.profile == "full" %}
import torch
{%- endif %}

import train
from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.config.checks import TRACKER
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger import BaseLogger, build_loggers, read_metrics
from {{cookiecutter.project_slug}}.logger.curves import curves_figure
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.logger.tracker_hooks import TrackerHooks
{%- endif %}
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

from .conftest import PROJECT_ROOT
from .guard_tools import main_error_line

PACKAGE = PROJECT_ROOT / "{{cookiecutter.project_slug}}"
TRACKER_IMPORT = re.compile(
    r"^\s*(import|from)\s+(tensorboard|wandb|mlflow|tensorboardX|torch\.utils\.tensorboard)\b",
    re.M,
)

SHORT = ["trainer.limit_train_batches=3", "trainer.limit_val_batches=2"]

# Imports the logger package, trains in this process, and reports which trackers got loaded.
PROBE = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import {{cookiecutter.project_slug}}.logger
import train
code = train.main(sys.argv[2:])
print(json.dumps({"code": code, "loaded": sorted(
    name for name in ("tensorboard", "wandb", "mlflow", "torch.utils.tensorboard")
    if name in sys.modules
)}))
"""


class RecordingLogger({% if cookiecutter.profile == "full" %}TrackerHooks{% else %}BaseLogger{% endif %}):
    """A user's own backend: records every call it receives."""
{%- if cookiecutter.profile == "full" %}

    wants_predictions = True
{%- endif %}

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def log_hyperparams(self, params):
        self.calls.append(("hyperparams", params))

    def log_metrics(self, metrics, step):
        self.calls.append(("metrics", dict(metrics), step))

    def log_epoch(self, epoch, metrics, step):
        self.calls.append(("epoch", epoch, dict(metrics), step))
{%- if cookiecutter.profile == "full" %}

    def log_model(self, model, example_input):
        model(example_input)  # as graph tracing does: must not move BatchNorm stats or the RNG
        self.calls.append(("model", tuple(example_input.shape), model.training))

    def log_histograms(self, model, epoch):
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        has_grads = all(g is not None and bool(g.abs().sum() > 0) for g in grads)
        self.calls.append(("histograms", epoch, has_grads))

    def log_predictions(self, images, predictions, targets, classes, epoch):
        self.calls.append(("predictions", epoch, len(images), len(predictions), len(classes)))
{%- endif %}

    def named(self, kind: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == kind]


def make_trainer(config, run_dir: Path, extra: BaseLogger) -> ClassificationTrainer:
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    trainer = ClassificationTrainer(model, datamodule, config, run_dir)
    trainer.loggers = build_loggers(config, run_dir)
    trainer.loggers.loggers.append(extra)  # composable: one more backend, no trainer change
    return trainer


def test_console_train_log_and_csv_with_no_tracker_imported(fast_args, tmp_path):
    """A real training run in a fresh interpreter: per-epoch lines on stdout and in
    train.log, one metrics.csv row per epoch, and neither tracker ever imported."""
    run_dir = tmp_path / "run"
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(PROJECT_ROOT), *fast_args, *SHORT],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": []}
    for text in (probe.stdout, (run_dir / "train.log").read_text()):
        assert "epoch 1/2 | train_loss" in text and "epoch 2/2 | train_loss" in text
    rows, columns = read_metrics(run_dir / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(columns)
{%- if cookiecutter.profile == "full" %}


def test_only_rank_0_logs(config_factory, tmp_path, monkeypatch):
    """Under torchrun (RANK > 0 in the environment) a process prints warnings only,
    writes no train.log and gets no loggers: rank 0 writes each line and file once."""
    import logging

    from {{cookiecutter.project_slug}}.logger import setup_logging

    monkeypatch.setenv("RANK", "1")
    setup_logging(tmp_path)
    try:
        assert logging.getLogger().level == logging.WARNING
        assert not (tmp_path / "train.log").exists()
    finally:
        setup_logging(None)
    assert build_loggers(config_factory(), tmp_path).loggers == []
{%- endif %}


def test_generated_without_a_tracker_means_no_tracker_code():
    """Source text: only the chosen tracker's module exists, and nothing else imports one."""
    sources = [*PACKAGE.rglob("*.py"), *PROJECT_ROOT.glob("*.py")]
    importers = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in sources
        if TRACKER_IMPORT.search(path.read_text(encoding="utf-8"))
    }
    expected = {
        "tensorboard": {"{{cookiecutter.project_slug}}/logger/tensorboard.py"},
        "wandb": {"{{cookiecutter.project_slug}}/logger/wandb.py"},
        "mlflow": {"{{cookiecutter.project_slug}}/logger/mlflow.py"},
        "none": set(),
    }[TRACKER]
    assert importers == expected
    assert (PACKAGE / "logger" / "tensorboard.py").exists() == (TRACKER == "tensorboard")
    assert (PACKAGE / "logger" / "wandb.py").exists() == (TRACKER == "wandb")
    assert (PACKAGE / "logger" / "mlflow.py").exists() == (TRACKER == "mlflow")
    dependencies = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert ('"tensorboard' in dependencies) == (TRACKER == "tensorboard")
    assert ('"wandb' in dependencies) == (TRACKER == "wandb")
    assert ('"mlflow' in dependencies) == (TRACKER == "mlflow")


@pytest.mark.parametrize("tracker", ["tensorboard"{% if cookiecutter.profile == "full" %}, "wandb", "mlflow"{% endif %}])
def test_a_tracker_the_project_lacks_is_a_config_error(config_factory, tracker):
    if tracker == TRACKER:
        pytest.skip(f"this project was generated with logger={tracker}")
    with pytest.raises(ConfigError, match=f"logger.{tracker}=true.*logger={TRACKER}"):
        config_factory(f"logger.{tracker}=true")


@pytest.mark.parametrize("value", ["mlflow", "tensorbord", "tensorboard", "none"])
@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_logger_given_a_tracker_name_says_which_trackers_this_project_has(
    tmp_path, capsys, fast_args, value
):
    """``logger=<name>`` (the cookiecutter question's spelling) on the command line: one
    line naming this project's trackers and the switch that chooses one, exit 2."""
    trackers = ", ".join(dict.fromkeys([TRACKER, "none"]))
    expected = f"logger={value}: this project has trackers {trackers}"
    main_error_line(train.main, [*fast_args, f"logger={value}"], capsys, 2, expected)
    assert not (tmp_path / "run").exists()


def test_a_custom_logger_receives_every_hook(config_factory, tmp_path):
{%- if cookiecutter.profile == "full" %}
    """Added to the collection, a user's logger gets the config and graph input once, each
    epoch's metrics, histograms while gradients still exist, and prediction samples
    at the first epoch, every ``images_every_n_epochs`` epochs and at the last."""
{%- else %}
    """Added to the collection, a user's logger gets the config once, each epoch's
    metrics and the per-step loss every ``log_every_n_steps`` steps."""
{%- endif %}
    config = config_factory(
        "trainer.log_every_n_steps=2",
{%- if cookiecutter.profile == "full" %}
        "logger.histogram_every_n_epochs=2",
        "logger.images_every_n_epochs=3",
{%- endif %}
        "trainer.epochs=4",
        "trainer.limit_train_batches=5",
        "trainer.early_stopping.enabled=false",
    )
    recorder = RecordingLogger()
    trainer = make_trainer(config, tmp_path / "run", recorder)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    trainer.fit()

    [(_, params)] = recorder.named("hyperparams")
    assert params["optimizer"]["lr"] == config.optimizer.lr
{%- if cookiecutter.profile == "full" %}
    [(_, input_shape, training)] = recorder.named("model")
    assert input_shape == (1, *trainer.datamodule.input_shape) and training is False
{%- endif %}
    epochs = recorder.named("epoch")
    assert [call[1] for call in epochs] == [1, 2, 3, 4]
    assert epochs[-1][3] == trainer.state.global_step
    assert {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(epochs[-1][2])
    steps = [call[2] for call in recorder.named("metrics")]
    assert steps == list(range(2, trainer.state.global_step + 1, 2))
{%- if cookiecutter.profile == "full" %}
    assert recorder.named("histograms") == [("histograms", 2, True), ("histograms", 4, True)]
    count = min(16, len(trainer.datamodule.val_set))
    assert recorder.named("predictions") == [
        ("predictions", epoch, count, count, trainer.datamodule.num_classes) for epoch in (1, 3, 4)
    ]


def test_early_stopped_run_still_logs_its_final_predictions(config_factory, tmp_path):
    """The grid is drawn on the epoch early stopping ends, not only every N epochs."""
    config = config_factory(
        "trainer.epochs=10",
        "trainer.limit_train_batches=2",
        "logger.images_every_n_epochs=5",
        "trainer.early_stopping.patience=2",
        "trainer.early_stopping.min_delta=1e9",  # no epoch after the first counts as better
    )
    recorder = RecordingLogger()
    trainer = make_trainer(config, tmp_path / "run", recorder)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    trainer.fit()
    assert trainer.state.epoch == 3 and trainer.state.should_stop
    assert [call[1] for call in recorder.named("predictions")] == [1, 3]
{%- endif %}


def test_resumed_run_does_not_log_config_{% if cookiecutter.profile == "full" %}or_graph_{% endif %}again(config_factory, tmp_path):
    config = config_factory("trainer.epochs=1")
    first = make_trainer(config, tmp_path / "run", RecordingLogger())
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    first.fit()
    config = config_factory("trainer.epochs=2")
    recorder = RecordingLogger()
    make_trainer(config, tmp_path / "run", recorder).fit(
        resume_from=tmp_path / "run" / "checkpoints" / "last.pt"
    )
    assert recorder.named("hyperparams") == []{% if cookiecutter.profile == "full" %} and recorder.named("model") == []{% endif %}
    assert [call[1] for call in recorder.named("epoch")] == [2]
{%- if cookiecutter.profile == "full" %}


def test_logging_leaves_training_unchanged(config_factory, tmp_path):
    """Graph tracing, prediction grids and histograms run in eval mode or after the step
    and never touch the RNG: with dropout and batch norm, losses match exactly."""
    overrides = (
        "model.name=cnn",
        "model.channels=[4,8]",
        "model.dropout=0.3",
        "trainer.limit_train_batches=4",
        "logger.histogram_every_n_epochs=1",
    )
    losses = []
    for name, extra in (("plain", None), ("logged", RecordingLogger())):
        config = config_factory(*overrides, f"output_dir={tmp_path / name}")
        torch.manual_seed(0)
        trainer = make_trainer(config, tmp_path / name, extra or BaseLoggerStub())
        (tmp_path / name / "checkpoints").mkdir(parents=True)
        metrics = trainer.fit()
        losses.append((metrics["train_loss"], metrics["val_loss"]))
    assert losses[0] == losses[1]


class BaseLoggerStub(BaseLogger):
    """Receives nothing optional: the baseline for the comparison above."""

    def log_metrics(self, metrics, step):
        pass
{%- endif %}
{%- if cookiecutter.logger != "none" and cookiecutter.profile == "full" %}


def test_prediction_grid_captions_any_class_name():
    """The grid is RGB pixels with a caption per image; a class name with a newline or a
    tab, a non-Latin one or a very long one still gives one caption line per label."""
    from {{cookiecutter.project_slug}}.logger.figures import CELL, prediction_grid

    names = ["cat", "line\nbreak\tand tab", "고양이", "a" * 200]
    images = torch.rand(5, 1, 8, 8)  # tiny digits-like images, scaled up to CELL
    grid = prediction_grid(
        images, torch.tensor([0, 1, 2, 3, 0]), torch.tensor([0, 1, 1, 3, 2]), names
    )
    assert grid.dtype.name == "uint8" and grid.ndim == 3 and grid.shape[2] == 3
    assert grid.shape[1] > 5 * CELL  # one row of five images, each CELL pixels wide
    assert (grid[..., 0] != grid[..., 1]).any()  # coloured captions on the gray images
{%- endif %}


def test_curves_draw_train_and_val_accuracy(script_run):
    """The README promises train and validation curves: every epoch's train accuracy is
    computed (trainer.train_metrics, on by default) and drawn beside val's."""
    rows, fieldnames = read_metrics(script_run / "metrics.csv")
    assert {"train_accuracy", "val_accuracy", "train_loss", "val_loss"} <= set(fieldnames)
    figure = curves_figure(rows, fieldnames)
    panels = {axis.get_title(): axis for axis in figure.axes}
    for quantity in ("loss", "accuracy"):
        lines = panels[quantity].get_lines()
        assert [line.get_label() for line in lines] == ["train", "val"], quantity
        assert [list(line.get_ydata()) for line in lines] == [
            [float(row[f"{split}_{quantity}"]) for row in rows] for split in ("train", "val")
        ]
