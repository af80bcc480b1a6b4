"""Small data: the run says how many samples each split holds and how many per class, and
warns (saying what to do) when the validation split is too small for the monitored value
to mean anything, or the test split too small for its figures to."""

import logging
import re

import pytest

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.data.summary import (
    MIN_VAL_PER_CLASS,
    MIN_VAL_SAMPLES,
    describe_splits,
    small_test_warning,
    small_validation_warning,
)

from .conftest import IMAGE_ARGS, IMAGE_CLASSES, write_images


def image_datamodule(root, *overrides):
    config = load_config(overrides=[*IMAGE_ARGS, f"data.root={root}", *overrides])
    return config, build_datamodule(config.data, seed=0)


def test_split_sizes_and_samples_per_class_are_described(image_root):
    _, dm = image_datamodule(image_root)
    lines = describe_splits(dm)
    sizes = {name: len(getattr(dm, f"{name}_set")) for name in ("train", "val", "test")}
    assert lines[0] == (
        f"data: {sum(sizes.values())} samples, {len(IMAGE_CLASSES)} classes; "
        f"train {sizes['train']}, val {sizes['val']}, test {sizes['test']}"
    )
    # One line per class: train/val/test counts that add up to the split sizes.
    per_class = {}
    for line in lines[2:]:
        name, counts = line.split()[0], line.split()[1:]
        per_class[name] = [int(n) for n in counts]
    assert set(per_class) == set(IMAGE_CLASSES)
    for column, split in enumerate(("train", "val", "test")):
        assert sum(counts[column] for counts in per_class.values()) == sizes[split]


def test_a_small_validation_split_warns_and_says_what_to_do(image_root):
    config, dm = image_datamodule(image_root)  # 42 images: val holds about 7
    assert len(dm.val_set) < MIN_VAL_SAMPLES
    warning = small_validation_warning(dm, config)
    assert warning is not None
    assert f"{len(dm.val_set)} samples" in warning
    assert "val_loss" in warning  # the monitored value, by name
    # 33 images to cut validation from: no fraction up to a half holds out 50.
    assert "Add data (no data.val_fraction up to 0.5 holds out enough)" in warning
    assert f"patience={config.trainer.early_stopping.patience} now" in warning
{%- if cookiecutter.profile == "full" %}
    assert "k-fold (data.folds=5 data.fold=0..4)" in warning
{%- endif %}


def test_the_advised_val_fraction_holds_out_enough(tmp_path):
    """180 images (a student's first set): the warning names the smallest val_fraction
    that holds out enough, and with it the warning is gone (one hundredth less: not)."""
    write_images(tmp_path, per_class=60)
    config, dm = image_datamodule(tmp_path)
    warning = small_validation_warning(dm, config)
    advised = re.search(r"data.val_fraction=0.2 now; (0\.\d+) is enough", warning or "")
    assert advised, warning
    fraction = float(advised[1])
    config, dm = image_datamodule(tmp_path, f"data.val_fraction={fraction}")
    assert len(dm.val_set) >= MIN_VAL_SAMPLES
    assert small_validation_warning(dm, config) is None
    config, dm = image_datamodule(tmp_path, f"data.val_fraction={fraction - 0.01:.2f}")
    assert small_validation_warning(dm, config) is not None
{%- if cookiecutter.profile == "full" %}


def test_with_k_fold_the_warning_advises_fewer_folds(image_root):
    config, dm = image_datamodule(image_root, "data.folds=10", "data.fold=0")
    warning = small_validation_warning(dm, config)
    assert warning is not None and "Use fewer folds (data.folds=10 now)" in warning
    assert "val_fraction" not in warning and "data.folds=5" not in warning
{%- endif %}


def test_a_class_with_few_validation_samples_warns(tmp_path):
    write_images(tmp_path, per_class=70)
    for extra in sorted((tmp_path / "sky").iterdir())[8:]:  # a rare class: 8 images
        extra.unlink()
    config, dm = image_datamodule(tmp_path, "data.val_fraction=0.45", "data.test_fraction=0.1")
    assert len(dm.val_set) >= MIN_VAL_SAMPLES  # enough in total, too few of one class
    warning = small_validation_warning(dm, config)
    assert warning is not None and f"fewer than {MIN_VAL_PER_CLASS}" in warning
    assert "sky" in warning


def test_a_large_enough_validation_split_does_not_warn(tmp_path):
    write_images(tmp_path, per_class=40)
    config, dm = image_datamodule(tmp_path, "data.val_fraction=0.5", "data.test_fraction=0.1")
    assert small_validation_warning(dm, config) is None


@pytest.mark.slow
def test_training_logs_the_splits_and_the_warning(tmp_path, image_root, caplog):
    import train

    run_dir = tmp_path / "run"
    args = [*IMAGE_ARGS, f"data.root={image_root}", "trainer.epochs=1", f"output_dir={run_dir}"]
    args += ["trainer.progress_bar=false", "logger.curves=false", "data.num_workers=0"]
    with caplog.at_level(logging.INFO):
        assert train.main(args) == 0
    log = (run_dir / "train.log").read_text()
    assert "data: 42 samples, 3 classes; train " in log
    assert "validation split has" in log and log.count("validation split has") == 1
    assert "test split has" in log and log.count("test split has") == 1


def write_wine_like_table(path, per_class=(59, 71, 48)):
    """178 rows of 3 classes, as scikit-learn's wine table: its default test split holds 18."""
    rows = ["f1,f2,label"]
    for kind, count in enumerate(per_class):
        rows += [f"{kind + i % 7 / 10},{i % 5},k{kind}" for i in range(count)]
    path.write_text("\n".join(rows) + "\n")
    return path


def table_datamodule(path, *overrides):
    config = load_config(overrides=["data.name=csv", f"data.root={path}", *overrides])
    return config, build_datamodule(config.data, seed=0)


def test_a_small_test_split_warns_and_says_what_to_do(tmp_path):
    """The wine table trained to test accuracy 1.000 on 18 rows, with no word about it."""
    table = write_wine_like_table(tmp_path / "wine.csv")
    config, dm = table_datamodule(table)
    warning = small_test_warning(dm, config)
    assert warning is not None, "18 test rows and no warning"
    assert warning.startswith(f"the test split has {len(dm.test_set)} samples (fewer than 50)")
    assert f"moves its accuracy by {100 / len(dm.test_set):.1f} %" in warning
    assert "data.split_seed" in warning
    # Profile-neutral, and the full profile's folds move the validation split only.
    assert "fold" not in warning and "cv" not in warning
    advised = re.search(r"data.test_fraction=0.1 now; (0\.\d+) is enough", warning)
    assert advised, warning
    config, dm = table_datamodule(table, f"data.test_fraction={advised[1]}")
    assert len(dm.test_set) >= MIN_VAL_SAMPLES
    assert small_test_warning(dm, config) is None
