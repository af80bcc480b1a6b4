"""``trainer.strategy=fsdp`` through real ``torchrun`` (2 CPU processes, gloo): FSDP2
trains as DDP does, its shard-folder checkpoints resume exactly after a SIGKILL, a
folder written by 2 processes is evaluated, predicted from, exported and resumed by
one, and damaged or foreign folders are refused in one line."""

import hashlib
import json
import os
import pickle
import shutil
import signal

import pytest
import torch

from {{ cookiecutter.project_slug }}.logger import read_metrics
from {{ cookiecutter.project_slug }}.run.resume import resolve_auto_resume
from {{ cookiecutter.project_slug }}.saver import (
    CheckpointError,
    load_checkpoint,
    newest_checkpoint,
)

from .conftest import FAST, run_script, stop_process
from .rank_kill import write_rank_killer
from .resume_tools import RESUME_ARGS, TIMING_COLUMNS, start_train
from .test_cluster import TRAIN_PY, output, run, torchrun_command
from .test_notebook import MISSING, execute_notebook

# Several real torchrun jobs each.
pytestmark = pytest.mark.slow

# RESUME_ARGS: 3 epochs x 8 steps, dropout, last checkpoint every 3 steps, cosine LR.
# An MLP in every bake (image_folder's default is the SmallCNN, whose BatchNorm statistics
# DDP broadcasts from rank 0 and FSDP does not); the cnn case below asks for it.
ARGS = [*RESUME_ARGS, "trainer.device=cpu", "data.eval_batch_size=64", "model.name=mlp"]
FSDP = "trainer.strategy=fsdp"
OTHER_MODEL = ("model.hidden_sizes=[16]", "trainer.epochs=1")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_root):
    """``runs(strategy, *overrides)``: one uninterrupted 2-process run with ``ARGS``,
    made once."""
    cache = {}

    def make(strategy: str, *overrides: str):
        key = (strategy, *overrides)
        if key not in cache:
            run_dir = tmp_path_factory.mktemp(strategy) / "run"
            args = [*FAST, f"data.root={data_root}", *ARGS, f"trainer.strategy={strategy}"]
            command = torchrun_command(TRAIN_PY, *args, *overrides, f"output_dir={run_dir}")
            proc = run(command)
            assert proc.returncode == 0, output(proc)
            cache[key] = run_dir
        return cache[key]

    return make


def final_weights(run_dir, name: str = "last") -> dict[str, torch.Tensor]:
    checkpoints = run_dir / "checkpoints"
    folder = checkpoints / f"{name}.dcp"
    return load_checkpoint(folder if folder.exists() else checkpoints / f"{name}.pt")["model"]


