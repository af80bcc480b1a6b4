"""``data.name=csv``: a table of numbers, one sample per row. ``data.root`` is the CSV file;
every column but ``data.label_column`` is a numeric feature. Class names are the label
column's values (sorted); features are standardized with the training split's mean and
std, which the checkpoint records (with the column names) so that predict.py prepares new
rows the same way."""

import csv
from pathlib import Path

import torch

from ..utils.errors import DataError
from .base import DATAMODULES, BaseDataModule
from .datasets import InMemoryDataset
from .splits import split_indices


def read_table(path: Path, label_column: str) -> tuple[list[str], torch.Tensor, list[str]]:
    """(feature names, features (N, F) float32, labels as text) of a CSV file."""
    if not path.is_file():
        raise DataError(f"data.root={path}: no such file; give the path of a .csv table")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DataError(f"{path} is empty; a header row of column names comes first")
    header = [name.strip() for name in rows[0]]
    if label_column not in header:
        raise DataError(
            f"{path} has no column {label_column!r} (data.label_column); its columns are {header}"
        )
    label_at = header.index(label_column)
    names = [name for i, name in enumerate(header) if i != label_at]
    features, labels = read_features(path, rows[1:], header, skip=label_at)
    if not labels:
        raise DataError(f"{path} has a header but no data rows")
    return names, features, labels


def read_features(path: Path, rows: list[list[str]], header: list[str], skip: int | None):
    """Numeric columns of ``rows`` (all but ``skip``) and the ``skip`` column's text; a bad
    cell is an error naming the file, line and column."""
    values, labels = [], []
    for line, row in enumerate(rows, start=2):
        if not row:
            continue  # a blank line
        if len(row) != len(header):
            raise DataError(f"{path}:{line}: {len(row)} values for {len(header)} columns")
        numbers = []
        for i, cell in enumerate(row):
            if i == skip:
                labels.append(cell.strip())
                continue
            try:
                numbers.append(float(cell))
            except ValueError:
                raise DataError(
                    f"{path}:{line}: {cell!r} in column {header[i]!r} is not a number "
                    "(every column but the label is a numeric feature)"
                ) from None
        values.append(numbers)
    features = torch.tensor(values, dtype=torch.float32)
    if len(values) and not bool(torch.isfinite(features).all()):
        raise DataError(f"{path}: NaN or inf among the features; fill or drop those rows")
    return features, labels


def class_order(labels: list[str]) -> list[str]:
    """Sorted class names; numerically when every label is a number (2 before 10)."""
    unique = set(labels)
    try:
        return sorted(unique, key=float)
    except ValueError:
        return sorted(unique)


@DATAMODULES.register("csv")
class CSVDataModule(BaseDataModule):
    """Rows split by ``data.test_fraction`` and ``data.val_fraction`` (fixed by
    ``data.split_seed``); features standardized per column."""

    def setup(self):
        path = Path(self.config.root)
        self.features, inputs, labels = read_table(path, self.config.label_column)
        classes = class_order(labels)
        targets = torch.tensor([classes.index(label) for label in labels])
        train_idx, val_idx, test_idx = split_indices(
            len(targets),
            self.config.val_fraction,
            self.config.test_fraction,
            self.config.split_seed,
        )
        mean = inputs[train_idx].mean(0)
        std = inputs[train_idx].std(0).nan_to_num(1.0).clamp_min(1e-8)  # constant column
        self.mean, self.std = mean.tolist(), std.tolist()
        full = InMemoryDataset((inputs - mean) / std, targets, classes)
        return full.subset(train_idx), full.subset(val_idx), full.subset(test_idx)

    def preprocessing(self) -> dict:
        return {**super().preprocessing(), "features": list(self.features)}
