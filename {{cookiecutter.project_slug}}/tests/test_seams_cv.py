"""k-fold where it meets the data modules and stopped runs: image folders (whose
samples carry their epoch for seeded augmentation) fold like every data module, each
fold's parts keep their own transforms, and a cv run stopped before a fold's first
checkpoint finishes with the same command."""

import json
import shutil

import pytest

import cv
import train
from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule

from .conftest import FAST, IMAGE_ARGS

pytestmark = pytest.mark.filterwarnings("ignore:Unable to enable fault handler")


def test_image_folder_folds_keep_each_parts_transforms(image_root):
    config = load_config(
        overrides=[*IMAGE_ARGS, f"data.root={image_root}", "data.folds=2", "data.fold=1"]
    )
    datamodule = build_datamodule(config.data, seed=0)
    train_set, val_set = datamodule.train_set, datamodule.val_set
    assert train_set.pipeline.key == "data.train_transforms"
    assert val_set.pipeline.key == "data.eval_transforms"
    assert not set(train_set.files) & set(val_set.files)
    assert set(datamodule.test_set.files).isdisjoint(train_set.files + val_set.files)
    images, _ = next(iter(datamodule.train_dataloader()))
    assert tuple(images.shape[1:]) == datamodule.input_shape


@pytest.mark.slow
def test_cv_and_one_fold_train_on_image_folders(tmp_path, image_root, capsys):
    args = [*FAST, *IMAGE_ARGS, f"data.root={image_root}", "trainer.epochs=1"]
    assert cv.main([*args, "data.folds=2", f"output_dir={tmp_path / 'cv'}"]) == 0
    summary = json.loads((tmp_path / "cv" / "cv_summary.json").read_text())
    assert summary["folds"] == 2 and "test_accuracy" in summary["metrics"]
    one = [*args, "data.folds=2", "data.fold=1", f"output_dir={tmp_path / 'one'}"]
    assert train.main(one) == 0
    assert (tmp_path / "one" / "test_metrics.json").is_file()


@pytest.mark.slow
def test_cv_stopped_before_a_folds_first_checkpoint_finishes_with_the_same_command(
    tmp_path, fast_args, capsys
):
    cv_dir = tmp_path / "cv"
    args = [*fast_args[:-1], "trainer.epochs=1", "trainer.limit_train_batches=2"]
    args += ["data.folds=2", f"output_dir={cv_dir}"]
    assert cv.main(args) == 0
    # What a kill after fold 0's first metrics row, before its first checkpoint, leaves.
    fold = cv_dir / "fold-0"
    for path in (fold / "checkpoints").iterdir():
        path.unlink()
    (fold / "test_metrics.json").unlink()
    (cv_dir / "cv_summary.json").unlink()
    finished = (cv_dir / "fold-1" / "test_metrics.json").read_bytes()
    capsys.readouterr()

    assert cv.main(args) == 0
    out = capsys.readouterr().out
    assert "starts over" in out and "fold 1: already trained" in out
    assert (fold / "test_metrics.json").is_file() and (cv_dir / "cv_summary.json").is_file()
    assert (cv_dir / "fold-1" / "test_metrics.json").read_bytes() == finished
    shutil.rmtree(cv_dir)
