"""Where resume meets other features: resume=auto only continues this run's own
checkpoints (not another model's file copied beside them), and checks that before
anything in the run directory is written."""

import shutil

import pytest

import train
from {{cookiecutter.project_slug}}.logger import read_metrics

pytestmark = pytest.mark.filterwarnings("ignore:Unable to enable fault handler")


def snapshot(run_dir):
    return {
        p.relative_to(run_dir): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()
    }


@pytest.mark.slow
def test_resume_auto_skips_another_runs_checkpoint(tmp_path, fast_args, capsys):
    """An MLP run with a CNN run's checkpoint (further into training) copied beside its
    own: resume=auto continues the MLP from its own last.pt and leaves the CNN file."""
    mlp = [*fast_args, "trainer.limit_train_batches=2", "trainer.limit_val_batches=1"]
    mlp.append("model.name=mlp")  # whatever the bake's default model
    cnn_dir = tmp_path / "cnn"
    assert train.main([*mlp, "model.name=cnn", f"output_dir={cnn_dir}", "trainer.epochs=2"]) == 0
    run_dir = tmp_path / "run"
    assert train.main([*mlp, "trainer.epochs=1"]) == 0
    foreign = run_dir / "checkpoints" / "copied.pt"
    shutil.copy(cnn_dir / "checkpoints" / "last.pt", foreign)
    capsys.readouterr()

    assert train.main([*mlp, "trainer.epochs=2", "resume=auto"]) == 0
    out = capsys.readouterr().out
    assert f"continuing from {run_dir / 'checkpoints' / 'last.pt'}" in out
    assert "name: mlp" in (run_dir / "config.yaml").read_text()
    assert foreign.read_bytes() == (cnn_dir / "checkpoints" / "last.pt").read_bytes()
    assert [row["epoch"] for row in read_metrics(run_dir / "metrics.csv")[0]] == ["1", "2"]


@pytest.mark.slow
def test_resume_auto_refuses_a_directory_of_another_runs_checkpoints_only(
    tmp_path, fast_args, capsys
):
    """Only a foreign checkpoint: one line, exit 1, nothing in the directory changed."""
    mlp = [*fast_args, "trainer.limit_train_batches=2", "trainer.limit_val_batches=1"]
    mlp.append("model.name=mlp")  # whatever the bake's default model
    cnn_dir = tmp_path / "cnn"
    assert train.main([*mlp, "model.name=cnn", f"output_dir={cnn_dir}", "trainer.epochs=1"]) == 0
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    shutil.copy(cnn_dir / "checkpoints" / "last.pt", run_dir / "checkpoints" / "last.pt")
    before = snapshot(run_dir)
    capsys.readouterr()

    assert train.main([*mlp, "resume=auto"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another run" in err[0] and "model.name is 'cnn' there" in err[0]
    assert snapshot(run_dir) == before
