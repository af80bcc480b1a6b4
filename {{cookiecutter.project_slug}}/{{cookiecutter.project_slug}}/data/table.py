"""``data.name=csv``: a table of numbers, one sample per row. ``data.root`` is the CSV file;
every column but ``data.label_column`` is a numeric feature. Class names are the label
column's values (numbers by value, then text; see ``table_file``); features are
standardized with the training split's mean and std, which the checkpoint records (with
the column names) so that predict.py prepares new rows the same way."""

from pathlib import Path

import torch

from ..utils.errors import DataError
from .base import DATAMODULES, BaseDataModule
from .datasets import InMemoryDataset, check_two_classes
from .splits import split_indices
from .table_file import read_csv_table, read_labels


def check_training_rows(path: Path, classes: list[str], train_targets: torch.Tensor) -> None:
    """Every class has rows in the training split: an output never trained on would be
    scored on val/test rows it can only get wrong (refused, not warned: the split is fixed
    by data.split_seed, so a warning would come back on every run and every resume)."""
    counts = torch.bincount(train_targets, minlength=len(classes)).tolist()
    missing = [name for name, count in zip(classes, counts, strict=True) if not count]
    if missing:
        raise DataError(
            f"{path}: class {missing[0]!r} has no rows in the training split "
            f"({len(missing)} such classes; the split is random, fixed by data.split_seed); "
            "add rows of it, drop it, or choose another data.split_seed"
        )


@DATAMODULES.register("csv")
class CSVDataModule(BaseDataModule):
    """Rows split by ``data.test_fraction`` and ``data.val_fraction`` (fixed by
    ``data.split_seed``); features standardized per column."""

    def setup(self):
        path = Path(self.config.root)
        if not path.is_file():
            raise DataError(f"data.root={path}: no such file; give the path of a .csv table")
        table = read_csv_table(path, label_column=self.config.label_column)
        self.features = table.features
        classes, targets = read_labels(path, table)
        check_two_classes(
            path, classes, "class", f"give rows of other classes in {self.config.label_column!r}"
        )
        train_idx, val_idx, test_idx = split_indices(
            len(targets),
            self.config.val_fraction,
            self.config.test_fraction,
            self.config.split_seed,
        )
        check_training_rows(path, classes, targets[train_idx])
        inputs = table.values
        mean = inputs[train_idx].mean(0)
        std = inputs[train_idx].std(0).nan_to_num(1.0).clamp_min(1e-8)  # constant column
        self.mean, self.std = mean.tolist(), std.tolist()
        inputs.sub_(mean).div_(std)  # in place: no second copy of a large table
        full = InMemoryDataset(inputs, targets, classes)
        return full.subset(train_idx), full.subset(val_idx), full.subset(test_idx)

    def preprocessing(self) -> dict:
        return {**super().preprocessing(), "features": list(self.features)}
