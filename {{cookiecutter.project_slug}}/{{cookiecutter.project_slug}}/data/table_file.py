"""Reading a CSV table, the one set of rules for training (data.name=csv) and predict.py:

- the first non-blank row names the columns; a name given twice is refused (which
  column would a feature be?); a malformed quote is refused at the line it opens on;
- rows are streamed by the csv module straight into a float32 array (no list of every
  cell's text: memory is about the array's size), each refused with its file and line
  when it has the wrong number of values or a feature that is not a finite number;
- cells of any size are read (the csv module's 128 KiB limit is lifted while reading)
  and then judged as values: a huge number is inf, huge text is not a number;
- labels are class names by ``class_name``: numbers compared as numbers (``1`` and
  ``1.0`` are one class, named ``1``), empty, NaN and inf labels refused.
"""

import csv
import math
import sys
import threading
from array import array
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ..utils.errors import DataError, first_line

SHOWN_CHARS = 40  # of a bad cell in an error line (a cell can be megabytes)
BLOCK_BYTES = 8 << 20  # the array grows by blocks of this size (any column count)
EXACT_INTEGERS = 2**53  # floats name integers exactly up to here


class Table(NamedTuple):
    features: list[str]  # the numeric columns read, in the order asked for
    values: torch.Tensor  # (rows, features) float32, every value finite
    labels: list[str]  # the label column's cells as written (none without a label column)
    lines: list[int]  # the file line each row starts on


def shown(cell: str) -> str:
    """A cell quoted for an error line, cut short when long."""
    if len(cell) <= SHOWN_CHARS:
        return repr(cell)
    return f"{cell[:SHOWN_CHARS]!r}... ({len(cell)} characters)"


_field_limit = threading.Lock()


@contextmanager
def unlimited_cells():
    """The csv module's per-cell limit (128 KiB, process-wide) lifted while one table is
    read: a long cell is then judged as a value, with its line and column, instead of
    ending the read with ``field larger than field limit``."""
    with _field_limit:
        previous = csv.field_size_limit(sys.maxsize)
        try:
            yield
        finally:
            csv.field_size_limit(previous)


def records(path: Path, reader):
    """(the line a record starts on, its cells) of every record, blank lines as ``[]``; a
    malformed one (a quote never closed, text after a closing quote) is one error."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataError(
                f"{path}, line {start}: not valid CSV ({first_line(error)}); a quoted cell "
                "must end with a quote followed by a comma or the end of the line"
            ) from None
        yield start, row


def read_header(path: Path, rows) -> list[str]:
    """The first non-blank record, as column names; each name once."""
    header = next((row for _, row in rows if row), [])
    header = [name.strip() for name in header]
    if not header:
        raise DataError(f"{path} is empty; a header row of column names comes first")
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(
                f"{path}, line 1: column {name!r} appears twice in the header; "
                "give every column its own name"
            )
        seen.add(name)
    return header


def read_csv_table(
    path: Path, label_column: str | None = None, features: list[str] | None = None
) -> Table:
    """The ``features`` columns of a CSV (None: every column but ``label_column``) as
    numbers, and the ``label_column`` cells as text. Other columns are not converted."""
    try:
        with unlimited_cells(), path.open(newline="", encoding="utf-8-sig") as handle:
            rows = records(path, csv.reader(handle, strict=True))
            header = read_header(path, rows)
            features, picks, label_at = choose_columns(path, header, label_column, features)
            return read_rows(path, rows, header, features, picks, label_at)
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({first_line(error)})") from None


def choose_columns(path, header, label_column, features):
    label_at = None
    if label_column is not None:
        if label_column not in header:
            raise DataError(
                f"{path} has no column {label_column!r} (data.label_column); "
                f"its columns are {header}"
            )
        label_at = header.index(label_column)
    if features is None:
        features = [name for name in header if name != label_column]
    missing = [name for name in features if name not in header]
    if missing:
        raise DataError(f"{path} lacks the feature columns {missing} (it has {header})")
    return features, [header.index(name) for name in features], label_at


def read_rows(path, rows, header, features, picks, label_at) -> Table:
    block_rows = max(1, BLOCK_BYTES // (4 * max(1, len(picks))))
    blocks, block, filled = [], np.empty((block_rows, len(picks)), np.float32), 0
    labels, lines, interned = [], array("q"), {}
    with np.errstate(over="ignore"):  # beyond float32: inf, refused by check_finite
        for line, row in rows:
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                raise DataError(
                    f"{path}, line {line}: {len(row)} values under {len(header)} columns; "
                    "every row needs one value per column"
                )
            try:
                block[filled] = [float(row[i]) for i in picks]
            except ValueError:
                at = next(i for i in picks if not is_float(row[i]))
                raise DataError(
                    f"{path}, line {line}: {shown(row[at])} in column {header[at]!r} is not a "
                    "number (feature columns hold numbers only)"
                ) from None
            if label_at is not None:
                cell = row[label_at]
                labels.append(interned.setdefault(cell, cell))  # one string per class
            lines.append(line)
            filled += 1
            if filled == block_rows:
                blocks.append(block)
                block, filled = np.empty_like(block), 0
    values = np.concatenate([*blocks, block[:filled]])  # a copy: no spare rows kept
    if not len(values):
        raise DataError(f"{path} has a header but no data rows")
    check_finite(path, values, features, lines)
    return Table(features, torch.from_numpy(values), labels, lines.tolist())


def is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def check_finite(path: Path, values: np.ndarray, features: list[str], lines) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    row = int(np.argmin(finite.all(axis=1)))
    column = int(np.argmin(finite[row]))
    raise DataError(
        f"{path}, line {lines[row]}: column {features[column]!r} holds {values[row, column]} "
        "(NaN or inf, or beyond float32's range); features must be finite numbers: fill or "
        "drop those rows"
    )


def class_name(cell: str) -> str:
    """The class a label cell names: a number in one spelling (``1.0``, ``1e0`` and ``1``
    are ``1``; ``1.50`` is ``1.5``), else the text without surrounding spaces. Raises
    ValueError for an empty, NaN or inf label."""
    text = cell.strip()
    if not text:
        raise ValueError("an empty label")
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        raise ValueError(f"the label {shown(text)} is not a finite number")
    if number.is_integer() and abs(number) < EXACT_INTEGERS:
        return str(int(number))
    return repr(number)


def class_order(names) -> list[str]:
    """Numbers by value (2 before 10), then text sorted by character: one order whatever
    the rows' order or the hash seed."""

    def key(name: str):
        return (0, float(name), "") if is_float(name) else (1, 0.0, name)

    return sorted(set(names), key=key)


def read_labels(path: Path, table: Table) -> tuple[list[str], torch.Tensor]:
    """(the classes in ``class_order``, each row's class index) of a table's labels."""
    names: dict[str, str] = {}
    for cell in dict.fromkeys(table.labels):  # first appearance first: the first bad line
        try:
            names[cell] = class_name(cell)
        except ValueError as error:
            line = table.lines[table.labels.index(cell)]
            raise DataError(
                f"{path}, line {line}: {error}; every row needs a class label (text or a "
                "finite number): fill or drop it"
            ) from None
    classes = class_order(names.values())
    index = {cell: classes.index(name) for cell, name in names.items()}
    return classes, torch.tensor([index[cell] for cell in table.labels])
