"""Guard rails for checkpoints given to evaluate.py and predict.py: anything that is not a
usable training checkpoint is one ``error:`` line naming the file (exit 1) and nothing
is written; evaluate.py writes its metrics only where it may (see its docstring)."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from {{cookiecutter.project_slug}}.run import write_test_metrics
from {{cookiecutter.project_slug}}.saver.checkpoint import serialize
from {{cookiecutter.project_slug}}.utils.errors import UserError

from .conftest import run_script
from .guard_tools import assert_one_error_line, snapshot, train_tiny_run

# Real script runs, many per test; the option bakes skip them (they test no option).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_root) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("guard_checkpoints") / "run", data_root)


def write_bad_checkpoint(kind: str, folder: Path, good: Path) -> tuple[Path, list[str]]:
    """A checkpoint path that must be refused, and what the one error line must say."""
    path = folder / f"{kind}.pt"
    state = torch.load(good, weights_only=True)
    if kind == "empty":
        path.write_bytes(b"")
        return path, ["is empty (0 bytes)"]
    if kind == "text":
        path.write_text("these are not weights\n")
        return path, ["was not written by torch.save", "train.py"]
    if kind == "bare_tensor":
        torch.save(torch.zeros(3), path)
        return path, ["holds a Tensor", "train.py"]
    if kind == "bare_state_dict":
        torch.save(state["model"], path)  # torch.save(model.state_dict(), path)
        return path, ["bare model state_dict", "written by train.py", "model.load_state_dict"]
    if kind == "folder":
        path.mkdir()
        return path, ["is a folder, not a file"]
    if kind == "missing":
        return path, ["does not exist"]
    if kind == "nan_weights":
        first = next(name for name, t in state["model"].items() if t.is_floating_point())
        state["model"] = {name: t.clone() for name, t in state["model"].items()}
        state["model"][first].view(-1)[0] = float("nan")
        path.write_bytes(serialize(state))  # as train.py saves a run that diverged
        return path, ["non-finite model weights", repr(first)]
    if kind == "inf_weights":
        last = [name for name, t in state["model"].items() if t.is_floating_point()][-1]
        state["model"] = {name: t.clone() for name, t in state["model"].items()}
        state["model"][last].view(-1)[-1] = float("inf")
        path.write_bytes(serialize(state))
        return path, ["non-finite model weights", repr(last)]
    if kind == "negated_weights":
        # Changed in place after the save, at the same size (its digests kept).
        last = [name for name, t in state["model"].items() if t.is_floating_point()][-1]
        state["model"][last].neg_()
        torch.save(state, path)
        return path, ["was changed after it was saved", repr(f"model/{last}"), "sha256"]
    assert kind == "weights_do_not_fit"
    # Every tensor cut to one column: the shapes no longer match the config's model
    # (digests recorded again: the config's model is what refuses them).
    state["model"] = {n: t[..., :1].clone() if t.ndim else t for n, t in state["model"].items()}
    path.write_bytes(serialize(state))
    return path, ["do not fit", "of another shape"]


KINDS = [
    "empty",
    "text",
    "bare_tensor",
    "bare_state_dict",
    "folder",
    "missing",
    "nan_weights",
    "inf_weights",
    "negated_weights",
    "weights_do_not_fit",
]


def an_input_image(run_dir: Path, folder: Path) -> Path:
    """A valid image of the checkpoint's input size, so predict.py reaches the checkpoint."""
    checkpoint = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    _, height, width = checkpoint["preprocessing"]["input_shape"]
    path = folder / "digit.png"
    Image.new("L", (width, height), 128).save(path)
    return path


@pytest.mark.parametrize("script", ["evaluate.py", "predict.py"])
@pytest.mark.parametrize("kind", KINDS)
def test_unusable_checkpoint_is_one_line_naming_the_file(run_dir, tmp_path, script, kind):
    bad = tmp_path / "downloads"
    bad.mkdir()
    path, fragments = write_bad_checkpoint(kind, bad, run_dir / "checkpoints" / "best.pt")
    args = [f"checkpoint={path}"]
    if script == "predict.py":
        args.append(f"input={an_input_image(run_dir, tmp_path)}")
    before = snapshot(tmp_path)

    proc = run_script(script, *args, cwd=tmp_path)

    assert_one_error_line(proc, 1, str(path), *fragments)
    assert snapshot(tmp_path) == before  # no predictions.csv, no test_metrics.json


def test_strict_json_refuses_non_finite_metrics(tmp_path):
    """The backstop behind the weight check: JSON never gets NaN (invalid JSON)."""
    destination = tmp_path / "metrics.json"
    with pytest.raises(UserError, match="not finite"):
        write_test_metrics({"test_loss": float("nan"), "test_accuracy": 0.5}, destination)
    assert not destination.exists()


