"""``resume=auto`` in this process: which checkpoint of a run directory is the newest (by
the progress it holds, not by file time), and when a directory cannot be continued.
{%- if cookiecutter.profile == "full" %}
The torchrun side (every rank agreeing, restarts, SLURM) is in test_cluster.py.
{%- endif %}"""

import logging
import os
import time

import pytest
import torch

import train
from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.run import build_config
from {{cookiecutter.project_slug}}.saver import Progress, newest_checkpoint
from {{cookiecutter.project_slug}}.utils.errors import RunDirError

# train.main runs in this process; torchrun's @record cannot install its fault handler
# on pytest's captured stderr, and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Unable to enable fault handler")


@pytest.fixture(autouse=True)
def _own_logging():
    """train.main points the root logger at this test's captured stdout and train.log;
    later tests in this process must not log into those closed streams."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    for handler in before:
        if handler not in root.handlers:
            root.addHandler(handler)


def write(path, epoch: int, batch: int, step: int, age: float = 0.0):
    """A file with the keys resume=auto reads, saved with torch.save like a checkpoint;
    ``age`` seconds old."""
    progress = {"epoch": epoch, "global_step": step, "batch_in_epoch": batch}
    state = {"model": {}, "optimizer": {}, "rng": {}, "config": {}, "trainer": progress}
    torch.save(state, path)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_newest_is_by_progress_not_file_time(tmp_path):
    write(tmp_path / "epoch=001.pt", 1, 0, 8)
    write(tmp_path / "epoch=002.pt", 2, 0, 16, age=50)
    write(tmp_path / "last.pt", 2, 3, 19, age=100)  # the oldest file, the furthest state
    write(tmp_path / "best.pt", 1, 0, 8)
    truncated = tmp_path / "copy.pt"
    truncated.write_bytes((tmp_path / "last.pt").read_bytes()[:200])
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    assert newest_checkpoint(tmp_path) == (tmp_path / "last.pt", Progress(2, 3, 19))

    (tmp_path / "last.pt").unlink()
    assert newest_checkpoint(tmp_path) == (tmp_path / "epoch=002.pt", Progress(2, 0, 16))


def test_equal_progress_prefers_last_pt(tmp_path):
    for name in ("best.pt", "epoch=002-val_loss=0.1000.pt", "last.pt", "zz.pt"):
        write(tmp_path / name, 2, 0, 16)
    assert newest_checkpoint(tmp_path)[0] == tmp_path / "last.pt"


def test_one_checkpoint_or_none(tmp_path):
    assert newest_checkpoint(tmp_path / "missing") is None
    assert newest_checkpoint(tmp_path) is None
    write(tmp_path / "best.pt", 1, 0, 8)
    assert newest_checkpoint(tmp_path) == (tmp_path / "best.pt", Progress(1, 0, 8))


def test_resume_auto_needs_an_output_dir_and_no_overwrite(fast_args):
    without_dir = [arg for arg in fast_args if not arg.startswith("output_dir=")]
    with pytest.raises(ConfigError, match="resume=auto continues the run in output_dir"):
        build_config([*without_dir, "resume=auto"])
    with pytest.raises(ConfigError, match="choose one"):
        build_config([*fast_args, "resume=auto", "overwrite=true"])


def test_resume_auto_refuses_to_redo_results_without_checkpoints(tmp_path, fast_args):
    """Finished epochs and no checkpoint (checkpoints off, or deleted): starting over
    would lose them, so the run directory is refused, not silently restarted."""
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "metrics.csv").write_text("epoch,train_loss\n1,0.5\n2,0.4\n")
    with pytest.raises(RunDirError, match=r"2 epoch\(s\) in metrics.csv.*overwrite=true"):
        build_config([*fast_args, "resume=auto"])


def test_resume_auto_restarts_a_run_stopped_before_its_first_checkpoint(
    tmp_path, fast_args, capsys
):
    """What a job preempted in its first epoch leaves: config, log, no checkpoint, no
    finished epoch. resume=auto starts the run anew in that directory."""
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text("seed: 42\n")
    (run_dir / "metrics.csv").write_text("epoch,train_loss\n")  # header only
    args = [*fast_args, "resume=auto", "trainer.limit_train_batches=2"]
    assert train.main(args) == 0
    out = capsys.readouterr().out
    assert f"no checkpoint in {run_dir / 'checkpoints'}; starting a new run" in out
    assert [row["epoch"] for row in read_metrics(run_dir / "metrics.csv")[0]] == ["1", "2"]

    # The same command again continues from the finished run's last.pt (nothing to do).
    assert train.main(args) == 0
    assert f"continuing from {run_dir / 'checkpoints' / 'last.pt'} (epoch 2 done" in (
        capsys.readouterr().out
    )
    assert [row["epoch"] for row in read_metrics(run_dir / "metrics.csv")[0]] == ["1", "2"]
