"""Long jobs on shared machines, through real ``torchrun`` (2 processes, gloo): exact
resume with every rank's own RNG state, ``resume=auto``, elastic restarts after a
SIGKILLed rank, and the SLURM script's stop, save, requeue and continue."""

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import FAST, PROJECT_ROOT, script_env, stop_process
from .rank_kill import write_rank_killer
from .resume_tools import (
    RESUME_ARGS,
    assert_same_run,
    wait_for_mid_epoch_checkpoint,
)

# Several real torchrun jobs each: run in the default bake's full suite.
pytestmark = pytest.mark.slow

TIMEOUT = 300  # a hung collective fails the test, not the CI job
# RESUME_ARGS (3 epochs x 8 steps, dropout, last.pt every 3 steps) on 2 CPU processes.
ARGS = [*RESUME_ARGS, "trainer.device=cpu", "data.eval_batch_size=64"]
QUICK = ["trainer.device=cpu", "trainer.limit_train_batches=2", "data.eval_batch_size=16"]
TRAIN_PY = PROJECT_ROOT / "train.py"
# Projects generated with TensorBoard also check what it shows after a restart.
TENSORBOARD_MODULE = "{{cookiecutter.project_slug}}.logger.tensorboard"
TENSORBOARD = importlib.util.find_spec(TENSORBOARD_MODULE) is not None


def torchrun_command(*args, options: tuple[str, ...] = ()) -> list[str]:
    """``torchrun --standalone --nproc_per_node=2 [options] args...``"""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*launcher, "--nproc_per_node=2", *options, *map(str, args)]


def run(command: list[str], env: dict[str, str] | None = None):
    """Run to the end (stdout and stderr apart); a hang fails after TIMEOUT seconds."""
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=script_env(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def output(proc) -> str:
    return f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="module")
def ddp_reference(tmp_path_factory, data_root):
    """One uninterrupted 2-process run with ``ARGS``: what every interrupted one must match."""
    run_dir = tmp_path_factory.mktemp("ddp_reference") / "run"
    proc = run(
        torchrun_command(TRAIN_PY, *FAST, f"data.root={data_root}", *ARGS, f"output_dir={run_dir}")
    )
    assert proc.returncode == 0, output(proc)
    return run_dir


def test_rank_killed_mid_epoch_then_resume_is_exact(tmp_path, fast_args, ddp_reference):
    """SIGKILL rank 1 right after step 7 (last.pt holds step 6); resuming under torchrun
    gives the same weights and metrics.csv as the uninterrupted run, dropout included:
    each rank continues from its own RNG state."""
    killer = write_rank_killer(tmp_path)
    killed = run(
        torchrun_command(killer, "step:7", TRAIN_PY, *fast_args, *ARGS), env={"KILL_RANK": "1"}
    )
    assert killed.returncode != 0 and "SIGKILL at" in killed.stdout, output(killed)
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    progress = state["trainer"]
    assert (progress["epoch"], progress["global_step"], progress["batch_in_epoch"]) == (0, 6, 6)

    resumed = run(torchrun_command(TRAIN_PY, f"resume={last}", "trainer.device=cpu"))
    assert resumed.returncode == 0, output(resumed)
    assert_same_run(ddp_reference, tmp_path / "run")


def test_resume_auto_starts_new_then_continues_from_the_newest_checkpoint(tmp_path, fast_args):
    """No checkpoint: a new run (said once, by rank 0). Several: the one furthest into
    training, whatever the file times; a truncated file is skipped, not chosen."""
    args = [*fast_args, *QUICK, "trainer.checkpoint.every_n_epochs=1", "resume=auto"]
    first = run(torchrun_command(TRAIN_PY, *args, "trainer.epochs=2"))
    assert first.returncode == 0, output(first)
    checkpoints = tmp_path / "run" / "checkpoints"
    assert first.stdout.count(f"no checkpoint in {checkpoints}; starting a new run") == 1

    # File times say epoch 1 is newest, and a truncated copy newer still.
    last = checkpoints / "last.pt"
    truncated = checkpoints / "copy.pt"
    truncated.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    now = time.time()
    os.utime(checkpoints / "epoch=001.pt", (now + 60, now + 60))
    os.utime(truncated, (now + 120, now + 120))
    second = run(torchrun_command(TRAIN_PY, *args, "trainer.epochs=3"))
    assert second.returncode == 0, output(second)
    steps = load_checkpoint(checkpoints / "epoch=001.pt")["trainer"]["global_step"] * 2
    chosen = f"continuing from {last} (epoch 2 done, step {steps}, batch 0 of the next epoch)"
    assert second.stdout.count(chosen) == 1, output(second)
    assert f"skipping {truncated}" in second.stderr
    assert [row["epoch"] for row in read_metrics(tmp_path / "run" / "metrics.csv")[0]] == [
        "1",
        "2",
        "3",
    ]


