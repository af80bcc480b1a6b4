"""Read run directories (never write them): status, epochs, best monitored value, test
metrics and config, for runs.py and the cross-validation summary."""

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import flatten
from ..logger import read_metrics
from ..utils.run_dir import RunFiles, holds_run, lock_holder

# Keys that differ between any two runs without saying anything about them.
IGNORED_KEYS = {"output_dir", "resume", "overwrite"}


@dataclass
class Run:
    path: Path
    config: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    test_metrics: dict[str, float] = field(default_factory=dict)
    status: str = "stopped"
    started: float = 0.0


def find_runs(roots: list[Path]) -> list[Path]:
    """Every run directory under ``roots`` (a root may be a run itself), sorted."""
    found = []
    for root in roots:
        if holds_run(root):
            found.append(root)
            continue
        for folder, subfolders, _ in os.walk(root):
            subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
            if holds_run(Path(folder)) and Path(folder) != root:
                found.append(Path(folder))
                subfolders[:] = []  # a run's own folders (checkpoints...) hold no runs
    return sorted(set(found))


def read_run(path: Path) -> Run:
    """What the run's files say; a file that cannot be read, or holds the wrong kind of
    value (a config.yaml that is a list, a test_metrics.json that is ``null``), is left
    out and named in the status, so one damaged run does not hide the others."""
    run, damaged, files = Run(path), [], RunFiles(path)
    config_file = files.config
    if config_file.is_file():
        try:
            run.config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
            run.started = config_file.stat().st_mtime
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            run.config = None
        if not isinstance(run.config, dict):
            run.config = {}
            damaged.append("config.yaml")
    if files.metrics.is_file():
        try:
            run.rows, _ = read_metrics(files.metrics)
        except (OSError, UnicodeDecodeError, ValueError):
            run.rows = []
            damaged.append("metrics.csv")
    test_file = files.test_metrics
    if test_file.is_file():
        try:
            test_metrics = json.loads(test_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            test_metrics = None
        if isinstance(test_metrics, dict):
            run.test_metrics = {k: v for k, v in test_metrics.items() if number(v) is not None}
        else:
            damaged.append("test_metrics.json")
    # The run lock says "running"; test_metrics.json is written last, after training.
    if lock_holder(path) is not None:
        run.status = "running"
    elif test_file.is_file():
        run.status = "finished"
    if damaged:
        run.status += f" (unreadable: {', '.join(damaged)})"
    return run


def section(config: dict, key: str) -> dict:
    """``config[key]`` if it is a mapping, else {} (a hand-edited config may hold anything)."""
    value = config.get(key)
    return value if isinstance(value, dict) else {}


def monitor_of(run: Run) -> tuple[str, str]:
    checkpoint = section(section(run.config, "trainer"), "checkpoint")
    monitor, mode = checkpoint.get("monitor", "val_loss"), checkpoint.get("mode", "min")
    return (monitor if isinstance(monitor, str) else "val_loss"), mode


def best_row(run: Run) -> dict | None:
    """The metrics.csv row with the best monitored value (the epoch of best.pt)."""
    monitor, mode = monitor_of(run)
    scored = [(number(row.get(monitor)), row) for row in run.rows]
    scored = [(v, row) for v, row in scored if v is not None and not math.isnan(v)]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda item: item[0])[1]


def number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def differing_keys(runs: list[Run]) -> list[str]:
    """Config keys whose value is not the same in every run."""
    flats = [flatten(run.config) for run in runs if run.config]
    keys = sorted({key for flat in flats for key in flat} - IGNORED_KEYS)
    return [k for k in keys if len({json.dumps(f.get(k), default=str) for f in flats}) > 1]


def table_rows(runs: list[Run], root: Path | None = None) -> list[dict]:
    diff = differing_keys(runs)
    tests = list(dict.fromkeys(name for run in runs for name in run.test_metrics))
    rows = []
    for run in runs:
        monitor, _ = monitor_of(run)
        best = best_row(run)
        planned = section(run.config, "trainer").get("epochs", "?")
        name = run.path.relative_to(root) if root and run.path.is_relative_to(root) else run.path
        row = {
            "run": str(name) if str(name) != "." else run.path.name,
            "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started))
            if run.started
            else "",
            "status": run.status,
            "epochs": f"{len(run.rows)}/{planned}",
            "monitor": monitor,
            "best": number(best.get(monitor)) if best else None,
        }
        row.update({name: run.test_metrics.get(name) for name in tests})
        flat = flatten(run.config)
        for key in diff:
            value = flat.get(key)
            # As a config file writes it: [128, 64], true, null.
            row[key] = json.dumps(value) if isinstance(value, list | bool | None) else value
        rows.append(row)
    return rows
