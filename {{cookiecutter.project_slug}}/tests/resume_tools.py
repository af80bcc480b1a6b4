"""Shared by the kill/resume and signal tests: a small config where RNG and mid-epoch
checkpoints matter, a wrapper that SIGKILLs ``train.py`` at an exact point, and a
comparison of two run directories.

The wrapper lives here (written into the test's tmp dir), not in the product: it
monkeypatches the trainer or ``os.replace`` and then runs ``train.py`` unchanged.
"""

import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import PROJECT_ROOT, script_env

# 3 epochs x 8 batches = 24 optimizer steps; last.pt mid-epoch at steps 3, 6, 9, ...;
# dropout so the torch RNG state matters, no early stopping so every run is 3 epochs.
RESUME_ARGS = [
    "trainer.epochs=3",
    "data.batch_size=32",
    "trainer.limit_train_batches=8",
    "model.dropout=0.3",
    "trainer.checkpoint.every_n_steps=3",
{%- if cookiecutter.profile == "full" %}
    "trainer.checkpoint.save_top_k=2",
{%- endif %}
    "trainer.early_stopping.enabled=false",
    "lr_scheduler.name=cosine",
    "trainer.train_metrics=true",  # mid-epoch checkpoints then hold several running sums
    # and a metric that is not a mean of per-sample values: its state must be resumed
    "metrics=[accuracy, {name: f1, average: macro}]",
]
TIMING_COLUMNS = {"epoch_time"}

KILLER = """\
import os, runpy, signal, sys, time

points = sys.argv[1]  # one or more "point:value", comma-separated
train_py = sys.argv[2]
sys.argv = [train_py, *sys.argv[3:]]
sys.path.insert(0, os.path.dirname(train_py))

from {{cookiecutter.project_slug}}.trainer import base


def may_die():
    return True  # a wrapper's extra rules (write_killer's ``extra``) may redefine it


def die():
    if not may_die():
        return
    print(f"SIGKILL at {time.time():.3f}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def patch(point, value):
    if point == "step":  # right after optimizer step N (logging and mid-epoch save included)
        after_step = base.BaseTrainer.after_optimizer_step

        def after_optimizer_step(self, *args, **kwargs):
            after_step(self, *args, **kwargs)
            if self.state.global_step == int(value):
                die()

        base.BaseTrainer.after_optimizer_step = after_optimizer_step
    elif point == "pause":  # after optimizer step N (last.pt saved): wait for a signal
        after_step = base.BaseTrainer.after_optimizer_step

        def paused_after_optimizer_step(self, *args, **kwargs):
            after_step(self, *args, **kwargs)
            if self.state.global_step == int(value):
                # The test sends its signal once it reads this line: the run cannot end
                # before the signal comes, however slow or fast the machine is.
                print(f"paused after step {value}", flush=True)
                deadline = time.monotonic() + 300
                while self.stop.signum is None and time.monotonic() < deadline:
                    time.sleep(0.01)

        base.BaseTrainer.after_optimizer_step = paused_after_optimizer_step
    elif point == "epoch_end":  # right after epoch N's checkpoints are written
        end_epoch = base.BaseTrainer.end_epoch

        def patched_end_epoch(self, epoch, metrics):
            end_epoch(self, epoch, metrics)
            if epoch == int(value):
                die()

        base.BaseTrainer.end_epoch = patched_end_epoch
    elif point == "replace":  # mid-write: temp file written and fsynced, not yet renamed
        name, count = value.split(":")
        replace, seen = os.replace, []

        def patched_replace(src, dst, *args, **kwargs):
            if os.path.basename(dst) == name:
                seen.append(dst)
                if len(seen) == int(count):
                    die()
            return replace(src, dst, *args, **kwargs)

        os.replace = patched_replace
    elif point == "nan":  # one batch, the one of optimizer step N, has a NaN loss
        from {{cookiecutter.project_slug}}.trainer import trainer

        training_step, injected = trainer.ClassificationTrainer.training_step, []

        def nan_training_step(self, batch, batch_idx):
            outputs = training_step(self, batch, batch_idx)
            if self.state.global_step + 1 == int(value) and not injected:
                injected.append(batch_idx)
                outputs["loss"] = outputs["loss"] * float("nan")
            return outputs

        trainer.ClassificationTrainer.training_step = nan_training_step
    elif point == "stall":  # once the loop decides to stop, stopping takes "forever"
        from {{cookiecutter.project_slug}}.trainer import graceful_stop

        requested = graceful_stop.GracefulStop.requested

        # Patched at the stop decision itself, wherever the first signal lands in a step.
        def stalling_requested(self, *args, **kwargs):
            if requested(self, *args, **kwargs):
                print("stalling", flush=True)
                time.sleep(600)
                return True
            return False

        graceful_stop.GracefulStop.requested = stalling_requested
    else:
        raise SystemExit(f"unknown point {point}")


# EXTRA
for spec in points.split(","):
    patch(*spec.split(":", 1))

runpy.run_path(train_py, run_name="__main__")
"""


