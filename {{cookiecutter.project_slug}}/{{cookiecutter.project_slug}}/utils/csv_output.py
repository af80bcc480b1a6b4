"""The one way this project writes a CSV meant to be opened by people (predictions.csv,
metrics.csv, tables of runs and trials): cells that a spreadsheet would run as a formula
are neutralised by OWASP's CSV-injection rule, and numbers stay numbers.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading single quote (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``), so Excel, LibreOffice
and Google Sheets show it as text instead of evaluating it. A cell that is a number
(``-0.5``, ``+3``, ``-inf``, an int or a float) is written unchanged: it cannot call
anything, and the files stay readable as numbers (metrics.csv is read back on resume)."""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_number(text: str) -> bool:
    """``float`` reads it, and nothing surrounds it (a leading tab is not a number)."""
    if text != text.strip():
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value):
    """``value`` as a spreadsheet will show it, never run it."""
    if not isinstance(value, str):
        return value  # numbers, None (an empty cell)
    if value.startswith(FORMULA_STARTS) and not is_number(value):
        return "'" + value
    return value


def write_rows(handle: IO[str], header: Sequence[str] | None, rows: Iterable[Sequence]) -> None:
    """Lists of cells (after an optional header) to an open text file (``newline=""``)."""
    writer = csv.writer(handle)
    if header is not None:
        writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)


def write_dicts(
    handle: IO[str], columns: Sequence[str], rows: Iterable[Mapping], header: bool = True
) -> None:
    """Dicts as rows under ``columns`` (missing keys empty, keys not in ``columns`` left out)."""
    write_rows(
        handle,
        list(columns) if header else None,
        ([row.get(column, "") for column in columns] for row in rows),
    )


def dicts_text(columns: Sequence[str], rows: Iterable[Mapping]) -> str:
    """``write_dicts`` as a string (to print, or to write in one go)."""
    buffer = io.StringIO(newline="")
    write_dicts(buffer, columns, rows)
    return buffer.getvalue()
