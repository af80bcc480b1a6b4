"""The generated ``slurm/train.sbatch`` on a real single-node SLURM cluster.

Here, not in the generated suite: bringing the cluster up needs root and Debian's SLURM
packages (.ci/run installs them), and a user's ``pytest`` must never start system
daemons. The generated suite keeps its own test of the script with stand-ins for
``srun``/``scontrol`` (tests/test_cluster.py), which runs anywhere.

The job gets a two-minute time limit and ``--signal=USR1@50``: SLURM delivers USR1 to
the job step mid-epoch, the two torchrun processes agree on a step, save last.pt, rank 0
runs ``scontrol requeue`` and the job ends; SLURM puts it back in the queue with the same
id (so the same run directory), and the second start continues with ``resume=auto``.
"""

import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import torch

from .conftest import run
from .slurm_cluster import SlurmCluster, free_port, unavailable

pytestmark = pytest.mark.slow

# 2 epochs of 16 steps on 2 CPU processes; a step saves last.pt every 4 steps.
ARGS = [
    "trainer.epochs=2",
    "trainer.progress_bar=false",
    "data.batch_size=32",
    "trainer.limit_train_batches=16",
    "model.dropout=0.3",
    "trainer.checkpoint.every_n_steps=4",
    "trainer.early_stopping.enabled=false",
    "lr_scheduler.name=cosine",
    "logger.curves=false",
    "logger.tensorboard=false",
    "trainer.device=cpu",
    "trainer.log_every_n_steps=1",
]
# A two-minute limit with USR1 asked for 50 s before it. SLURM checks time limits every
# so often and sends --signal early rather than late (seen here: up to ~25 s before
# the asked time), so it lands 40-70 s after the start, past the start-up of torchrun
# and its two processes even on a busy machine (asked at 80 s before the limit, it came
# 17 s after the start, before the processes had their handlers). In the first start
# the processes wait after step 5 (of 16 in epoch 0) until it has arrived: the stop is
# mid-epoch whenever it comes. The requeued start runs at full speed.
SBATCH_OPTIONS = ["--gpus-per-node=0", "--cpus-per-task=2", "--time=2", "--signal=USR1@50"]
WAIT_AT_STEP = 5
USR1 = f"signal {int(signal.SIGUSR1)} at "
# train.py as slurm/train.sbatch calls it (from the submit folder), with that wait, and
# printing the times of the stop signal and of the first step after the requeue.
SLOW_TRAIN = """\
import os, runpy, sys, time
sys.path.insert(0, {project!r})
from my_pytorch_project.trainer import base, graceful_stop

first_start = os.environ.get("SLURM_RESTART_COUNT", "0") == "0"
after_step = base.BaseTrainer.after_optimizer_step
on_signal = graceful_stop.GracefulStop._on_signal
signalled, again = [], []


def after_optimizer_step(self, *args, **kwargs):
    after_step(self, *args, **kwargs)
    if first_start and self.state.global_step == {wait_at_step}:
        deadline = time.monotonic() + 170
        while not signalled and time.monotonic() < deadline:
            time.sleep(0.1)
    if not first_start and not again:
        again.append(time.time())
        print(f"rank {{os.environ['RANK']}} training again at {{again[0]:.3f}}", flush=True)


def _on_signal(self, signum, frame):
    signalled.append(time.time())
    print(f"rank {{os.environ['RANK']}} signal {{signum}} at {{signalled[-1]:.3f}}", flush=True)
    on_signal(self, signum, frame)


base.BaseTrainer.after_optimizer_step = after_optimizer_step
graceful_stop.GracefulStop._on_signal = _on_signal
runpy.run_path({train!r}, run_name="__main__")
"""


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    reason = unavailable()
    if reason:
        pytest.skip(f"no SLURM cluster here: {reason}")
    cluster = SlurmCluster()
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        cluster.stop()
        pytest.skip(f"the SLURM daemons did not start: {error}")
    yield cluster
    cluster.stop()


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]


def test_time_limit_signal_saves_requeues_and_the_job_finishes_exactly(slurm, cookies, tmp_path):
    result = cookies.bake()
    assert result.exception is None, result.exception
    project = Path(result.project_path)

    # The uninterrupted run every interrupted one must match.
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    reference = run(
        [*torchrun, "--nproc_per_node=2", "train.py", *ARGS, f"output_dir={tmp_path / 'ref'}"],
        cwd=project,
        timeout=600,
    )
    assert reference.returncode == 0, reference.stderr[-3000:]

    submit = tmp_path / "submit"
    submit.mkdir()
    (submit / "train.py").write_text(
        SLOW_TRAIN.format(
            project=str(project), train=str(project / "train.py"), wait_at_step=WAIT_AT_STEP
        )
    )
    run_dir = tmp_path / "run"
    environment = {
        **slurm.env,
        "PATH": f"{Path(sys.executable).parent}:{slurm.env['PATH']}",
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
        "NPROC_PER_NODE": "2",
        "MASTER_PORT": str(free_port()),
        "RUN_DIR": str(run_dir),
    }
    sbatch = run(
        ["sbatch", "--parsable", *SBATCH_OPTIONS, str(project / "slurm" / "train.sbatch"), *ARGS],
        cwd=submit,
        env=environment,
        timeout=60,
    )
    assert sbatch.returncode == 0, sbatch.stderr
    job_id = sbatch.stdout.strip().split(";")[0]
    out = submit / f"slurm-{job_id}.out"

    # The job requeues itself: back to pending, one restart, held until its begin time.
    pending = slurm.wait_job(
        job_id,
        lambda job: job["Restarts"] == "1" and job["JobState"] == "PENDING",
        timeout=240,
        what="no requeue",
        output=out,
    )
    requeued_at = time.time()
    first = out.read_text()
    assert first.count(USR1) >= 2, first[-5000:]
    assert f"SLURM job {job_id} requeued" in first, first[-5000:]
    saved = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["trainer"]
    assert saved["epoch"] == 0 and 0 < saved["batch_in_epoch"] < 16, saved  # mid-epoch
    eligible = time.mktime(datetime.fromisoformat(pending["EligibleTime"]).timetuple())

    # SLURM holds a requeued job until the credential of its first start has expired
    # (cred_expire: 10 s on this cluster, 120 s by default), then starts it by itself.
    # Releasing it sooner (starttime=now) can fail the launch. Meanwhile the rest of
    # training gets a time limit its signal will not cut.
    slurm.run("scontrol", "update", f"jobid={job_id}", "timelimit=10")
    done = slurm.wait_job(
        job_id,
        lambda job: job["JobState"] not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"),
        timeout=300,
        what="did not finish",
        output=out,
    )
    text = out.read_text()
    finished = done["JobState"] == "COMPLETED" and done["ExitCode"] == "0:0"
    assert finished, f"{done}\n{text[-5000:]}\n{slurm.logs(40)}"  # the daemons' view too
    assert f"continuing from {run_dir / 'checkpoints' / 'last.pt'}" in text, text[-5000:]
    expected, got = final_weights(tmp_path / "ref"), final_weights(run_dir)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name

    signal_at = min(float(t) for t in re.findall(USR1 + r"([\d.]+)", text))
    again_at = min(float(t) for t in re.findall(r"training again at ([\d.]+)", text))
    print(
        f"SLURM USR1 -> job back in the queue: {requeued_at - signal_at:.1f} s; held "
        f"{eligible - requeued_at:.0f} s more (cred_expire); back in the queue -> "
        f"training again: {again_at - requeued_at:.1f} s; USR1 -> training again: "
        f"{again_at - signal_at:.1f} s"
    )
