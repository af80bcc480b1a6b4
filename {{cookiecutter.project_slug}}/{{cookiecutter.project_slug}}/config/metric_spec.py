"""How a ``metrics`` entry reads: a name (``accuracy``) or a name with options
(``{name: f1, average: macro}``), reported under a label: the name followed by its
option values (``f1_macro``), or the entry's own ``label``."""

import re
from typing import Any

from omegaconf import OmegaConf

LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Names the run reports besides the metrics, under the same val_/test_/train_ prefixes:
# a metric labelled ``loss`` would overwrite val_loss, which best.pt and early stopping
# follow; ``class_<name>`` are the test report's per-class values.
RESERVED_LABELS = ("loss", "confusion_matrix")
RESERVED_PREFIXES = ("class_",)


def metric_spec(entry: Any) -> tuple[str, str, dict[str, Any]]:
    """(label, name, options) of one ``metrics`` entry."""
    if OmegaConf.is_config(entry):
        entry = OmegaConf.to_container(entry)
    if isinstance(entry, str):
        return entry, entry, {}
    options = {key: value for key, value in entry.items() if key not in ("name", "label")}
    label = entry.get("label") or "_".join([str(entry["name"]), *map(str, options.values())])
    return str(label), str(entry["name"]), options


def metric_labels(entries) -> list[str]:
    return [metric_spec(entry)[0] for entry in entries]


def monitor_names(entries, train_metrics: bool) -> list[str]:
    """Every name a run logs each epoch, so may monitor: ``val_loss`` and ``val_<label>``;
    ``train_loss``, and ``train_<label>`` with ``trainer.train_metrics``. The one list
    every ``monitor`` key is checked against."""
    names = ["loss", *metric_labels(entries)]
    allowed = [f"val_{name}" for name in names]
    return allowed + [f"train_{name}" for name in (names if train_metrics else ["loss"])]


def label_problem(label: str, taken: list[str]) -> str | None:
    """Why ``label`` cannot name a metric (given the labels before it), or None."""
    if not LABEL.fullmatch(label):
        return "not a name"
    if label in taken:
        return "taken"
    if label.lower() in RESERVED_LABELS or label.lower().startswith(RESERVED_PREFIXES):
        return (
            f"reserved ({', '.join(RESERVED_LABELS)} and {RESERVED_PREFIXES[0]}* name other values)"
        )
    return None
