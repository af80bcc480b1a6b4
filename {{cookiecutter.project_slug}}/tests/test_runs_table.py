"""runs.py: one table of every run directory (finished, stopped, running), read only."""

import csv
import io
import shutil
import signal

import pytest

import runs
from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.run import fit

from .conftest import start_script
from .guard_tools import snapshot
from .test_run_dirs import wait_for


def table(capsys, *args: str) -> list[dict]:
    assert runs.main([*args, "--csv", "-"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


@pytest.mark.slow
def test_the_table_lists_finished_stopped_and_running_runs(tmp_path, fast_args, capsys):
    root = tmp_path / "runs"
    args = [a for a in fast_args if not a.startswith("output_dir=")]
    fit(load_config(overrides=[*args, "optimizer.lr=0.01", f"output_dir={root / 'done'}"]))
    capsys.readouterr()  # train.py's own output
    long_run = [*args, "trainer.epochs=1000", "trainer.early_stopping.enabled=false"]
    proc = start_script("train.py", *long_run, f"output_dir={root / 'long'}")
    try:
        wait_for(lambda: (root / "long" / "checkpoints" / "last.pt").exists(), proc=proc)
        rows = {row["run"]: row for row in table(capsys, str(root))}
        assert rows["long"]["status"] == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    before = snapshot(root)
    rows = {row["run"]: row for row in table(capsys, str(root), "--sort", "epochs")}
    assert set(rows) == {"done", "long"}
    assert rows["done"]["status"] == "finished" and rows["long"]["status"] == "stopped"
    assert rows["done"]["epochs"] == "2/2" and rows["long"]["epochs"].endswith("/1000")
    assert rows["done"]["monitor"] == "val_loss"
    val_loss = [float(r["val_loss"]) for r in read_metrics(root / "done" / "metrics.csv")[0]]
    assert float(rows["done"]["best"]) == pytest.approx(min(val_loss))
    assert float(rows["done"]["test_accuracy"]) >= 0 and rows["long"]["test_accuracy"] == ""
    # Only the keys that differ, with each run's value.
    assert rows["done"]["optimizer.lr"] == "0.01" and rows["long"]["optimizer.lr"] == "0.001"
    assert rows["long"]["trainer.epochs"] == "1000" and "data.batch_size" not in rows["done"]
    # Sorted, as a table and as a plot; the runs untouched.
    assert runs.main([str(root), "--sort", "best", "--desc"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:4] == ["run", "date", "status", "epochs"]
    out = tmp_path / "val_loss.png"
    assert runs.main([str(root), "--plot", "val_loss", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert runs.main([str(root), "--plot", "val_nope", "--out", str(tmp_path / "x.png")]) == 2
    assert runs.main([str(root), "--sort", "nope"]) == 2
    assert "no run logged it" in capsys.readouterr().err
    assert snapshot(root) == before


def test_bad_options_are_one_line(tmp_path, capsys):
    (tmp_path / "taken.csv").write_text("mine")
    assert runs.main([str(tmp_path), "--csv", str(tmp_path / "taken.csv")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "taken.csv").read_text() == "mine"
    assert runs.main([str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_csv_neutralises_a_run_named_like_a_formula(tmp_path, script_run, capsys):
    """A run folder named ``=HYPERLINK(...)`` is text in runs.py --csv, not a formula;
    the numbers beside it stay numbers."""
    hostile = '=HYPERLINK("x";"y")'
    shutil.copytree(script_run, tmp_path / hostile)
    out = tmp_path / "runs.csv"
    assert runs.main([str(tmp_path), "--csv", str(out)]) == 0, capsys.readouterr().err
    with out.open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["run"] == "'" + hostile
    assert float(row["best"]) >= 0