def strict_json(path: Path) -> dict:
    def refuse(constant):
        raise AssertionError(f"{path} holds {constant}: not valid JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.parametrize("script", ["evaluate.py", "predict.py"])
def test_a_checkpoint_without_digests_loads_with_one_warning(run_dir, tmp_path, script):
    """Checkpoints saved before digests were recorded are still the user's models."""
    state = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    assert state.pop("integrity")["tensors"].keys() >= {f"model/{n}" for n in state["model"]}
    old = tmp_path / "old.pt"
    torch.save(state, old)
    args = [f"checkpoint={old}", f"output={tmp_path / 'out'}"]
    if script == "predict.py":
        args.append(f"input={an_input_image(run_dir, tmp_path)}")

    proc = run_script(script, *args, cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "digests" in line]
    assert warned == [
        f"checkpoint {old} records no content digests (written by an older version): "
        "loaded without an integrity check"
    ], proc.stderr


def test_checkpoint_outside_a_run_directory_writes_nothing(run_dir, tmp_path):
    """``work/downloads/model.pt``: the old code wrote ``work/test_metrics.json``,
    replacing the user's own file there."""
    work = tmp_path / "work"
    (work / "downloads").mkdir(parents=True)
    checkpoint = work / "downloads" / "model.pt"
    shutil.copy(run_dir / "checkpoints" / "best.pt", checkpoint)
    (work / "test_metrics.json").write_text("my own notes\n")
    before = snapshot(tmp_path)

    proc = run_script("evaluate.py", f"checkpoint={checkpoint}", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "test_accuracy: " in proc.stdout
    assert f"metrics not saved: {checkpoint} is not in a run directory" in proc.stdout
    assert "output=" in proc.stdout
    assert snapshot(tmp_path) == before


def test_a_checkpoints_folder_without_the_runs_config_is_not_a_run(run_dir, tmp_path):
    folder = tmp_path / "mine" / "checkpoints"
    folder.mkdir(parents=True)
    shutil.copy(run_dir / "checkpoints" / "best.pt", folder / "best.pt")
    (tmp_path / "mine" / "test_metrics.json").write_text("keep\n")
    before = snapshot(tmp_path)

    proc = run_script("evaluate.py", f"checkpoint={folder / 'best.pt'}", cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "metrics not saved" in proc.stdout
    assert snapshot(tmp_path) == before


def test_inside_its_run_directory_the_runs_file_is_replaced_and_said_so(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "test_metrics.json").write_text("{}\n")

    proc = run_script("evaluate.py", f"checkpoint={run / 'checkpoints' / 'best.pt'}")

    assert proc.returncode == 0, proc.stderr
    metrics_file = run / "test_metrics.json"
    assert f"metrics written to {metrics_file} (replaced the previous file)" in proc.stdout
    assert strict_json(metrics_file).keys() >= {"test_loss", "test_accuracy"}


def test_explicit_output_is_written_and_an_existing_one_needs_overwrite(run_dir, tmp_path):
    checkpoint = run_dir / "checkpoints" / "best.pt"
    output = tmp_path / "out" / "metrics.json"

    proc = run_script("evaluate.py", f"checkpoint={checkpoint}", f"output={output}")
    assert proc.returncode == 0, proc.stderr
    assert f"metrics written to {output}\n" in proc.stdout
    assert "test_accuracy" in strict_json(output)

    output.write_text("the user's file\n")
    proc = run_script("evaluate.py", f"checkpoint={checkpoint}", f"output={output}")
    assert_one_error_line(proc, 1, f"output={output} already exists", "overwrite=true")
    assert output.read_text() == "the user's file\n"
    assert proc.stdout == ""  # refused before evaluating

    proc = run_script(
        "evaluate.py", f"checkpoint={checkpoint}", f"output={output}", "overwrite=true"
    )
    assert proc.returncode == 0, proc.stderr
    assert "(replaced the previous file)" in proc.stdout
    assert "test_accuracy" in strict_json(output)


@pytest.mark.parametrize("where", ["folder", "under_a_file"])
def test_output_that_cannot_be_a_file_is_refused_before_evaluating(run_dir, tmp_path, where):
    (tmp_path / "notes.txt").write_text("a file\n")
    output = tmp_path if where == "folder" else tmp_path / "notes.txt" / "metrics.json"
    fragment = "is a folder" if where == "folder" else "notes.txt is a file, not a folder"
    before = snapshot(tmp_path)

    proc = run_script(
        "evaluate.py", f"checkpoint={run_dir / 'checkpoints' / 'best.pt'}", f"output={output}"
    )

    assert_one_error_line(proc, 1, f"output={output}", fragment)
    assert snapshot(tmp_path) == before


def test_overwrite_takes_true_or_false_only(run_dir, tmp_path):
    proc = run_script(
        "evaluate.py",
        f"checkpoint={run_dir / 'checkpoints' / 'best.pt'}",
        f"output={tmp_path / 'm.json'}",
        "overwrite=yes",
    )
    assert_one_error_line(proc, 2, "overwrite='yes'", "true or false")
    assert not (tmp_path / "m.json").exists()
