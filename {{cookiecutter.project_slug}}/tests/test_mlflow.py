"""MLflow for real: training runs log to a local SQLite tracking store, read back with
MLflow's own client; a resumed training continues the same MLflow run."""

from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient

from {{cookiecutter.project_slug}}.logger.mlflow import RUN_ID_FILE, tracking_uri

from .conftest import FAST, run_script

STEPS_PER_EPOCH = 4


@pytest.fixture(scope="module")
def mlflow_run(tmp_path_factory, data_root):
    """One epoch, then a resume to two epochs, both logging to one SQLite store."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    run_dir = root / "run"
    common = [
        *FAST,
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        f"trainer.limit_train_batches={STEPS_PER_EPOCH}",
        "trainer.log_every_n_steps=1",
        "trainer.early_stopping.enabled=false",
        "logger.curves=true",
        "logger.images_every_n_epochs=1",
        "logger.mlflow=true",
        f"logger.mlflow_tracking_uri={uri}",
        "logger.mlflow_experiment=tests",
    ]
    first = run_script("train.py", *common, "trainer.epochs=1")
    assert first.returncode == 0, first.stderr
    first_id = (run_dir / RUN_ID_FILE).read_text().strip()
    last = run_dir / "checkpoints" / "last.pt"
    second = run_script("train.py", *common, "trainer.epochs=2", f"resume={last}")
    assert second.returncode == 0, second.stderr
    return MlflowClient(uri), first_id, run_dir


def test_one_run_holds_params_and_every_epoch_across_a_resume(mlflow_run):
    client, first_id, run_dir = mlflow_run
    run_id = (run_dir / RUN_ID_FILE).read_text().strip()
    assert run_id == first_id  # the resume continued the same MLflow run
    experiment = client.get_experiment_by_name("tests")
    assert [r.info.run_id for r in client.search_runs([experiment.experiment_id])] == [run_id]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["optimizer.name"] == "adam"
    assert float(run.data.params["optimizer.lr"]) == 1e-3
    epochs = client.get_metric_history(run_id, "val/loss")
    assert [m.step for m in epochs] == [STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]
    steps = client.get_metric_history(run_id, "train/loss_step")
    assert sorted(m.step for m in steps) == list(range(1, 2 * STEPS_PER_EPOCH + 1))


def test_curves_predictions_and_the_best_checkpoint_are_artifacts(mlflow_run, tmp_path):
    client, _, run_dir = mlflow_run
    run_id = (run_dir / RUN_ID_FILE).read_text().strip()
    top = {artifact.path for artifact in client.list_artifacts(run_id)}
    assert {"curves.png", "checkpoints", "predictions"} <= top
    grids = {artifact.path for artifact in client.list_artifacts(run_id, "predictions")}
    assert grids == {"predictions/epoch_001.png", "predictions/epoch_002.png"}
    best = Path(client.download_artifacts(run_id, "checkpoints/best.pt", str(tmp_path)))
    saved = torch.load(best, weights_only=True)
    local = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    assert saved["trainer"] == local["trainer"]
    for name, tensor in local["model"].items():
        assert torch.equal(saved["model"][name], tensor)


def test_tracking_uri_comes_from_the_config_then_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////somewhere/else.db")
    assert tracking_uri("sqlite:///mine.db") == "sqlite:///mine.db"
    assert tracking_uri(None) == "sqlite:////somewhere/else.db"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking_uri(None).endswith("/mlflow.db") and tracking_uri(None).startswith("sqlite:")


# Where MLflow meets the run directory: a tracking store that cannot log the run, or
# that lost the run being resumed, is one line before anything is written.


@pytest.mark.slow
def test_resume_with_a_lost_mlflow_run_changes_nothing(tmp_path, data_root, capsys):
    import train

    run_dir = tmp_path / "run"
    args = [
        *FAST,
        f"data.root={data_root}",
        f"output_dir={run_dir}",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "logger.mlflow=true",
    ]
    first = [*args, f"logger.mlflow_tracking_uri=sqlite:///{tmp_path / 'a.db'}", "trainer.epochs=1"]
    assert train.main(first) == 0
    before = {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}
    capsys.readouterr()

    other = f"sqlite:///{tmp_path / 'b.db'}"  # another store: the run is not in it
    last = run_dir / "checkpoints" / "last.pt"
    resumed = [*args, f"logger.mlflow_tracking_uri={other}", "trainer.epochs=2", f"resume={last}"]
    assert train.main(resumed) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "mlflow_run_id.txt" in err[0], err
    assert "logger.mlflow_tracking_uri=" in err[0]
    assert {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()} == before


@pytest.mark.parametrize("uri", ["nosuchscheme://somewhere", "sqlite:////proc/no/such/mlflow.db"])
def test_unusable_tracking_uri_is_refused_before_the_run_dir(tmp_path, data_root, uri, capsys):
    import train

    run_dir = tmp_path / "run"
    args = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}", "logger.mlflow=true"]
    assert train.main([*args, f"logger.mlflow_tracking_uri={uri}"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "logger.mlflow_tracking_uri=" in err[0], err
    assert not run_dir.exists()