def test_fsdp_trains_as_ddp_does(runs):
    """Same losses (within 1e-6) every epoch over 3 epochs, and the same weights."""
    ddp, fsdp = runs("ddp"), runs("fsdp")
    assert (fsdp / "checkpoints" / "last.dcp" / ".metadata").is_file()
    assert not (fsdp / "checkpoints" / "last.pt").exists()
    ddp_rows, _ = read_metrics(ddp / "metrics.csv")
    fsdp_rows, _ = read_metrics(fsdp / "metrics.csv")
    assert len(ddp_rows) == len(fsdp_rows) == 3
    worst = 0.0
    for ddp_row, fsdp_row in zip(ddp_rows, fsdp_rows, strict=True):
        for column in ("train_loss", "val_loss"):
            worst = max(worst, abs(float(ddp_row[column]) - float(fsdp_row[column])))
    print(f"largest FSDP - DDP loss difference over 3 epochs: {worst:.2e}")
    assert worst <= 1e-6
    expected, got = final_weights(ddp), final_weights(fsdp)
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("async_save", "model"),
    [("false", ()), ("true", ()), ("false", ("model.name=cnn",))],  # cnn: BatchNorm buffers
    ids=["sync", "async_save", "cnn"],
)
def test_fsdp_killed_mid_epoch_then_resume_auto_is_exact(
    tmp_path, fast_args, runs, async_save, model
):
    """SIGKILL rank 1 right after step 7 (last.dcp holds step 6, or step 3 when the
    background save of step 6 was not swapped in yet); ``resume=auto`` with 2 processes
    gives the uninterrupted run's weights (and buffers) bit for bit, and its metrics."""
    killer = write_rank_killer(tmp_path)
    args = [*fast_args, *ARGS, FSDP, f"trainer.checkpoint.async_save={async_save}", *model]
    killed = run(torchrun_command(killer, "step:7", TRAIN_PY, *args), env={"KILL_RANK": "1"})
    assert killed.returncode != 0 and "SIGKILL at" in killed.stdout, output(killed)
    last = tmp_path / "run" / "checkpoints" / "last.dcp"
    progress = load_checkpoint(last)["trainer"]
    step = progress["global_step"]
    assert step == 6 or (async_save == "true" and step == 3), progress
    assert (progress["epoch"], progress["batch_in_epoch"]) == (0, step)

    resumed = run(torchrun_command(TRAIN_PY, *args, "resume=auto"))
    assert resumed.returncode == 0, output(resumed)
    assert f"continuing from {last} (epoch 0 done, step {step}, batch {step}" in resumed.stdout
    reference = runs("fsdp", *model)
    expected, got = final_weights(reference), final_weights(tmp_path / "run")
    for name in expected:
        assert torch.equal(expected[name], got[name]), f"weights differ: {name}"
    ref_rows, columns = read_metrics(reference / "metrics.csv")
    rows, _ = read_metrics(tmp_path / "run" / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    for ref_row, row in zip(ref_rows, rows, strict=True):
        for column in set(columns) - TIMING_COLUMNS:
            assert row[column] == ref_row[column], (row["epoch"], column)


def test_two_process_shards_serve_one_process(runs, tmp_path):
    """best.dcp from 2 processes: evaluate.py, predict.py and export.py with one process
    give the 2-process run's test metrics and its model's outputs."""
    run_dir = runs("fsdp")
    best = run_dir / "checkpoints" / "best.dcp"
    tested = json.loads((run_dir / "test_metrics.json").read_text())
    out = tmp_path / "eval.json"
    proc = run_script("evaluate.py", f"checkpoint={best}", f"output={out}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    evaluated = json.loads(out.read_text())
    assert evaluated["test_accuracy"] == tested["test_accuracy"]
    assert abs(evaluated["test_loss"] - tested["test_loss"]) <= 1e-6

    shape = load_checkpoint(best, "cpu")["preprocessing"]["input_shape"]  # the run's data
    inputs = torch.rand(3, *shape)
    torch.save(inputs, tmp_path / "batch.pt")
    predictions = tmp_path / "predictions.csv"
    argv = [f"checkpoint={best}", f"input={tmp_path / 'batch.pt'}", f"output={predictions}"]
    proc = run_script("predict.py", *argv)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(predictions.read_text().strip().splitlines()) == 4  # header + 3 rows

    exported = tmp_path / "best.safetensors"
    argv = [f"checkpoint={best}", "format=safetensors", f"output={exported}"]
    proc = run_script("export.py", *argv)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from safetensors.torch import load_file

    weights = load_file(exported)
    expected = final_weights(run_dir, "best")
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[name], expected[name]) for name in expected)


