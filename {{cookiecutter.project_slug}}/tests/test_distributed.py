"""Distributed data parallel through real ``torchrun`` subprocesses: 2 processes on CPU (gloo).

Each test starts ``python -m torch.distributed.run --standalone --nproc_per_node=2``
exactly as a user would, with the ``fast_args`` overrides and ``trainer.device=cpu``.
"""

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.run.same_config import first_difference
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer
from {{cookiecutter.project_slug}}.trainer.distributed import DDPStrategy
from {{cookiecutter.project_slug}}.utils.dist import DistInfo

from .conftest import PROJECT_ROOT, run_script, script_env

# torchrun waits for its workers; a hung collective must fail the test, not the CI job.
TIMEOUT = 300

# Small, quick runs: two training batches per process, several short eval batches.
QUICK = ["trainer.device=cpu", "trainer.limit_train_batches=2", "data.eval_batch_size=16"]


def start_torchrun(*args: str, script: Path | str = "train.py", cwd: Path = PROJECT_ROOT):
    """Start ``torchrun --standalone --nproc_per_node=2 script args...`` (stdout+stderr)."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(PROJECT_ROOT / script),
        *args,
    ]
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=script_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_torchrun(process: subprocess.Popen) -> str:
    """torchrun starts its workers in their own sessions, so killing torchrun alone would
    orphan them: SIGTERM it (it forwards that to the workers), kill only as a last resort."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=60)[0] or ""
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0] or ""


