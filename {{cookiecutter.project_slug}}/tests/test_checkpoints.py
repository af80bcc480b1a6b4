"""Checkpoints are safe to write (atomic), safe to read (weights_only, clear errors,
pickled code refused) and kept by {% if cookiecutter.profile == "full" %}an independent best / top-k / last / periodic policy{% else %}a best / last policy{% endif %}."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import DictConfig, ListConfig

from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger import build_loggers, read_metrics
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.saver import (
    CheckpointError,
    CheckpointManager,
    load_checkpoint,
)
from {{cookiecutter.project_slug}}.saver.checkpoint import serialize, write_atomic
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.trainer.kept_checkpoints import EveryNEpochs, TopK
{%- endif %}

from .conftest import PROJECT_ROOT, run_script

PLAIN = (type(None), bool, int, float, str, torch.Tensor)


def assert_plain(value, where: str = "checkpoint") -> None:
    """Only tensors, plain scalars/strings and dict/list containers, all the way down."""
    assert not isinstance(value, np.ndarray | np.generic | DictConfig | ListConfig), where
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str | int), f"{where}: key {key!r}"
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    else:
        assert type(value) in PLAIN, f"{where} is a {type(value).__name__}"


@pytest.fixture
def trained_run(config_factory) -> Path:
    """Four short epochs in-process{% if cookiecutter.profile == "full" %}: top-2 by val_loss, periodic every 3 epochs{% endif %}."""
    config = config_factory(
        "trainer.epochs=4",
        "trainer.limit_train_batches=4",
        "trainer.early_stopping.enabled=false",
{%- if cookiecutter.profile == "full" %}
        "trainer.checkpoint.save_top_k=2",
        "trainer.checkpoint.every_n_epochs=3",
{%- endif %}
    )
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    run_dir = Path(config.output_dir)
    run_dir.mkdir(parents=True)
    loggers = build_loggers(config, run_dir)
    trainer = ClassificationTrainer(model, datamodule, config, run_dir)
    trainer.loggers = loggers
    trainer.fit()
    return run_dir


def test_policy_files_match_metrics_csv(trained_run):
    checkpoints = trained_run / "checkpoints"
    rows, _ = read_metrics(trained_run / "metrics.csv")
    by_loss = sorted(rows, key=lambda row: float(row["val_loss"]))
    best_epoch = int(by_loss[0]["epoch"])
{%- if cookiecutter.profile == "full" %}
    top2 = {int(row["epoch"]) for row in by_loss[:2]}
{%- endif %}

    assert load_checkpoint(checkpoints / "best.pt")["trainer"]["epoch"] == best_epoch
    assert load_checkpoint(checkpoints / "last.pt")["trainer"]["epoch"] == 4
{%- if cookiecutter.profile == "full" %}
    assert load_checkpoint(checkpoints / "epoch=003.pt")["trainer"]["epoch"] == 3
    top_k = sorted(checkpoints.glob("epoch=*-val_loss=*.pt"))
    assert {int(p.name[6:9]) for p in top_k} == top2  # older top-k files were removed
    names = {p.name for p in checkpoints.iterdir()}
    assert names == {"best.pt", "last.pt", "epoch=003.pt", *(p.name for p in top_k)}
{%- else %}
    assert {p.name for p in checkpoints.iterdir()} == {"best.pt", "last.pt"}
{%- endif %}


def test_checkpoint_is_tensors_and_plain_types_only(trained_run):
    for path in (trained_run / "checkpoints").glob("*.pt"):
        state = torch.load(path, map_location="cpu", weights_only=True)
        assert_plain(state, path.name)
        assert isinstance(state["config"], dict)
        for key in ("model", "optimizer", "lr_scheduler",{% if cookiecutter.profile == "full" %} "grad_scaler",{% endif %} "trainer", "rng"):
            assert key in state, f"{path.name} lacks {key}"


{%- if cookiecutter.profile == "full" %}


def test_manager_policies_are_independent(tmp_path):
    """Scores 0.5, 0.3, 0.4, 0.2, 0.6 (min): best follows the monitor, not the
    periodic epochs; top-2 keeps the two lowest and deletes the rest."""
    policies = [TopK(tmp_path, "val_loss", "min", k=2), EveryNEpochs(tmp_path, every=2)]
    manager = CheckpointManager(tmp_path, "val_loss", "min", policies=policies)
{%- else %}


def test_manager_keeps_the_best_and_the_last(tmp_path):
    """Scores 0.5, 0.3, 0.4, 0.2, 0.6 (min): best.pt follows the monitor, last.pt every
    epoch, and nothing else is written."""
    manager = CheckpointManager(tmp_path, "val_loss", "min")
{%- endif %}
    best_epochs = []
    for epoch, score in enumerate([0.5, 0.3, 0.4, 0.2, 0.6], start=1):
        manager.write({"epoch": epoch}, manager.plan({"epoch": epoch, "val_loss": score}))
        best_epochs.append(load_checkpoint(manager.best_path)["epoch"])
    assert best_epochs == [1, 2, 2, 4, 4]
{%- if cookiecutter.profile == "full" %}
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == [
        "best.pt",
        "epoch=002-val_loss=0.3000.pt",
        "epoch=002.pt",
        "epoch=004-val_loss=0.2000.pt",
        "epoch=004.pt",
        "last.pt",
    ]
{%- else %}
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["best.pt", "last.pt"]
{%- endif %}
    assert load_checkpoint(manager.last_path)["epoch"] == 5
    assert not list(tmp_path.glob(".*.tmp")), "normal writes leave no temp files"


KILL_DURING_WRITE = """\
import os, signal, sys
from pathlib import Path
from {{cookiecutter.project_slug}}.saver.checkpoint import serialize, write_atomic
import torch
path = Path(sys.argv[1])
write_atomic(serialize({"version": torch.tensor(1)}), path)
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # die before the rename
write_atomic(serialize({"version": torch.tensor(2)}), path)
"""


def test_sigkill_during_a_write_leaves_the_previous_file_loadable(tmp_path):
    path = tmp_path / "last.pt"
    proc = subprocess.run(
        [sys.executable, "-c", KILL_DURING_WRITE, str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert int(load_checkpoint(path)["version"]) == 1
    leftovers = list(tmp_path.glob(".last.pt.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the new data, unrenamed


def _checkpoint_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A run's checkpoints/ with a good ``epoch=001.pt`` (older) next to ``last.pt``."""
    checkpoints = tmp_path / "run" / "checkpoints"
    good = write_atomic(serialize({"model": {"w": torch.ones(3)}}), checkpoints / "epoch=001.pt")
    os.utime(good, (1, 1))
    return checkpoints, good