def test_two_process_shards_resume_with_one_process(runs, tmp_path, fast_args):
    """A mid-training folder of 2 processes continues in one process (unsharded), saying
    once that the data order changes; it trains to the end."""
    run_dir = tmp_path / "run"
    shutil.copytree(runs("fsdp"), run_dir)
    args = [*fast_args, *ARGS, FSDP, "trainer.epochs=4", "resume=auto"]
    proc = run_script("train.py", *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    note = "written by 2 process(es), this run has 1: the data order changes"
    assert proc.stdout.count(note) == 1, proc.stdout[-3000:]
    assert "fsdp with one process: nothing to shard, training unsharded" in proc.stderr
    assert [row["epoch"] for row in read_metrics(run_dir / "metrics.csv")[0]] == [
        "1",
        "2",
        "3",
        "4",
    ]
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["trainer"]["epoch"] == 4


def damaged(runs, tmp_path, name: str = "best.dcp"):
    folder = tmp_path / name
    shutil.copytree(runs("fsdp") / "checkpoints" / "best.dcp", folder)
    return folder


def refused(folder, expected: str) -> None:
    """evaluate.py refuses ``folder`` in one line naming it, exit 1, nothing written."""
    out = folder.parent / "eval.json"
    proc = run_script("evaluate.py", f"checkpoint={folder}", f"output={out}")
    assert proc.returncode == 1, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and str(folder) in lines[0], proc.stderr
    assert not out.exists()


def test_damaged_and_foreign_shard_folders_are_refused(runs, tmp_path):
    folder = damaged(runs, tmp_path, "truncated.dcp")
    shard = folder / "__1_0.distcp"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    refused(folder, "is truncated or changed")

    folder = damaged(runs, tmp_path, "missing.dcp")
    (folder / "__0_0.distcp").unlink()
    refused(folder, "is missing the shard __0_0.distcp")

    folder = damaged(runs, tmp_path, "unfinished.dcp")
    (folder / "state.pt").unlink()
    refused(folder, "has no state.pt")

    # Another model's shards copied over this folder's (its state.pt kept).
    foreign = damaged(runs, tmp_path, "foreign.dcp")
    other = runs("fsdp", *OTHER_MODEL) / "checkpoints" / "best.dcp"
    for path in other.iterdir():
        if path.name != "state.pt":
            shutil.copy(path, foreign / path.name)
    refused(foreign, "is not the one its state.pt was saved with")


def negate_a_row(folder, shard: str) -> str:
    """Negate, in place in the shard file, the last row of the first weight matrix (FSDP
    splits rows: the last ones are the last rank's; DCP stores the values as they are)."""
    data = bytearray((folder / shard).read_bytes())
    for name, tensor in load_checkpoint(folder)["model"].items():
        row = tensor[-1].contiguous()
        start = data.find(row.numpy().tobytes()) if tensor.ndim == 2 else -1
        if start >= 0 and bool(row.ne(0).any()):
            data[start : start + row.numel() * 4] = (-row).numpy().tobytes()
            (folder / shard).write_bytes(bytes(data))
            return name
    raise AssertionError(f"no weight row found in {folder / shard}")


def test_a_shard_of_another_epoch_or_a_tensor_changed_in_place_is_refused(runs, tmp_path):
    """Same sizes and the same index as the saved shard: only its sha256 tells them apart.
    Without digests (a folder written by an older version) it loads, with one warning."""
    checkpoints = runs("fsdp") / "checkpoints"
    shard = "__1_0.distcp"
    best = (checkpoints / "best.dcp" / shard).read_bytes()
    epochs = sorted(checkpoints.glob("epoch=*.dcp"))
    other = next(p / shard for p in epochs if (p / shard).read_bytes() != best)
    assert other.stat().st_size == len(best)  # the size check cannot tell them apart
    swapped = damaged(runs, tmp_path, "swapped.dcp")
    shutil.copy(other, swapped / shard)
    refused(swapped, f"the shard {shard} is not the one saved (its sha256 differs")

    changed = damaged(runs, tmp_path, "changed.dcp")
    negate_a_row(changed, shard)
    refused(changed, f"the shard {shard} is not the one saved")

    old = damaged(runs, tmp_path, "old.dcp")
    state = torch.load(old / "state.pt", weights_only=True)
    del state["integrity"]
    torch.save(state, old / "state.pt")
    proc = run_script("evaluate.py", f"checkpoint={old}", f"output={tmp_path / 'old.json'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    warned = [line for line in proc.stderr.splitlines() if "digests" in line]
    assert warned == [
        f"checkpoint {old} records no content digests (written by an older version): "
        "loaded without an integrity check"
    ], proc.stderr


class Payload:
    """Pickled, it calls ``os.system`` when loaded by a plain ``pickle.load``."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_crafted_index_is_refused_before_it_runs(runs, tmp_path):
    """DCP reads ``.metadata`` with pickle: a folder whose index (and the state.pt that
    vouches for it) was crafted to run code is refused, and the code never runs."""
    folder = damaged(runs, tmp_path, "crafted.dcp")
    marker = tmp_path / "code_ran"
    index = folder / ".metadata"
    index.write_bytes(pickle.dumps(Payload(marker)))
    state = torch.load(folder / "state.pt", weights_only=True)
    state["shards"]["files"][".metadata"] = index.stat().st_size
    state["shards"]["metadata_sha256"] = hashlib.sha256(index.read_bytes()).hexdigest()
    state["integrity"]["files"][".metadata"] = state["shards"]["metadata_sha256"]
    torch.save(state, folder / "state.pt")
    refused(folder, "holds pickled Python objects other than DCP's index")
    assert not marker.exists()


def test_another_models_shard_folders_are_not_resumed(runs, tmp_path, fast_args):
    """A run dir holding only another model's shard folders: resume=auto refuses in one
    line (exit 1) and writes nothing; resume=<that folder> with this model refuses too."""
    run_dir = tmp_path / "run"
    shutil.copytree(runs("fsdp", *OTHER_MODEL) / "checkpoints", run_dir / "checkpoints")
    before = sorted(p.name for p in run_dir.rglob("*"))
    proc = run_script("train.py", *fast_args, *ARGS, FSDP, "resume=auto")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds checkpoints of another run only" in lines[0], proc.stderr
    assert sorted(p.name for p in run_dir.rglob("*")) == before


def test_a_file_of_a_shard_folder_or_a_fake_folder_is_refused(runs, tmp_path):
    folder = runs("fsdp") / "checkpoints" / "best.dcp"
    for given in (folder / "__0_0.distcp", folder / "state.pt"):
        with pytest.raises(CheckpointError, match="is one file of the shard folder"):
            load_checkpoint(given)
    fake = tmp_path / "last.dcp"
    fake.write_bytes((runs("ddp") / "checkpoints" / "last.pt").read_bytes())
    with pytest.raises(CheckpointError, match="is not a shard folder written by train.py"):
        load_checkpoint(fake)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(CheckpointError, match="is a folder, not a file"):
        load_checkpoint(plain)


def test_resume_auto_skips_a_damaged_shard_folder(runs, tmp_path):
    """The newest folder with a truncated shard is skipped, named; the next is chosen."""
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(runs("fsdp") / "checkpoints", checkpoints)
    shard = checkpoints / "last.dcp" / "__0_0.distcp"
    shard.write_bytes(shard.read_bytes()[:100])
    path, progress = newest_checkpoint(checkpoints)
    assert path.suffix == ".dcp" and path.name != "last.dcp"
    assert progress.epoch >= 1


def test_resume_auto_finds_the_folder_an_interrupted_swap_moved_aside(
    runs, tmp_path, data_root, capsys
):
    """SIGKILL between ``swap_in``'s two renames: ``last.dcp`` is moved aside as
    ``.last.dcp.old.tmp`` (complete), the new save waits in ``.last.dcp.tmp`` (here
    without its state.pt: unfinished). resume=auto puts the old folder back and
    continues from it instead of starting the run over."""
    run_dir = tmp_path / "run"
    shutil.copytree(runs("fsdp"), run_dir)
    checkpoints = run_dir / "checkpoints"
    saved = load_checkpoint(checkpoints / "last.dcp")["trainer"]
    shutil.copytree(checkpoints / "last.dcp", checkpoints / ".last.dcp.tmp")
    (checkpoints / ".last.dcp.tmp" / "state.pt").unlink()
    (checkpoints / "last.dcp").rename(checkpoints / ".last.dcp.old.tmp")
    args = [*FAST, f"data.root={data_root}", *ARGS, FSDP, f"output_dir={run_dir}"]

    overrides = resolve_auto_resume(None, [*args, "resume=auto"])

    assert f"resume={checkpoints / 'last.dcp'}" in overrides
    assert f"resume=auto: continuing from {checkpoints / 'last.dcp'}" in capsys.readouterr().out
    assert load_checkpoint(checkpoints / "last.dcp")["trainer"] == saved
    assert not (checkpoints / ".last.dcp.old.tmp").exists()


@pytest.mark.skipif(bool(MISSING), reason="the notebook extra is not installed")
def test_the_notebook_explores_a_sharded_run(runs, monkeypatch):
    """A finished FSDP run has best.dcp, no best.pt: the notebook reads it as
    evaluate.py does."""
    run_dir = runs("fsdp")
    best = run_dir / "checkpoints" / "best.dcp"
    assert not (run_dir / "checkpoints" / "best.pt").exists()
    text, images, _ = execute_notebook(run_dir, best, monkeypatch)
    assert images >= 3, text


def test_run_dir_lock_and_sigterm_save_under_fsdp(tmp_path, fast_args):
    """While a sharded run trains, a second one into its run dir is refused in one line;
    SIGTERM to torchrun then stops the first at a step boundary with a saved last.dcp."""
    killer = write_rank_killer(tmp_path)
    # The ranks compare stop flags every log step: every step here.
    args = [*fast_args, *ARGS, FSDP, "trainer.log_every_n_steps=1"]
    launcher = torchrun_command(killer, "pause:2", TRAIN_PY, *args)
    first = start_train([], command=launcher, start_new_session=True)
    try:
        for line in first.stdout:
            if "paused after step 2" in line:
                break
        second = run(torchrun_command(TRAIN_PY, *args))
        assert second.returncode != 0
        assert "is in use by another run" in second.stderr, output(second)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=120)
    finally:
        stop_process(first, timeout=60)
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.dcp")
    assert (state["trainer"]["global_step"], state["trainer"]["batch_in_epoch"]) == (2, 2)