def torchrun(*args: str, script: Path | str = "train.py", cwd: Path = PROJECT_ROOT):
    """Run torchrun to the end; a hang fails the test after TIMEOUT seconds."""
    process = start_torchrun(*args, script=script, cwd=cwd)
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        output = stop_torchrun(process)
        pytest.fail(f"torchrun did not finish in {TIMEOUT} s:\n{output[-5000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def worker_pids(torchrun_pid: int) -> dict[int, int]:
    """``{RANK: pid}`` of torchrun's worker processes, read from /proc (Linux)."""
    children = []
    for task in Path(f"/proc/{torchrun_pid}/task").iterdir():
        children += (task / "children").read_text().split()
    ranks = {}
    for pid in children:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(b"RANK="):
                ranks[int(item[len(b"RANK=") :])] = int(pid)
    return ranks


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a metrics.csv, none if the file was never written."""
    return read_metrics(path)[0] if path.exists() else []


def odd_val_fraction(config_factory) -> str:
    """A ``data.val_fraction`` giving an odd number of validation samples, so the two
    ranks' shards differ in size (the case padding samplers get wrong)."""
    for fraction in (f"{0.1 + step / 1000:.3f}" for step in range(30)):
        config = config_factory(f"data.val_fraction={fraction}")
        if len(build_datamodule(config.data, seed=config.seed).val_set) % 2:
            return fraction
    raise AssertionError("no candidate val_fraction gives an odd validation set")


def without_output_dir(args: list[str]) -> list[str]:
    return [arg for arg in args if not arg.startswith("output_dir=")]


@pytest.mark.slow
def test_torchrun_writes_one_run_and_matches_single_process(tmp_path, fast_args, config_factory):
    """2 processes: one run directory, one set of artifacts, checkpoints that a
    single-process evaluate.py loads, and the same validation metrics as 1 process.

    ``optimizer.lr=1e-300`` (every float32 update rounds to zero; lr=0 is refused by the
    config) keeps the weights at their (seeded, rank-0-broadcast) initial values, so both
    runs validate the same model on the same (odd-sized) split."""
    fraction = odd_val_fraction(config_factory)
    same = ["trainer.epochs=1", "optimizer.lr=1e-300", f"data.val_fraction={fraction}", *QUICK]
    ddp_cwd = tmp_path / "ddp"
    ddp_cwd.mkdir()
    # No output_dir: the ranks must agree on one runs/<timestamp> (rank 0 broadcasts it).
    result = torchrun(*without_output_dir(fast_args), *same, cwd=ddp_cwd)
    assert result.returncode == 0, result.stdout[-5000:]

    run_dirs = list((ddp_cwd / "runs").iterdir())
    assert len(run_dirs) == 1, run_dirs
    run_dir = run_dirs[0]
    assert sorted(p.name for p in ddp_cwd.iterdir()) == ["runs"]
    rows = read_rows(run_dir / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["1"]
    assert result.stdout.count("epoch 1/1 |") == 1  # rank 0 alone logs
    log_lines = (run_dir / "train.log").read_text().splitlines()
    assert sum("epoch 1/1 |" in line for line in log_lines) == 1
    assert "world size 2" in (run_dir / "train.log").read_text()

    best = run_dir / "checkpoints" / "best.pt"
    weights = torch.load(best, weights_only=True)["model"]
    assert not [k for k in weights if k.startswith(("module.", "_orig_mod."))]

    single = run_script("train.py", *fast_args, *same)
    assert single.returncode == 0, single.stderr
    single_row = read_rows(tmp_path / "run" / "metrics.csv")[0]
    for name in (key for key in single_row if key.startswith("val_")):
        assert float(rows[0][name]) == pytest.approx(float(single_row[name]), rel=1e-5), name

    # The rank-0 checkpoint in a single process: its test metrics equal the sharded ones.
    ddp_test = json.loads((run_dir / "test_metrics.json").read_text())
    evaluated = run_script("evaluate.py", f"checkpoint={best}", "trainer.device=cpu")
    assert evaluated.returncode == 0, evaluated.stderr
    single_test = json.loads((run_dir / "test_metrics.json").read_text())
    assert single_test.keys() == ddp_test.keys()
    for name, value in ddp_test.items():
        if name != "baselines":  # {"linear": {...}, ...}: fitted by rank 0 alone, as here
            assert value == pytest.approx(single_test[name], rel=1e-5), name


@pytest.mark.slow
def test_resume_mid_epoch_under_torchrun(tmp_path, fast_args):
    """A 2-process run resumes from a mid-epoch last.pt under torchrun and finishes the
    epoch with the same metrics as the uninterrupted run: the checkpoint holds the
    running sums of both ranks, and each rank skips the batches it had done."""
    keep_mid_epoch = ["trainer.checkpoint.every_n_steps=2", "trainer.checkpoint.save_last=false"]
    train_metrics = "trainer.train_metrics=true"  # resumed sums of a metric beside the loss
    args = [*fast_args, *QUICK, "trainer.limit_train_batches=3", *keep_mid_epoch, train_metrics]
    first = torchrun(*args, "trainer.epochs=1")
    assert first.returncode == 0, first.stdout[-5000:]
    (uninterrupted,) = read_rows(tmp_path / "run" / "metrics.csv")
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=True)
    assert state["trainer"]["batch_in_epoch"] == 2
    batch_size = state["config"]["data"]["batch_size"]
    assert state["train_tracker"]["count"] == 2 * batch_size * 2  # 2 batches x 2 ranks

    resumed = torchrun(f"resume={last}", "trainer.epochs=2", "trainer.device=cpu")
    assert resumed.returncode == 0, resumed.stdout[-5000:]
    assert "resumed from" in resumed.stdout
    rows = read_rows(tmp_path / "run" / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["1", "2"]
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert float(rows[0][name]) == pytest.approx(float(uninterrupted[name]), rel=1e-5), name


FAILING_RANK = """
import os
import sys

sys.path.insert(0, PROJECT_ROOT)
import train
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

original = ClassificationTrainer.training_step


def training_step(self, batch, batch_idx):
    if os.environ["RANK"] == "1" and batch_idx == 1:
        raise RuntimeError("injected failure on rank 1")
    return original(self, batch, batch_idx)


ClassificationTrainer.training_step = training_step
sys.exit(train.main())
"""


@pytest.mark.slow  # torchrun with two ranks
def test_a_failing_rank_ends_the_job(tmp_path, fast_args):
    """Rank 1 raises mid-epoch: the whole job ends non-zero, the message is shown, and
    rank 0 does not wait forever in its gradient all-reduce."""
    script = tmp_path / "failing_rank.py"
    script.write_text(FAILING_RANK.replace("PROJECT_ROOT", repr(str(PROJECT_ROOT))))
    result = torchrun(*fast_args, *QUICK, "trainer.epochs=1", script=script)
    assert result.returncode != 0
    assert "injected failure on rank 1" in result.stdout
    assert read_rows(tmp_path / "run" / "metrics.csv") == []  # no epoch was finished


END_WORKER = """
import atexit
from {{cookiecutter.project_slug}}.utils import dist
atexit.register(print, "atexit handler ran")
print("buffered output", end="")
dist.end_worker(3)
"""


def test_a_worker_ends_with_its_code_after_atexit_and_flush():
    """``end_worker`` (how train.py ends under torchrun) skips the interpreter's teardown,
    not what it is there for: the atexit handlers run, buffered output is written (stdout
    is a pipe here, so it is block-buffered), and the exit code is the run's."""
    result = subprocess.run(
        [sys.executable, "-c", END_WORKER],
        cwd=PROJECT_ROOT,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == "buffered outputatexit handler ran\n"


def test_the_first_config_difference_between_ranks_names_the_key_and_both_values():
    """What ``agree_on_config`` says when the ranks' flattened configs differ: the first key
    in rank 0's order, against the first rank that disagrees (a key only one has: not set)."""
    same = {"seed": 1, "trainer.epochs": 2, "trainer.device": "cpu"}
    other = {**same, "trainer.device": "cuda", "trainer.epochs": 3}
    message = first_difference([same, same, other])
    assert "trainer.epochs is 2 on rank 0 and 3 on rank 2;" in message
    message = first_difference([same, {**same, "extra": None}])
    assert "extra is <not set> on rank 0 and null on rank 1;" in message


def test_sync_batchnorm_without_cuda_is_a_config_error(config_factory):
    """On CPU, SyncBatchNorm would fail at the first training batch; the trainer refuses
    the config up front instead (rank and world size as torchrun would set them)."""
    config = config_factory("model.name=cnn", "trainer.sync_batchnorm=true", "trainer.device=cpu")
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    two_ranks = DistInfo(rank=0, world_size=2)
    with pytest.raises(ConfigError, match="sync_batchnorm"):
        ClassificationTrainer(
            model, datamodule, config, "unused", strategy=DDPStrategy(config.trainer, two_ranks)
        )


@pytest.mark.slow  # torchrun with two ranks
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds workers via /proc")
def test_sigterm_on_one_rank_stops_all_ranks_together(tmp_path, fast_args):
    """SIGTERM to rank 1 only: the ranks agree (all-reduced flag at log steps / epoch
    ends) to stop at the same step, rank 0 saves last.pt and every rank exits. Without
    the agreement rank 1 would wait in the checkpoint barrier while rank 0 waits in the
    gradient all-reduce, until the test times out."""
    args = [*fast_args, *QUICK, "trainer.epochs=1000", "trainer.early_stopping.enabled=false"]
    process = start_torchrun(*args)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout])
    reader.start()
    output, deadline = [], time.monotonic() + TIMEOUT
    try:
        while not any("epoch 2/1000 |" in line for line in output):
            assert time.monotonic() < deadline and process.poll() is None, "".join(output)
            with contextlib.suppress(queue.Empty):
                output.append(lines.get(timeout=1))
        os.kill(worker_pids(process.pid)[1], signal.SIGTERM)
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        stop_torchrun(process)
        pytest.fail("the ranks did not stop together:\n" + "".join(output)[-5000:])
    reader.join(timeout=60)
    output += list(lines.queue)
    text = "".join(output)

    assert process.returncode != 0  # the workers exit 128 + SIGTERM
    assert text.count("SIGTERM received") == 1, text[-5000:]  # rank 1 alone got the signal
    # ... yet rank 0 stopped too: it printed how to resume (rank 0 alone prints it).
    assert text.count("stopped; resume with: torchrun") == 1, text[-5000:]
    assert "exitcode  : 143" in text
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert 2 <= state["trainer"]["epoch"] < 1000
