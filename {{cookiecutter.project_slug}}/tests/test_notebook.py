"""notebooks/explore_run.ipynb runs top to bottom (nbclient, a real Jupyter kernel)
against a run trained here, and its numbers agree with the run's own records: an image
run, a table (CSV) run, and (test_fsdp.py) a sharded run."""

import importlib.util
import json

import pytest

from {{cookiecutter.project_slug}}.saver import load_checkpoint

from .conftest import FAST, PROJECT_ROOT, run_script
from .test_csv_data import FEATURES, write_table

NOTEBOOK = PROJECT_ROOT / "notebooks" / "explore_run.ipynb"
MISSING = [m for m in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(m) is None]
needs_jupyter = pytest.mark.skipif(
    bool(MISSING),
    reason=f"{', '.join(MISSING)} not installed (the notebook extra: pip install -e '.[notebook]')",
)


def execute_notebook(run_dir, best, monkeypatch) -> tuple[str, int, float]:
    """Run the notebook on ``run_dir`` (read only); check its summary against ``best``,
    the run's best checkpoint. (Its printed text, its number of images, the accuracy.)"""
    import nbclient
    import nbformat

    before = sorted(p.relative_to(run_dir) for p in run_dir.rglob("*"))
    monkeypatch.setenv("RUN_DIR", str(run_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error

    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    text = "".join(output.get("text", "") for output in outputs)
    summary = json.loads(text.split("summary: ", 1)[1].splitlines()[0])
    checkpoint = load_checkpoint(best)
    # The best checkpoint re-run on the validation split scores what training recorded.
    assert summary["val_accuracy"] == pytest.approx(checkpoint["metrics"]["val_accuracy"], abs=1e-6)
    assert set(summary["per_class"]) == set(checkpoint["classes"])
    assert sorted(p.relative_to(run_dir) for p in run_dir.rglob("*")) == before  # read only
    return text, len(images), summary["val_accuracy"]


@pytest.mark.slow
@needs_jupyter
def test_explore_run_notebook_executes_on_a_fresh_run(tmp_path, data_root, monkeypatch):
    run_dir = tmp_path / "run"
    args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}"]
    result = run_script("train.py", *args)
    assert result.returncode == 0, result.stderr

    text, images, accuracy = execute_notebook(
        run_dir, run_dir / "checkpoints" / "best.pt", monkeypatch
    )

    all_right = accuracy == 1.0
    # curves, confusion matrix, per-class bars, and the wrong images when there are any
    assert images == (3 if all_right else 4), text


@pytest.mark.slow
@needs_jupyter
def test_explore_run_notebook_shows_a_table_runs_mistakes_as_rows(tmp_path, monkeypatch):
    """A CSV run has no images: its most confident mistakes are printed as table rows."""
    table = write_table(tmp_path / "animals.csv", rows=90)
    run_dir = tmp_path / "run"
    args = ["data.name=csv", f"data.root={table}", "model.name=mlp", "trainer.epochs=1"]
    result = run_script("train.py", *FAST, *args, f"output_dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]

    text, images, accuracy = execute_notebook(
        run_dir, run_dir / "checkpoints" / "best.pt", monkeypatch
    )

    assert images == 3, text  # curves, confusion matrix, per-class bars
    assert accuracy < 1.0, text  # one epoch on 90 rows: mistakes to show
    header = next(
        line
        for line in text.splitlines()
        if line.split()[:3] == ["predicted", "confidence", "true"]
    )
    assert header.split()[3:] == FEATURES
