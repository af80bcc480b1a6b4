"""What the data holds, said at the start of a run: samples per split and per class, and a
warning when the validation split is too small for early stopping and best.pt to follow
anything but noise (15 validation images move val_accuracy in steps of 7 %), or the test
split too small for its figures to mean much (18 rows of a table: steps of 5.6 %)."""

from collections.abc import Callable
from typing import Any

import torch

from .base import BaseDataModule

SPLITS = ("train", "val", "test")
# Under these, the monitored validation value is mostly noise.
MIN_VAL_SAMPLES = 50
MIN_VAL_PER_CLASS = 5
# Holding out more than this leaves too little to learn from: advise other ways then.
MAX_VAL_FRACTION = 0.5
# Functions (data config, advice) -> advice that rewrite the advice for a small
# validation split (a list of what to do), given the advice on holding out more. Added
# parts that cut the data another way register here.
VALIDATION_ADVICE: list[Callable[[Any, list[str]], list[str]]] = []


def class_counts(dataset, num_classes: int) -> list[int] | None:
    """Samples per class from the dataset's ``targets`` (None when it has none: reading
    every item of a large custom dataset just to count would cost a pass over it)."""
    targets = getattr(dataset, "targets", None)
    if targets is None:
        return None
    return torch.bincount(torch.as_tensor(targets).long(), minlength=num_classes).tolist()


def describe_splits(datamodule: BaseDataModule) -> list[str]:
    """``data: N samples, C classes; train a, val b, test c``, then one line per class."""
    sets = {name: getattr(datamodule, f"{name}_set") for name in SPLITS}
    sizes = {name: len(dataset) for name, dataset in sets.items()}
    classes = datamodule.classes
    lines = [
        f"data: {sum(sizes.values())} samples, {len(classes)} classes; "
        + ", ".join(f"{name} {size}" for name, size in sizes.items())
    ]
    counts = {name: class_counts(dataset, len(classes)) for name, dataset in sets.items()}
    if all(c is not None for c in counts.values()):
        width = max(len(str(name)) for name in classes)
        lines.append(f"{'class':<{width}}  " + " ".join(f"{s:>5}" for s in SPLITS))
        for index, name in enumerate(classes):
            row = " ".join(f"{counts[split][index]:>5}" for split in SPLITS)
            lines.append(f"{name:<{width}}  {row}")
    return lines


def small_validation_warning(datamodule: BaseDataModule, config) -> str | None:
    """Why the validation split is too small to monitor, and what to do; None if it is not."""
    val = datamodule.val_set
    monitors = sorted(
        {config.trainer.early_stopping.monitor, config.trainer.checkpoint.monitor} - {""}
    )
    problems = []
    if len(val) < MIN_VAL_SAMPLES:
        problems.append(f"{len(val)} samples (fewer than {MIN_VAL_SAMPLES})")
    counts = class_counts(val, datamodule.num_classes)
    if counts is not None:
        rare = [f"{name} {n}" for name, n in zip(datamodule.classes, counts, strict=True)]
        rare = [r for r, n in zip(rare, counts, strict=True) if n < MIN_VAL_PER_CLASS]
        if rare:
            problems.append(f"fewer than {MIN_VAL_PER_CLASS} of some classes ({', '.join(rare)})")
    if not problems:
        return None
    pool = [len(datamodule.train_set) + len(val)]  # what val_fraction cuts from
    per_class = class_counts(datamodule.train_set, datamodule.num_classes)
    if per_class is not None and counts is not None:
        pool = [a + b for a, b in zip(per_class, counts, strict=True)]
    data, patience = config.data, config.trainer.early_stopping.patience
    enough = val_fraction_for(pool)
    if enough is not None:
        advice = [f"hold out more (data.val_fraction={data.val_fraction} now; {enough} is enough)"]
    else:
        advice = [f"add data (no data.val_fraction up to {MAX_VAL_FRACTION} holds out enough)"]
    for rewrite in VALIDATION_ADVICE:
        advice = rewrite(data, advice)
    advice.append(f"wait longer before stopping (trainer.early_stopping.patience={patience} now)")
    return (
        f"the validation split has {' and '.join(problems)}: {' and '.join(monitors)} on it "
        "is mostly noise, so early stopping and best.pt follow chance. "
        + capitalized(", ".join(advice[:-1]) + ", or " + advice[-1])
    )


def small_test_warning(datamodule: BaseDataModule, config) -> str | None:
    """Why the test split is too small for its figures to mean much, and what to do; None
    if it is not. The advice names only what every profile has (splitting the training
    data differently moves the validation split, never the test split)."""
    test = datamodule.test_set
    problems = []
    if len(test) < MIN_VAL_SAMPLES:
        problems.append(f"{len(test)} samples (fewer than {MIN_VAL_SAMPLES})")
    sets = [datamodule.train_set, datamodule.val_set, test]
    counts = [class_counts(dataset, datamodule.num_classes) for dataset in sets]
    if counts[2] is not None:
        rare = [
            f"{name} {n}"
            for name, n in zip(datamodule.classes, counts[2], strict=True)
            if n < MIN_VAL_PER_CLASS
        ]
        if rare:
            problems.append(f"fewer than {MIN_VAL_PER_CLASS} of some classes ({', '.join(rare)})")
    if not problems:
        return None
    pool = [sum(len(dataset) for dataset in sets)]  # what test_fraction cuts from
    if all(c is not None for c in counts):
        pool = [sum(per_split) for per_split in zip(*counts, strict=True)]
    fraction, enough = config.data.test_fraction, val_fraction_for(pool)
    hold_out = f"data.test_fraction={fraction} now; {enough} is enough"
    if enough is None:
        hold_out = f"none up to {MAX_VAL_FRACTION} is enough"
    step = 100 / max(1, len(test))
    return (
        f"the test split has {' and '.join(problems)}: one sample moves its accuracy by "
        f"{step:.1f} %, so a single run's test figures are mostly chance (a perfect score "
        f"included). Hold out more ({hold_out}) or add data, and compare models over "
        "several splits (data.split_seed=0, 1, 2...) rather than on one"
    )


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def val_fraction_for(pool: list[int]) -> float | None:
    """The smallest ``data.val_fraction`` (or ``data.test_fraction``: the same rule),
    in hundredths up to MAX_VAL_FRACTION, that
    holds out MIN_VAL_SAMPLES in all and MIN_VAL_PER_CLASS of each class of ``pool``
    (samples per class of train + val; one number when the classes are unknown), as the
    splits round; None if none does."""
    for hundredths in range(1, round(MAX_VAL_FRACTION * 100) + 1):
        fraction = hundredths / 100
        if round(sum(pool) * fraction) >= MIN_VAL_SAMPLES and all(
            round(n * fraction) >= MIN_VAL_PER_CLASS for n in pool
        ):
            return fraction
    return None