def test_elastic_restart_after_a_rank_is_killed_is_exact(tmp_path, fast_args, ddp_reference):
    """``torchrun --max-restarts=1 ... resume=auto``: rank 1 is SIGKILLed after step 7,
    torchrun restarts both processes, they continue from last.pt (step 6) and end with
    the uninterrupted run's weights; metrics.csv and TensorBoard hold each epoch once."""
    killer = write_rank_killer(tmp_path)
    tensorboard = ["logger.tensorboard=true", "trainer.log_every_n_steps=1"] if TENSORBOARD else []
    args = [*fast_args, *ARGS, "resume=auto", *tensorboard]
    command = torchrun_command(killer, "step:7", TRAIN_PY, *args, options=("--max-restarts=1",))
    proc = run(command, env={"KILL_RANK": "1"})
    assert proc.returncode == 0, output(proc)
    assert proc.stdout.count("SIGKILL at") == 1
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert f"continuing from {last} (epoch 0 done, step 6, batch 6" in proc.stdout
    assert_same_run(ddp_reference, tmp_path / "run")
    if TENSORBOARD:  # step 7 was logged before the kill and after the restart: shown once
        logs = tmp_path / "run" / "tensorboard"
        assert scalar_steps(logs, "train/loss_step") == list(range(1, 25))
        assert scalar_steps(logs, "epoch") == [8, 16, 24]

    killed = float(re.search(r"SIGKILL at ([\d.]+)", proc.stdout).group(1))
    again = min(float(t) for t in re.findall(r"training again at ([\d.]+)", proc.stdout))
    print(f"from SIGKILL to the restarted group's first step: {again - killed:.1f} s")


