"""image_folder end to end, in real train.py / predict.py processes: an experiment that
learns, classes through the checkpoint into predict.py, exact resume with workers and
random augmentation, transfer learning from a local weights file, one-line errors."""

import csv
import json
import re
import shutil

import pytest
import torch
from torchvision.models import resnet18

from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import FAST, IMAGE_ARGS, IMAGE_CLASSES, run_script, write_images
from .guard_tools import assert_one_error_line
from .resume_tools import assert_same_run, run_killed, write_killer

pytestmark = pytest.mark.slow  # several train.py subprocesses

# 27 training images in batches of 4: 7 batches per epoch, mid-epoch checkpoints every 3
# steps; random crops and flips, dropout, two worker processes.
RESUME = [
    *IMAGE_ARGS,
    "data.batch_size=4",
    "data.num_workers=2",
    "trainer.epochs=3",
    "model.dropout=0.3",
    "trainer.checkpoint.every_n_steps=3",
    "trainer.early_stopping.enabled=false",
    "trainer.train_metrics=true",
]


def test_experiment_learns_and_predict_prints_the_folder_classes(tmp_path, image_root):
    run_dir = tmp_path / "run"
    args = [*FAST, *IMAGE_ARGS, f"data.root={image_root}", f"output_dir={run_dir}"]
    proc = run_script("train.py", "experiment=images", *args, "trainer.epochs=6")
    assert proc.returncode == 0, proc.stderr
    accuracy = json.loads((run_dir / "test_metrics.json").read_text())["test_accuracy"]
    assert accuracy >= 0.75, accuracy  # chance is 1/3

    best = run_dir / "checkpoints" / "best.pt"
    assert load_checkpoint(best)["classes"] == sorted(IMAGE_CLASSES)
    new = write_images(tmp_path / "new", per_class=3, seed=99)  # unseen, other sizes/modes
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for path in new.rglob("*.*"):
        shutil.copy(path, inputs / f"{path.parent.name}-{path.name}")
    output = tmp_path / "predictions.csv"
    proc = run_script("predict.py", f"checkpoint={best}", f"input={inputs}", f"output={output}")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 9 and {row["class"] for row in rows} <= set(IMAGE_CLASSES)
    right = sum(row["file"].startswith(row["class"] + "-") for row in rows)
    assert right >= 7, rows
    for row in rows:  # predict.py prints the class names too
        assert re.search(rf"^{re.escape(row['file'])} +{row['class']}  \(", proc.stdout, re.M)


def test_sigkill_mid_epoch_with_workers_then_resume_is_exact(tmp_path, image_root):
    base = [*FAST, f"data.root={image_root}", *RESUME]
    reference = tmp_path / "reference"
    proc = run_script("train.py", *base, f"output_dir={reference}")
    assert proc.returncode == 0, proc.stderr

    killed = tmp_path / "killed"
    args = [*base, f"output_dir={killed}"]
    run_killed(write_killer(tmp_path), "step:11", args)  # last.pt: step 9, epoch 2 batch 2
    last = killed / "checkpoints" / "last.pt"
    state = load_checkpoint(last)["trainer"]
    assert (state["epoch"], state["global_step"], state["batch_in_epoch"]) == (1, 9, 2)
    proc = run_script("train.py", *args, f"resume={last}")
    assert proc.returncode == 0, proc.stderr
    assert_same_run(reference, killed)


def test_transfer_experiment_at_224_px_loads_a_local_weights_file(tmp_path, image_root):
    torch.manual_seed(5)
    weights = resnet18(weights=None).state_dict()  # stands in for downloaded ImageNet weights
    path = tmp_path / "resnet18.pth"
    torch.save(weights, path)
    run_dir = tmp_path / "run"
    proc = run_script(
        "train.py",
        "experiment=transfer_resnet18",
        *FAST,
        f"data.root={image_root}",
        "data.val_fraction=0.2",
        "data.test_fraction=0.2",
        "data.batch_size=8",
        "trainer.epochs=1",
        "trainer.limit_train_batches=2",
        f"model.weights={path}",
        f"output_dir={run_dir}",
    )
    assert proc.returncode == 0, proc.stderr
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert checkpoint["preprocessing"]["input_shape"] == [3, 224, 224]
    model = checkpoint["model"]
    backbone = {k: v for k, v in weights.items() if not k.startswith("fc.")}
    for name, value in backbone.items():  # loaded from the file, then frozen
        assert torch.equal(model[f"backbone.{name}"], value), name


def test_bad_inputs_are_one_line_errors(tmp_path):
    """The other bad inputs are checked in-process (test_image_folder.py); here the exit
    codes, and an image that fails inside a DataLoader worker."""
    root = write_images(tmp_path / "pics", per_class=6)
    args = [*FAST, *IMAGE_ARGS, f"data.root={root}", f"output_dir={tmp_path / 'run'}"]

    proc = run_script("train.py", *args, "data.train_transforms=[{name: RandomCrop, sise: 8}]")
    assert_one_error_line(proc, 2, "data.train_transforms[0]", "'sise'", "size")

    # Found only when a worker decodes it, mid-epoch: still one line naming the file.
    whole = (root / "leaf" / "001.jpg").read_bytes()
    (root / "leaf" / "001.jpg").write_bytes(whole[: len(whole) // 2])
    proc = run_script("train.py", *args, "data.num_workers=2", "data.normalize=imagenet")
    assert_one_error_line(proc, 1, "001.jpg", "truncated")
    assert not (tmp_path / "run" / "checkpoints" / "best.pt").exists()
