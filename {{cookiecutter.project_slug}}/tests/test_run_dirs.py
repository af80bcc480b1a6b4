"""Run directories belong to one run: an existing run is never overwritten without
``overwrite=true``, one process holds a run directory at a time, default names never
collide, and a resume that does not fit writes nothing. Real concurrent processes."""

import signal
import time
from pathlib import Path

import pytest
import torch

from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.saver import CheckpointError, check_resumable
from {{cookiecutter.project_slug}}.utils.run_dir import create_unique_dir

from .conftest import run_script, start_script
from .guard_tools import assert_one_error_line, snapshot

# Real script runs, many per test; the option bakes skip them (they test no option).
pytestmark = pytest.mark.slow


@pytest.fixture
def finished_run(tmp_path, fast_args) -> Path:
    run_dir = tmp_path / "run"
    # An MLP whatever the bake's default model: the resume tests below change its shape.
    mlp = [*fast_args, "model.name=mlp"]
    result = run_script("train.py", *mlp{% if cookiecutter.profile == "full" %}, "trainer.checkpoint.save_top_k=-1"{% endif %})
    assert result.returncode == 0, result.stderr
    return run_dir


def test_a_new_run_never_overwrites_a_finished_one(finished_run, fast_args):
    before = snapshot(finished_run)
    line = assert_one_error_line(run_script("train.py", *fast_args), 1)
    assert f"output_dir={finished_run} already holds a run" in line
    assert f"resume={finished_run / 'checkpoints' / 'last.pt'}" in line
    assert "another output_dir" in line
    assert snapshot(finished_run) == before


