"""K-fold cross-validation: stratified folds of the training split fixed by
data.split_seed, for every data module (the test split untouched), and cv.py training
every fold and reporting mean ± std."""

import json
import statistics

import pytest
import torch
from torch.utils.data import Dataset

import cv
from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.data import (
    DATAMODULES,
    BaseDataModule,
    build_datamodule,
)
from {{cookiecutter.project_slug}}.data.folds import fold_indices

from .conftest import run_script


def test_folds_partition_the_data_stratified_and_fixed_by_the_seed():
    targets = torch.arange(103) % 4  # 26, 26, 26, 25 samples per class
    folds = [fold_indices(targets, 5, i, seed=7) for i in range(5)]
    vals = [val for _, val in folds]
    assert sorted(torch.cat(vals).tolist()) == list(range(103))  # each sample in one fold
    for train, val in folds:
        assert sorted(torch.cat([train, val]).tolist()) == list(range(103))
        assert len(val) in (20, 21)
        per_class = torch.bincount(targets[val], minlength=4)
        share = torch.bincount(targets, minlength=4) / 5
        assert ((per_class - share).abs() <= 1).all(), per_class
    assert torch.equal(fold_indices(targets, 5, 2, seed=7)[1], vals[2])
    assert not torch.equal(fold_indices(targets, 5, 2, seed=8)[1], vals[2])


def fingerprints(dataset) -> set:
    return {tuple(dataset[i][0].flatten()[:300].tolist()) for i in range(len(dataset))}


@pytest.mark.parametrize("name", [n for n in ("digits", "mnist") if n in DATAMODULES.entries])
def test_a_fold_of_a_data_module_leaves_the_test_split_alone(config_factory, name):
    plain = build_datamodule(config_factory(f"data.name={name}").data)
    pool = fingerprints(plain.train_set) | fingerprints(plain.val_set)
    seen = set()
    for fold in range(3):
        config = config_factory(f"data.name={name}", "data.folds=3", f"data.fold={fold}")
        datamodule = build_datamodule(config.data)
        val, train = fingerprints(datamodule.val_set), fingerprints(datamodule.train_set)
        assert not val & train and val | train <= pool
        sizes = len(datamodule.val_set) + len(datamodule.train_set)
        assert sizes == len(plain.train_set) + len(plain.val_set)
        assert not val & seen  # each fold validates on other samples
        seen |= val
        assert torch.equal(datamodule.test_set.inputs, plain.test_set.inputs)
    assert seen == pool


class Listed(Dataset):
    """A plain map-style dataset, as a new data module might return (no tensors held)."""

    classes = ["a", "b"]

    def __init__(self, start: int, n: int, with_targets: bool) -> None:
        self.items = [(torch.tensor([float(start + i)]), (start + i) % 2) for i in range(n)]
        if with_targets:
            self.targets = [label for _, label in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        return self.items[index]


@pytest.mark.parametrize("with_targets", [True, False])
def test_any_data_module_gets_folds_from_the_base_class(config_factory, with_targets):
    class Listing(BaseDataModule):
        def setup(self):
            return (
                Listed(0, 30, with_targets),
                Listed(30, 10, with_targets),
                Listed(100, 5, with_targets),
            )

    values = set()
    for fold in range(4):
        config = config_factory("data.folds=4", f"data.fold={fold}")
        datamodule = Listing(config.data)
        val = [datamodule.val_set[i] for i in range(len(datamodule.val_set))]
        assert len(val) == 10 and sorted(label for _, label in val) == [0] * 5 + [1] * 5
        values |= {int(x) for x, _ in val}
        assert len(datamodule.train_set) == 30 and len(datamodule.test_set) == 5
        assert datamodule.classes == ["a", "b"]
    assert values == set(range(40))


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (["data.folds=1"], "data.folds=1 leaves nothing"),
        (["data.folds=3", "data.fold=3"], "use 0..2"),
        (["data.fold=1"], "needs data.folds"),
    ],
)
def test_fold_settings_are_checked_at_load(config_factory, overrides, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        config_factory(*overrides)


@pytest.mark.slow
def test_cv_trains_every_fold_and_reports_mean_and_std(tmp_path, fast_args):
    cv_dir = tmp_path / "cv"
    args = [a for a in fast_args if not a.startswith("output_dir=")]
    result = run_script("cv.py", *args, "data.folds=3", "trainer.epochs=1", f"output_dir={cv_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    folds = [cv_dir / f"fold-{i}" for i in range(3)]
    tests = [json.loads((d / "test_metrics.json").read_text()) for d in folds]
    summary = json.loads((cv_dir / "cv_summary.json").read_text())
    assert summary["folds"] == 3
    for name in ("test_accuracy", "test_loss", "val_accuracy", "val_loss"):
        assert name in summary["metrics"], summary["metrics"].keys()
    accuracy = [t["test_accuracy"] for t in tests]
    stats = summary["metrics"]["test_accuracy"]
    assert stats["folds"] == pytest.approx(accuracy)
    assert stats["mean"] == pytest.approx(statistics.fmean(accuracy))
    assert stats["std"] == pytest.approx(statistics.stdev(accuracy))
    line = next(x for x in result.stdout.splitlines() if x.startswith("test_accuracy "))
    assert f"{stats['mean']:.4f} ± {stats['std']:.4f}" in line
    configs = [(d / "config.yaml").read_text() for d in folds]
    assert all(f"fold: {i}" in c and "folds: 3" in c for i, c in enumerate(configs))
    # Run again: every fold is already trained, only the summary is made again.
    again = run_script("cv.py", *args, "data.folds=3", "trainer.epochs=1", f"output_dir={cv_dir}")
    assert again.returncode == 0 and again.stdout.count("already trained") == 3, again.stderr


def test_cv_needs_folds(fast_args, capsys):
    assert cv.main(fast_args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.folds=K" in err[0], err
