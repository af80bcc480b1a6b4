"""notebooks/explore_run.ipynb runs top to bottom (nbclient, a real Jupyter kernel)
against a run trained here, and its numbers agree with the run's own records."""

import importlib.util
import json

import pytest
import torch

from .conftest import FAST, PROJECT_ROOT, run_script

NOTEBOOK = PROJECT_ROOT / "notebooks" / "explore_run.ipynb"
MISSING = [m for m in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(m) is None]


@pytest.mark.slow
@pytest.mark.skipif(
    bool(MISSING),
    reason=f"{', '.join(MISSING)} not installed (the notebook extra: pip install -e '.[notebook]')",
)
def test_explore_run_notebook_executes_on_a_fresh_run(tmp_path, data_root, monkeypatch):
    import nbclient
    import nbformat

    run_dir = tmp_path / "run"
    args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}"]
    result = run_script("train.py", *args)
    assert result.returncode == 0, result.stderr
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
    checkpoint = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    # The best checkpoint re-run on the validation split scores what training recorded.
    assert summary["val_accuracy"] == pytest.approx(checkpoint["metrics"]["val_accuracy"], abs=1e-6)
    assert set(summary["per_class"]) == set(checkpoint["classes"])
    all_right = summary["val_accuracy"] == 1.0
    # curves, confusion matrix, per-class bars, and the wrong images when there are any
    assert len(images) == (3 if all_right else 4), text
    assert sorted(p.relative_to(run_dir) for p in run_dir.rglob("*")) == before  # read only
