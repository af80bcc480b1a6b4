"""Exact resume: kill train.py with SIGKILL at chosen points (and once from outside),
resume from last.pt, and get the same weights and metrics.csv as a run that was never
interrupted (CPU)."""

import math
import signal

import pytest

from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import run_script
from .resume_tools import (
    RESUME_ARGS,
    assert_same_run,
    run_killed,
    start_paused,
    write_killer,
)


def killed_at_step_7(tmp_path, fast_args):
    """train.py with ``RESUME_ARGS`` SIGKILLed right after optimizer step 7, one step after
    the mid-epoch checkpoint of step 6. Returns (killer, run_dir, last.pt, args)."""
    killer = write_killer(tmp_path)
    run_dir = tmp_path / "run"
    last = run_dir / "checkpoints" / "last.pt"
    args = [*fast_args, *RESUME_ARGS]
    run_killed(killer, "step:7", args)
    state = load_checkpoint(last)["trainer"]
    assert (state["epoch"], state["global_step"], state["batch_in_epoch"]) == (0, 6, 6)
    return killer, run_dir, last, args


def test_sigkill_mid_epoch_then_resume_is_exact(tmp_path, fast_args, reference_run):
    """The quick suite's exact resume: killed one step after the mid-epoch checkpoint
    of step 6 (so step 7 is lost and redone), resumed to the end, same as never killed."""
    _, run_dir, last, args = killed_at_step_7(tmp_path, fast_args)
    done = run_script("train.py", *args, f"resume={last}")
    assert done.returncode == 0, done.stderr
    assert_same_run(reference_run, run_dir)
    assert load_checkpoint(last)["trainer"]["global_step"] == 24


# Several real train.py subprocesses each: run with pytest -m slow.
@pytest.mark.slow
def test_sigkill_at_every_kill_point_then_resume_is_exact(tmp_path, fast_args, reference_run):
    # 1. Mid-epoch, one step after the mid-epoch checkpoint at step 6: step 7 is lost.
    killer, run_dir, last, args = killed_at_step_7(tmp_path, fast_args)
    assert not (run_dir / "metrics.csv").exists() or not read_metrics(run_dir / "metrics.csv")[0]

    # 2. During a checkpoint write: best.pt's temp file is on disk, the rename never
    #    happens. Epoch 1's metrics row is already in metrics.csv; last.pt is still step 6.
    run_killed(killer, "replace:best.pt:1", [*args, f"resume={last}"])
    assert load_checkpoint(last)["trainer"]["global_step"] == 6
    assert [row["epoch"] for row in read_metrics(run_dir / "metrics.csv")[0]] == ["1"]
    assert list(last.parent.glob(".*.tmp")), "the kill should have left best.pt's temp file"

    # 3. Right after epoch 2's checkpoints (resuming mid-epoch 1 again, from step 6).
    run_killed(killer, "epoch_end:2", [*args, f"resume={last}"])
    assert load_checkpoint(last)["trainer"]["epoch"] == 2

    # 4. From the epoch boundary to the end.
    done = run_script("train.py", *args, f"resume={last}")
    assert done.returncode == 0, done.stderr

    assert_same_run(reference_run, run_dir)
    assert load_checkpoint(last)["trainer"]["global_step"] == 24
    assert not list(last.parent.glob(".*.tmp")), "resume should clear stale temp files"
    # train.log is appended by every process, not rewritten.
    assert (run_dir / "train.log").read_text().count("resumed from") == 3


@pytest.mark.slow
def test_external_kill_9_mid_run_then_resume_from_another_cwd_is_exact(
    tmp_path, fast_args, reference_run
):
    """A real ``kill -9`` from outside (while train.py waits after step 7, one step past
    the mid-epoch checkpoint of step 6); the run used a relative output_dir and is resumed
    from another cwd."""
    start_cwd, other_cwd = tmp_path / "a", tmp_path / "b"
    start_cwd.mkdir()
    other_cwd.mkdir()
    args = [arg for arg in fast_args if not arg.startswith("output_dir=")]
    args = [*args, *RESUME_ARGS, "output_dir=run"]  # relative to start_cwd
    run_dir = start_cwd / "run"
    proc = start_paused(write_killer(tmp_path), 7, args, cwd=start_cwd)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    resume = (run_dir / "checkpoints" / "last.pt").resolve()
    done = run_script("train.py", f"resume={resume}", cwd=other_cwd)
    assert done.returncode == 0, done.stderr
    assert not (other_cwd / "run").exists(), "resume must continue the checkpoint's own run dir"
    assert_same_run(reference_run, run_dir)


@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_extending_a_finished_cosine_run_continues_on_the_longer_schedule(tmp_path, fast_args):
    """A 2-epoch cosine run (its lr reaches 0 at the end) resumed with trainer.epochs=4:
    the restored schedule would train epoch 3 at lr 0 and then climb back. Instead
    epochs 3 and 4 train at the lr a run started with trainer.epochs=4 has there (the
    cosine formula over 4 epochs), and train.log says which schedule it follows."""
    import train

    run_dir = tmp_path / "run"
    cosine = ["lr_scheduler.name=cosine", "trainer.limit_train_batches=2"]
    assert train.main([*fast_args, *cosine, "trainer.epochs=2"]) == 0
    last = run_dir / "checkpoints" / "last.pt"
    lr = load_checkpoint(last)["config"]["optimizer"]["lr"]
    assert train.main([f"resume={last}", "trainer.epochs=4"]) == 0

    rows, _ = read_metrics(run_dir / "metrics.csv")
    logged = [float(row["lr"]) for row in rows]
    planned = [lr * (1 + math.cos(math.pi * epoch / 4)) / 2 for epoch in range(4)]
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3, 4]
    assert min(logged[2:]) > 0  # no epoch of the extension trains at lr 0
    assert logged[2:] == pytest.approx(planned[2:])
    note = "cosine was planned for trainer.epochs=2; this run has trainer.epochs=4"
    assert (run_dir / "train.log").read_text().count(note) == 1