def test_overwrite_replaces_the_old_run_as_a_whole(finished_run, fast_args):
{%- if cookiecutter.profile == "full" %}
    old_top_k = sorted(p.name for p in (finished_run / "checkpoints").glob("epoch=*"))
    assert len(old_top_k) == 2  # save_top_k=-1 kept both epochs
{%- else %}
    (finished_run / "checkpoints" / "old.pt").write_bytes(b"a file the old run had")
{%- endif %}
    result = run_script("train.py", *fast_args, "trainer.epochs=1", "overwrite=true")
    assert result.returncode == 0, result.stderr
    rows, _ = read_metrics(finished_run / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["1"]
{%- if cookiecutter.profile == "full" %}
    top_k = sorted(p.name for p in (finished_run / "checkpoints").glob("epoch=*"))
    assert len(top_k) == 1 and top_k[0].startswith("epoch=001")  # no file of the old run left
{%- else %}
    names = sorted(p.name for p in (finished_run / "checkpoints").iterdir())
    assert names == ["best.pt", "last.pt"]  # no file of the old run left
{%- endif %}


def test_overwrite_is_not_inherited_by_a_resume_and_cannot_be_combined(finished_run, fast_args):
    last = finished_run / "checkpoints" / "last.pt"
    line = assert_one_error_line(run_script("train.py", f"resume={last}", "overwrite=true"), 2)
    assert "resume=" in line and "overwrite=true" in line


def test_output_dir_that_is_a_file_is_refused(tmp_path, fast_args):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    line = assert_one_error_line(run_script("train.py", *fast_args, f"output_dir={target}"), 1)
    assert f"output_dir={target} is a file" in line
    assert target.read_text() == "mine"


def wait_for(condition, timeout: float = 120, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.communicate()[1][-3000:]}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_one_process_per_run_dir_and_a_killed_lock_never_blocks_resume(tmp_path, fast_args):
    run_dir = tmp_path / "run"
    long_run = [*fast_args, "trainer.epochs=1000", "trainer.early_stopping.enabled=false"]
    first = start_script("train.py", *long_run)
    try:
        last = run_dir / "checkpoints" / "last.pt"
        wait_for(last.exists, proc=first)
        for args in ([*fast_args], [f"resume={last}"]):  # a new run, and a resume
            line = assert_one_error_line(run_script("train.py", *args), 1)
            assert f"{run_dir} is in use by another run (PID {first.pid})" in line
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    # flock died with the process: the killed run resumes at once.
    epochs_done = torch.load(last, weights_only=True)["trainer"]["epoch"]
    result = run_script("train.py", f"resume={last}", f"trainer.epochs={epochs_done + 1}")
    assert result.returncode == 0, result.stderr
    rows, _ = read_metrics(run_dir / "metrics.csv")
    assert [int(row["epoch"]) for row in rows] == list(range(1, epochs_done + 2))


def test_runs_started_together_get_their_own_directories(tmp_path, fast_args):
    """The everyday sweep, ``for lr in ...; do python train.py optimizer.lr=$lr & done``.
    The names of the next minute are taken already, so every run collides at least once
    and the three race for the same suffixes."""
    runs = tmp_path / "runs"
    now = time.time()
    for offset in range(-2, 120):
        (runs / time.strftime("%Y%m%d-%H%M%S", time.localtime(now + offset))).mkdir(
            parents=True, exist_ok=True
        )
    taken = set(runs.iterdir())
    args = [arg for arg in fast_args if not arg.startswith("output_dir=")]
    procs = [
        start_script("train.py", *args, "trainer.epochs=1", f"optimizer.lr={lr}", cwd=tmp_path)
        for lr in (0.001, 0.002, 0.003)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
    new = sorted(set(runs.iterdir()) - taken)
    assert len(new) == 3, new
    assert all("-" in path.name[len("YYYYmmdd-HHMMSS") :] for path in new)  # suffixed names
    lrs = set()
    for run_dir in new:
        rows, _ = read_metrics(run_dir / "metrics.csv")
        assert [row["epoch"] for row in rows] == ["1"]
        config = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["config"]
        lrs.add(config["optimizer"]["lr"])
    assert lrs == {0.001, 0.002, 0.003}


def test_create_unique_dir_appends_a_suffix(tmp_path):
    assert create_unique_dir(tmp_path / "r") == tmp_path / "r"
    assert create_unique_dir(tmp_path / "r") == tmp_path / "r-1"
    assert create_unique_dir(tmp_path / "r") == tmp_path / "r-2"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["model.name=cnn"], "does not fit the configured SmallCNN"),
        (["model.hidden_sizes=[32]"], "does not fit the configured MLP"),
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
        (["data.name=mnist"], "of another shape"),  # 28x28 inputs instead of 8x8 (or the reverse)
{%- endif %}
    ],
)
def test_a_resume_that_does_not_fit_writes_nothing(finished_run, overrides, expected):
    if overrides == ["data.name=mnist"] and "{{ cookiecutter.dataset }}" != "digits":
        pytest.skip("this project has no digits data; MNIST and FashionMNIST share a shape")
    before = snapshot(finished_run)
    last = finished_run / "checkpoints" / "last.pt"
    line = assert_one_error_line(run_script("train.py", f"resume={last}", *overrides), 1)
    assert str(last) in line and expected in line
    assert snapshot(finished_run) == before


def test_checkpoint_with_another_class_count_or_optimizer_is_refused(config_factory):
    config = config_factory("model.name=mlp")  # whatever the bake's default model
    model = build_model(config.model, (1, 8, 8), 10)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 1, 8, 8)).sum().backward()
    optimizer.step()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "trainer": {},
        "rng": {},
        "config": {},
    }
    fewer_classes = build_model(config.model, (1, 8, 8), 5)
    with pytest.raises(
        CheckpointError,
        match=r"of another shape: 2 \(e.g. 'head.weight': \(10, 64\) in the file, \(5, 64\) in",
    ):
        check_resumable(checkpoint, "c.pt", fewer_classes, list(fewer_classes.parameters()))
    with pytest.raises(CheckpointError, match="optimizer state holds"):
        check_resumable(checkpoint, "c.pt", model, list(model.parameters())[:-1])
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        check_resumable({"model": checkpoint["model"]}, "c.pt", model, [])
    check_resumable(checkpoint, "c.pt", model, list(model.parameters()))  # fits: no error


def test_a_corrupt_metrics_csv_stops_a_resume_before_any_write(finished_run):
    (finished_run / "metrics.csv").write_bytes(b"\x00\xff\xfe garbage \x80\n1,2,3\n")
    before = snapshot(finished_run)
    last = finished_run / "checkpoints" / "last.pt"
    line = assert_one_error_line(run_script("train.py", f"resume={last}", "trainer.epochs=3"), 1)
    assert f"{finished_run / 'metrics.csv'} is corrupt" in line
    assert snapshot(finished_run) == before
