"""MLflow where it meets the run directory: a tracking store that cannot log the run,
or that lost the run being resumed, is one line before anything is written."""

import pytest

from .conftest import FAST, run_script


def snapshot(run_dir):
    return {
        p.relative_to(run_dir): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()
    }


def only_line(stderr: str) -> str:
    """The one error line (MLflow logs its own INFO lines when it creates a store)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.slow
def test_resume_with_a_lost_mlflow_run_changes_nothing(tmp_path, data_root):
    run_dir = tmp_path / "run"
    args = [
        *FAST,
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        "trainer.limit_train_batches=2",
        "logger.mlflow=true",
        "trainer.epochs=1",
    ]
    first = run_script(
        "train.py", *args, f"logger.mlflow_tracking_uri=sqlite:///{tmp_path / 'a.db'}"
    )
    assert first.returncode == 0, first.stderr
    before = snapshot(run_dir)

    other = f"sqlite:///{tmp_path / 'b.db'}"  # another store: the run is not in it
    resumed = run_script(
        "train.py",
        *args,
        f"logger.mlflow_tracking_uri={other}",
        "trainer.epochs=2",
        f"resume={run_dir / 'checkpoints' / 'last.pt'}",
    )
    assert resumed.returncode == 1
    line = only_line(resumed.stderr)
    assert "mlflow_run_id.txt" in line and "logger.mlflow_tracking_uri=" in line
    assert snapshot(run_dir) == before


@pytest.mark.parametrize("uri", ["nosuchscheme://somewhere", "sqlite:////proc/no/such/mlflow.db"])
def test_unusable_tracking_uri_is_refused_before_the_run_dir(tmp_path, data_root, uri):
    run_dir = tmp_path / "run"
    proc = run_script(
        "train.py",
        *FAST,
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        "logger.mlflow=true",
        f"logger.mlflow_tracking_uri={uri}",
    )
    assert proc.returncode == 2
    assert "logger.mlflow_tracking_uri=" in only_line(proc.stderr)
    assert not run_dir.exists()