def write_killer(directory: Path, extra: str = "") -> Path:
    """The wrapper script; ``extra``: code run before the patches (its own ``may_die``)."""
    path = directory / "kill_at.py"
    path.write_text(KILLER.replace("# EXTRA\n", extra))
    return path


def wrapped_command(killer: Path, point: str, args: list[str]) -> list[str]:
    return [sys.executable, str(killer), point, str(PROJECT_ROOT / "train.py"), *args]


def run_wrapped(killer: Path, point: str, args: list[str], cwd: Path = PROJECT_ROOT):
    """Run train.py under the wrapper, patched at ``point``."""
    command = wrapped_command(killer, point, args)
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, env=script_env()
    )


def run_killed(killer: Path, point: str, args: list[str], cwd: Path = PROJECT_ROOT):
    """Run train.py under the wrapper; assert it really died of SIGKILL at ``point``."""
    proc = run_wrapped(killer, point, args, cwd)
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr[-3000:])
    return proc


def start_train(
    args: list[str], cwd: Path = PROJECT_ROOT, command: list[str] | None = None, **popen
) -> subprocess.Popen:
    """``python train.py args`` (or ``command``) in the background, for external signals."""
    return subprocess.Popen(
        command or [sys.executable, str(PROJECT_ROOT / "train.py"), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(),
        **popen,
    )


def start_paused(
    killer: Path, step: int, args: list[str], cwd: Path = PROJECT_ROOT, points: str = "", **popen
) -> subprocess.Popen:
    """``train.py args`` in the background, pausing after optimizer ``step`` until a
    signal arrives; returns once it paused (its last.pt then holds that step)."""
    spec = ",".join(filter(None, [f"pause:{step}", points]))
    proc = start_train([], cwd=cwd, command=wrapped_command(killer, spec, args), **popen)
    for line in proc.stdout:
        if f"paused after step {step}" in line:
            return proc
    proc.wait(timeout=60)
    raise AssertionError(f"train.py ended before step {step}:\n{proc.stderr.read()[-3000:]}")


def wait_for_mid_epoch_checkpoint(
    proc: subprocess.Popen, last: Path, after_step: int = 0, timeout: float = 240
):
    """Poll until ``last`` holds a mid-epoch checkpoint (written by ``every_n_steps``)
    of a step later than ``after_step``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"train.py ended early:\n{proc.communicate()[1][-3000:]}"
        if last.exists():
            try:
                state = load_checkpoint(last)
            except Exception:  # noqa: BLE001 - only a complete file counts
                state = None
            progress = state["trainer"] if state is not None else None
            if progress and progress["batch_in_epoch"] > 0 and progress["global_step"] > after_step:
                return state
        time.sleep(0.02)
    raise AssertionError(f"no mid-epoch checkpoint at {last} within {timeout}s")


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoints" / "last.pt")["model"]


def assert_same_run(reference: Path, resumed: Path) -> None:
    """Bit-identical final weights and equal metrics.csv rows (timing columns aside)."""
    expected, got = final_weights(reference), final_weights(resumed)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), f"weights differ: {name}"
    ref_rows, ref_columns = read_metrics(reference / "metrics.csv")
    rows, columns = read_metrics(resumed / "metrics.csv")
    assert columns == ref_columns
    epochs = [int(row["epoch"]) for row in rows]
    assert epochs == sorted(set(epochs)), f"duplicate or unordered epoch rows: {epochs}"
    assert len(rows) == len(ref_rows)
    for ref_row, row in zip(ref_rows, rows, strict=True):
        for column in ref_columns:
            if column not in TIMING_COLUMNS:
                assert row[column] == ref_row[column], (row["epoch"], column)
    assert all(math.isfinite(float(row["train_loss"])) for row in rows)
