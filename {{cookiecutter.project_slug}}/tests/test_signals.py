"""SIGINT/SIGTERM stop cleanly (finish the step, save last.pt, say how to resume) and the
resumed run is exact; a second Ctrl-C quits at once; a non-finite loss stops the run
(naming the step) without overwriting good checkpoints, or is skipped by config."""

import math
import os
import signal

import pytest
import torch

from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import {% if cookiecutter.profile == "full" %}PROJECT_ROOT, {% endif %}run_script
from .resume_tools import (
    RESUME_ARGS,
    assert_same_run,
    run_wrapped,
    start_paused,
    write_killer,
)

# Several real train.py subprocesses each: run in the default bake's full suite.
pytestmark = pytest.mark.slow


def _stop_with(tmp_path, args: list[str], step: int, signum: int) -> None:
    """Run train.py until it pauses after optimizer ``step`` (mid-epoch), send ``signum``;
    check the clean stop and that last.pt holds that step or a later one."""
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    proc = start_paused(write_killer(tmp_path), step, args)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stderr
    assert f"resume with: python train.py resume={last}" in stderr
    assert "Traceback" not in stderr
    saved = load_checkpoint(last)["trainer"]
    assert saved["global_step"] >= step and saved["batch_in_epoch"] > 0


def test_sigint_then_sigterm_then_resume_is_exact(tmp_path, fast_args, reference_run):
    run_dir = tmp_path / "run"
    last = run_dir / "checkpoints" / "last.pt"
    args = [*fast_args, *RESUME_ARGS]

    _stop_with(tmp_path, args, 3, signal.SIGINT)  # epoch 1, batch 3
    _stop_with(tmp_path, [*args, f"resume={last}"], 10, signal.SIGTERM)  # epoch 2, batch 2
    done = run_script("train.py", *args, f"resume={last}")
    assert done.returncode == 0, done.stderr
    assert_same_run(reference_run, run_dir)
{%- if cookiecutter.profile == "full" %}


# train.py with a USR1 sent to itself while it builds the data (before the trainer
# exists): as when SLURM's time-limit signal comes during start-up.
EARLY_USR1 = """\
import os, runpy, signal, sys
sys.path.insert(0, PROJECT_ROOT)
import {{cookiecutter.project_slug}}.data as data

build = data.build_datamodule


def build_datamodule(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGUSR1)
    return build(*args, **kwargs)


data.build_datamodule = build_datamodule
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on Windows")
def test_usr1_during_start_up_stops_after_the_first_step(tmp_path, fast_args):
    """USR1's default action kills: arriving before the trainer's handlers it killed the
    run (under SLURM: the job ended without a requeue). Now it is kept for the trainer,
    which saves last.pt after its first step and stops."""
    wrapper = tmp_path / "early_usr1.py"
    wrapper.write_text(EARLY_USR1.replace("PROJECT_ROOT", repr(str(PROJECT_ROOT))))
    done = run_script(str(wrapper), str(PROJECT_ROOT / "train.py"), *fast_args)
    assert done.returncode == 128 + signal.SIGUSR1, done.stderr[-3000:]
    assert "SIGUSR1 received while starting" in done.stderr, done.stderr[-3000:]
    saved = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["trainer"]
    assert (saved["global_step"], saved["batch_in_epoch"]) == (1, 1)
{%- endif %}


def test_second_sigint_quits_at_once(tmp_path, fast_args):
    """The wrapper makes the step after the first SIGINT hang; only the second one ends it."""
    args = [*fast_args, *RESUME_ARGS]
    proc = start_paused(write_killer(tmp_path), 3, args, points="stall:0")
    proc.send_signal(signal.SIGINT)
    for line in proc.stdout:  # wait until the first signal is being handled
        if "stalling" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in stderr and "resume with" not in stderr
    assert "Traceback" not in stderr


def _finite(state: dict) -> bool:
    return all(torch.isfinite(t).all() for t in state["model"].values())


def test_nonfinite_loss_stops_naming_the_step_and_keeps_good_checkpoints(tmp_path, fast_args):
    # Step 13 = epoch 2, batch 5; last.pt was saved at step 12, best.pt at epoch 1.
    args = [*fast_args, *RESUME_ARGS, "trainer.log_every_n_steps=1"]
    proc = run_wrapped(write_killer(tmp_path), "nan:13", args)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "training loss became nan" in proc.stderr and "optimizer step 13" in proc.stderr
    checkpoints = tmp_path / "run" / "checkpoints"
    last, best = load_checkpoint(checkpoints / "last.pt"), load_checkpoint(checkpoints / "best.pt")
    assert last["trainer"]["global_step"] == 12 and _finite(last)
    assert best["trainer"]["epoch"] == 1 and _finite(best)
    assert [row["epoch"] for row in read_metrics(tmp_path / "run" / "metrics.csv")[0]] == ["1"]


def test_nonfinite_loss_skip_skips_the_batch(tmp_path, fast_args):
    args = [*fast_args, *RESUME_ARGS, "trainer.nonfinite_loss=skip"]
    proc = run_wrapped(write_killer(tmp_path), "nan:13", args)
    assert proc.returncode == 0, proc.stderr
    assert "skipping batch 4 of epoch 2: loss is nan" in proc.stdout
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert last["trainer"]["global_step"] == 23  # one of 24 steps skipped
    assert _finite(last)
    rows, _ = read_metrics(tmp_path / "run" / "metrics.csv")
    assert len(rows) == 3 and all(math.isfinite(float(row["train_loss"])) for row in rows)


def test_ctrl_c_with_dataloader_workers_warns_once(tmp_path, fast_args):
    """A terminal's Ctrl-C reaches the whole process group, DataLoader workers included:
    only the training process reacts (one warning, one resume line)."""
    args = [*fast_args, *RESUME_ARGS, "data.num_workers=2"]
    # start_new_session: its own process group, as a terminal's foreground job
    proc = start_paused(write_killer(tmp_path), 3, args, start_new_session=True)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert (stdout + stderr).count("SIGINT received") == 1, stdout[-2000:] + stderr
    assert stderr.count("resume with:") == 1 and "Traceback" not in stderr