def two_nodes(
    *args,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
    node_args: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    timeout: float = TIMEOUT,
):
    """Two torchrun agents meeting at 127.0.0.1 (c10d rendezvous), one process each: a
    two-node job on one machine; ``node_args``: each agent's own last arguments. Both
    run to the end; returns their completed processes."""
    endpoint = f"127.0.0.1:{free_port()}"
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1"),
        *("--rdzv-backend=c10d", f"--rdzv-endpoint={endpoint}", "--rdzv-id=two-nodes"),
        *options,
        *map(str, args),
    ]
    agents = [
        subprocess.Popen(
            [*command, *extra],
            cwd=PROJECT_ROOT,
            env=script_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in node_args
    ]
    done = []
    try:
        for agent in agents:
            stdout, stderr = agent.communicate(timeout=timeout)
            done.append(subprocess.CompletedProcess(command, agent.returncode, stdout, stderr))
    finally:  # a hang: no process is left behind
        for agent in agents:
            stop_process(agent, timeout=60)
    return done


def test_two_torchrun_agents_match_one_two_process_torchrun(tmp_path, fast_args, ddp_reference):
    """``torchrun --nnodes=2 --rdzv-backend=c10d`` started twice (one process each) trains
    exactly as one ``torchrun --nproc_per_node=2``: same weights, same metrics.csv."""
    agents = two_nodes(TRAIN_PY, *fast_args, *ARGS)
    for agent in agents:
        assert agent.returncode == 0, output(agent)
    assert_same_run(ddp_reference, tmp_path / "run")


def test_two_nodes_started_with_different_configs_stop_naming_the_first_difference(
    tmp_path, fast_args
):
    """Two agents whose command lines differ in trainer.epochs (a gloo job would hang in
    a collective until its 30-minute timeout): every process stops at start with one
    line naming the first key that differs and both values, exit 2, and no run
    directory is written. (The ranks are the rendezvous's choice: either order.)"""
    agents = two_nodes(
        TRAIN_PY,
        *fast_args,
        *QUICK,
        node_args=(("trainer.epochs=2",), ("trainer.epochs=3",)),
        timeout=120,  # well under gloo's 30 minutes: a hang fails here
    )
    orders = [("2", "3"), ("3", "2")]
    expected = [f"config: trainer.epochs is {a} on rank 0 and {b} on rank 1" for a, b in orders]
    for agent in agents:
        assert agent.returncode != 0, output(agent)
        errors = [line for line in agent.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and any(text in errors[0] for text in expected), output(agent)
        assert "exitcode  : 2" in agent.stderr, output(agent)  # torchrun's summary
    assert not (tmp_path / "run").exists()


def test_two_nodes_restart_after_a_killed_process_is_exact(tmp_path, fast_args, ddp_reference):
    """Two agents with ``--max-restarts=1 ... resume=auto``: rank 1's process is SIGKILLed
    after step 7; its agent restarts it, the other agent sees the new rendezvous round and
    restarts its own, both continue from last.pt (step 6) and end with the uninterrupted
    run's weights."""
    killer = write_rank_killer(tmp_path)
    env = {"KILL_RANK": "1", "KILL_ONCE": str(tmp_path / "killed")}
    args = (killer, "step:7", TRAIN_PY, *fast_args, *ARGS, "resume=auto")
    agents = two_nodes(*args, env=env, options=("--max-restarts=1",))
    text = "".join(agent.stdout for agent in agents)
    for agent in agents:
        assert agent.returncode == 0, output(agent)
    assert text.count("SIGKILL at") == 1, text[-5000:]
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    # One restart: the group formed again at the first try (rank 0 says it once per try).
    assert text.count(f"continuing from {last} (epoch 0 done, step 6, batch 6") == 1, text[-5000:]
    assert_same_run(ddp_reference, tmp_path / "run")

    killed = float(re.search(r"SIGKILL at ([\d.]+)", text).group(1))
    again = min(float(t) for t in re.findall(r"training again at ([\d.]+)", text))
    print(f"two nodes, from SIGKILL to the restarted group's first step: {again - killed:.1f} s")


# Runs the script after it (train.py, or the killer then train.py) with the training
# sampler writing each index it hands out to $RECORD/<rank>-<pid>.txt as "epoch index"
# (data.num_workers=0: the loader takes a batch's indices right before that batch).
RECORDER = """\
import os, runpy, sys
sys.path.insert(0, PROJECT_ROOT)
from {{cookiecutter.project_slug}}.data import base

iterate = base.ResumableSampler.__iter__
path = os.path.join(os.environ["RECORD"], f"{os.environ.get('RANK', '0')}-{os.getpid()}.txt")


def recording_iter(self):
    with open(path, "a") as record:
        for index in iterate(self):
            record.write(f"{self.epoch} {index}\\n")
            record.flush()
            yield index


base.ResumableSampler.__iter__ = recording_iter
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def recorded(folder: Path, epoch: int) -> dict[int, list[int]]:
    """``{rank: [indices handed out in epoch, in order]}`` from RECORDER's files."""
    taken: dict[int, list[int]] = {}
    for path in folder.glob("*.txt"):
        rank = int(path.name.split("-")[0])
        for line in path.read_text().splitlines():
            seen_epoch, index = map(int, line.split())
            if seen_epoch == epoch:
                taken.setdefault(rank, []).append(index)
    return taken


@pytest.mark.parametrize(("before", "after"), [(2, 1), (1, 2)])
def test_resume_mid_epoch_with_another_world_size_uses_each_sample_once(
    tmp_path, fast_args, config_factory, before, after
):
    """A mid-epoch last.pt from ``before`` processes resumed by ``after``: one line says
    so, and the resumed epoch's samples with those the checkpoint had done are the whole
    training set, each once (recorded from the sampler in both runs)."""
    recorder, killer = tmp_path / "record.py", write_rank_killer(tmp_path)
    recorder.write_text(RECORDER.replace("PROJECT_ROOT", repr(str(PROJECT_ROOT))))
    first_record, second_record = tmp_path / "first", tmp_path / "second"
    first_record.mkdir()
    second_record.mkdir()
    args = [*fast_args, "trainer.device=cpu", "data.num_workers=0", "resume=auto"]
    args += ["trainer.checkpoint.every_n_steps=3", "trainer.early_stopping.enabled=false"]
    args.append("data.batch_size=8")  # epoch 1 outlasts step 7 on every bake's data

    def launch(processes: int, *script_args, record: Path):
        script = [recorder, *script_args]
        if processes == 1:
            return run([sys.executable, *map(str, script)], env={"RECORD": str(record)})
        return run(torchrun_command(*script), env={"RECORD": str(record)})

    killed = launch(before, killer, "step:7", TRAIN_PY, *args, record=first_record)
    assert "SIGKILL at" in killed.stdout, output(killed)
    saved = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    done = saved["trainer"]["batch_in_epoch"]
    assert (saved["trainer"]["epoch"], done) == (0, 6), saved["trainer"]
    batch_size = saved["config"]["data"]["batch_size"]
    # What the checkpoint holds as done: each rank's first `done` batches of epoch 1.
    first = recorded(first_record, 1)
    assert sorted(first) == list(range(before))
    used = [index for taken in first.values() for index in taken[: done * batch_size]]

    resumed = launch(after, TRAIN_PY, *args, record=second_record)
    assert resumed.returncode == 0, output(resumed)
    note = f"resuming epoch 1 with {after} process(es), saved by {before}"
    assert (resumed.stdout + resumed.stderr).count(note) == 1, output(resumed)
    second = recorded(second_record, 1)
    assert sorted(second) == list(range(after))
    used += [index for taken in second.values() for index in taken]
    config = config_factory()
    train_size = len(build_datamodule(config.data, seed=config.seed).train_set)
    assert sorted(used) == list(range(train_size))  # every sample, none twice
    # The epoch after it is a whole epoch again, in the new number of processes' order.
    assert len(recorded(second_record, 2)) == after


def scalar_steps(log_dir: Path, tag: str) -> list[int]:
    """The steps of ``tag``'s points as TensorBoard reads them (after purge_step dropped
    what the killed attempt logged past the checkpoint)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return [event.step for event in events.Scalars(tag)]


# Stand-ins for SLURM's commands: scontrol records its arguments (and names this host
# for "show hostnames"); srun drops its own options and runs the command as one task.
FAKE_SCONTROL = """#!/bin/sh
echo "$@" >> "$SCONTROL_LOG"
if [ "$1" = show ]; then echo localhost; fi
"""
FAKE_SRUN = """#!/bin/sh
while [ "${1#-}" != "$1" ]; do shift; done
exec "$@"
"""
# train.py as the sbatch script calls it (from the submit folder), each optimizer step
# made 50 ms longer, so that the run is still going when the test signals it.
SLOW_TRAIN = """\
import runpy, sys, time
sys.path.insert(0, {root!r})
from {{cookiecutter.project_slug}}.trainer import base

after_step = base.BaseTrainer.after_optimizer_step


def slow_after_optimizer_step(self, *args, **kwargs):
    after_step(self, *args, **kwargs)
    time.sleep(0.05)


base.BaseTrainer.after_optimizer_step = slow_after_optimizer_step
runpy.run_path({train!r}, run_name="__main__")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def slurm_job(tmp_path: Path, run_dir: Path) -> tuple[Path, dict[str, str]]:
    """A submit folder and the environment of SLURM job 4242 on one node (2 CPU processes)."""
    submit, fake_bin = tmp_path / "submit", tmp_path / "bin"
    submit.mkdir()
    fake_bin.mkdir()
    for name, text in (("scontrol", FAKE_SCONTROL), ("srun", FAKE_SRUN)):
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    (submit / "train.py").write_text(SLOW_TRAIN.format(root=str(PROJECT_ROOT), train=str(TRAIN_PY)))
    env = {
        "PATH": f"{fake_bin}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SCONTROL_LOG": str(tmp_path / "scontrol.log"),
        "SLURM_JOB_ID": "4242",
        "SLURM_NNODES": "1",
        "SLURM_JOB_NODELIST": "localhost",
        "NPROC_PER_NODE": "2",
        "MASTER_PORT": str(free_port()),
        "RUN_DIR": str(run_dir),
    }
    return submit, env


def children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds processes via /proc")
def test_slurm_usr1_saves_requeues_and_the_requeued_job_continues_exactly(
    tmp_path, data_root, ddp_reference
):
    """slurm/train.sbatch with fake srun/scontrol: USR1 to torchrun and both processes
    (what ``--signal=USR1@90`` does to a job step) saves last.pt and calls
    ``scontrol requeue 4242``; the same script started again (the requeued job)
    continues with resume=auto and ends with the uninterrupted run's weights."""
    run_dir = tmp_path / "run"
    submit, env = slurm_job(tmp_path, run_dir)
    args = [*FAST, f"data.root={data_root}", *ARGS, "trainer.log_every_n_steps=1"]
    command = ["bash", str(PROJECT_ROOT / "slurm" / "train.sbatch"), *args]
    job = subprocess.Popen(
        command,
        cwd=submit,
        env=script_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = wait_for_mid_epoch_checkpoint(job, run_dir / "checkpoints" / "last.pt")
        (launcher,) = children(job.pid)  # srun, which became torchrun
        for pid in [launcher, *children(launcher)]:
            os.kill(pid, signal.SIGUSR1)
        first, _ = job.communicate(timeout=TIMEOUT)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0, first[-5000:]
    # Once per process: torchrun's forwarded copy, right after SLURM's, counts as one.
    assert first.count("SIGUSR1 received") == 2, first[-5000:]
    assert "SLURM job 4242 requeued" in first, first[-5000:]
    requeues = (tmp_path / "scontrol.log").read_text().splitlines()
    assert requeues.count("requeue 4242") == 1, requeues
    saved = load_checkpoint(run_dir / "checkpoints" / "last.pt")["trainer"]
    # Saved at the step boundary where the processes agreed to stop, mid-epoch.
    assert saved["batch_in_epoch"] > 0 and saved["global_step"] >= seen["trainer"]["global_step"]

    # SLURM starts the requeued job: the same script, arguments and job id.
    again = subprocess.run(
        command,
        cwd=submit,
        env=script_env({**env, "SLURM_RESTART_COUNT": "1"}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert again.returncode == 0, output(again)
    assert f"continuing from {run_dir / 'checkpoints' / 'last.pt'}" in again.stdout
    assert_same_run(ddp_reference, run_dir)


# nvidia-smi on a node without a GPU (or without the driver): no "GPU 0: ..." lines.
FAKE_NVIDIA_SMI_NO_GPU = """#!/bin/sh
echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
exit 9
"""


def cpu_node_job(tmp_path: Path, **env: str) -> tuple[Path, dict[str, str]]:
    """``slurm_job`` on a node whose nvidia-smi lists no GPU, NPROC_PER_NODE as given."""
    submit, job_env = slurm_job(tmp_path, tmp_path / "run")
    del job_env["NPROC_PER_NODE"]  # the script's default unless the test sets it
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.write_text(FAKE_NVIDIA_SMI_NO_GPU)
    smi.chmod(0o755)
    return submit, {**job_env, **env}


def sbatch(submit: Path, env: dict[str, str], *args):
    """``bash slurm/train.sbatch args...`` from the submit folder, to the end."""
    command = ["bash", str(PROJECT_ROOT / "slurm" / "train.sbatch"), *map(str, args)]
    return subprocess.run(
        command, cwd=submit, env=script_env(env), capture_output=True, text=True, timeout=TIMEOUT
    )


def test_slurm_script_on_a_cpu_node_trains_with_one_process(tmp_path, data_root):
    """The default NPROC_PER_NODE on a node without GPUs: torchrun's "gpu" would fail
    with a traceback (Cuda is not available); the script says it runs one CPU process
    per node and how to run more, and the job trains."""
    submit, env = cpu_node_job(tmp_path)
    job = sbatch(submit, env, *FAST, f"data.root={data_root}", "trainer.fast_dev_run=true", *QUICK)
    assert job.returncode == 0, output(job)
    note = "no GPU on this node (nvidia-smi lists none): 1 CPU process per node; "
    assert job.stdout.count(note + "set NPROC_PER_NODE=N for N processes") == 1, output(job)
    assert "Cuda is not available" not in output(job)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gpu", "NPROC_PER_NODE=gpu, but nvidia-smi lists no GPU on this node; set NPROC_PER_NODE"),
        ("0", "NPROC_PER_NODE=0 is not a number of processes; use e.g. NPROC_PER_NODE=2"),
        ("two", "NPROC_PER_NODE=two is not a number of processes; use e.g. NPROC_PER_NODE=2"),
    ],
)
def test_slurm_script_given_a_process_count_it_cannot_run_says_what_to_set(
    tmp_path, value, expected
):
    """NPROC_PER_NODE=gpu on a node without GPUs, or not a count: one line naming what to
    set instead, exit 2, before torchrun starts (no traceback)."""
    submit, env = cpu_node_job(tmp_path, NPROC_PER_NODE=value)
    job = sbatch(submit, env)
    assert job.returncode == 2, output(job)
    (line,) = job.stderr.strip().splitlines()
    assert line.startswith(f"error: {expected}"), output(job)