def _cli(script: str, checkpoint: Path, data_root: Path):
    key = "checkpoint" if script == "evaluate.py" else "resume"
    return run_script(script, f"{key}={checkpoint}", f"data.root={data_root}")


@pytest.mark.parametrize("script", ["evaluate.py", "train.py"])
def test_truncated_checkpoint_is_a_clear_one_line_error(tmp_path, data_root, script):
    checkpoints, good = _checkpoint_dir(tmp_path)
    data = (checkpoints / "epoch=001.pt").read_bytes()
    last = checkpoints / "last.pt"
    last.write_bytes(data[: len(data) // 2])

    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(last)
    proc = _cli(script, last, data_root)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert str(last) in message and "truncated or corrupt" in message
    assert str(good) in message  # the previous good checkpoint


class Payload:
    """Unpickling this runs ``touch <marker>``: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("script", ["evaluate.py", "train.py"])
def test_pickled_code_is_refused_and_never_runs(tmp_path, data_root, script):
    checkpoints, _ = _checkpoint_dir(tmp_path)
    marker = tmp_path / "payload_ran"
    evil = checkpoints / "last.pt"
    torch.save({"model": {}, "config": {}, "trainer": Payload(marker)}, evil)

    proc = _cli(script, evil, data_root)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "refused to load" in proc.stderr and str(evil) in proc.stderr
    assert not marker.exists(), "the payload ran"

    # The file really is armed: an unsafe load would have run it.
    torch.load(evil, weights_only=False)
    assert marker.exists()
