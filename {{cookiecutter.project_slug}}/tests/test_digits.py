"""The default data: scikit-learn's bundled digits, trained end to end offline."""

import json

import numpy as np
import pytest

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule

from .conftest import run_script


def test_digits_fast_loader_matches_scikit_learn():
    """The fast loader reads exactly what scikit-learn's ``load_digits`` returns."""
    from sklearn import datasets

    from {{cookiecutter.project_slug}}.data import digits

    images, targets = digits.load_digits_arrays()
    reference = datasets.load_digits()
    assert images.dtype == reference.images.dtype and images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(targets, reference.target)


def test_digits_split_and_shapes():
    datamodule = build_datamodule(load_config(overrides=["data.name=digits"]).data)
    sizes = len(datamodule.train_set), len(datamodule.val_set), len(datamodule.test_set)
    assert sum(sizes) == 1797 and sizes[2] == 359
    assert datamodule.input_shape == (1, 8, 8)
    assert abs(datamodule.train_set.inputs.mean().item()) < 1e-4  # standardized on train


@pytest.mark.slow  # the shipped 30 epochs; the quick suite trains digits in test_cli.py
def test_default_run_reaches_95_percent_test_accuracy(tmp_path):
    """``python train.py`` with the shipped defaults, as a new user runs it."""
    result = run_script(
        "train.py",
        "data.name=digits",
        f"output_dir={tmp_path / 'run'}",
        "trainer.progress_bar=false",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "run" / "test_metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.95, metrics
