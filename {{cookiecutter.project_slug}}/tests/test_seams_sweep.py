"""sweep.py where it meets other runs and other processes: a sweep_dir that is a
training run, pruner settings Optuna refuses, parameters invalid only together, a
corrupt study.db and a study held by another process: one line, before any trial."""

import fcntl
import os

import pytest

from .conftest import FAST
from .guard_tools import snapshot

optuna = pytest.importorskip("optuna")
import sweep  # noqa: E402  (needs optuna)
from {{cookiecutter.project_slug}}.experiments import study as study_module  # noqa: E402

SPACE = """\
study: seams
n_trials: 1
sampler: {name: random, seed: 1}
pruner: PRUNER
params:
  optimizer.lr: {type: float, low: 1.0e-4, high: 0.1, log: true}
EXTRA"""


def run(tmp_path, capsys, sweep_dir, pruner="{name: none}", extra="") -> tuple[int, str, str]:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE.replace("PRUNER", pruner).replace("EXTRA", extra))
    capsys.readouterr()
    code = sweep.main(["-c", str(space), *FAST, f"sweep_dir={sweep_dir}", "trainer.epochs=1"])
    out, err = capsys.readouterr()
    return code, out, err.strip()


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_sweep_dir_holding_a_training_run_is_refused(tmp_path, capsys):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text("seed: 1\n")
    before = snapshot(run_dir)
    code, _, err = run(tmp_path, capsys, run_dir)
    assert code == 2 and "holds a training run" in one_line(err)
    assert snapshot(run_dir) == before


def test_pruner_setting_optuna_refuses_is_one_line_before_the_sweep_dir(tmp_path, capsys):
    sweep_dir = tmp_path / "sweep"
    code, _, err = run(tmp_path, capsys, sweep_dir, pruner="{name: halving, min_resource: 0}")
    assert code == 2 and "pruner halving" in one_line(err) and "min_resource" in err
    assert not sweep_dir.exists()


def test_parameters_invalid_together_are_refused_before_trial_0(tmp_path, capsys):
    extra = (
        "  lr_scheduler.name: {type: categorical, choices: [cosine, plateau]}\n"
        "  lr_scheduler.interval: {type: categorical, choices: [epoch, step]}\n"
    )
    sweep_dir = tmp_path / "sweep"
    code, _, err = run(tmp_path, capsys, sweep_dir, extra=extra)
    assert code == 2 and "refused together" in one_line(err) and "plateau" in err
    assert not sweep_dir.exists()


def test_corrupt_study_db_is_one_line(tmp_path, capsys):
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / "study.db").write_bytes(b"this is not sqlite" * 100)
    before = snapshot(sweep_dir)
    code, _, err = run(tmp_path, capsys, sweep_dir)
    assert code == 1 and "study.db cannot be opened" in one_line(err)
    assert snapshot(sweep_dir) == before  # study.db untouched, no .sweep.lock left behind


def test_a_study_held_by_another_process_says_it_waits_then_gives_up(tmp_path, capsys, monkeypatch):
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    monkeypatch.setattr(study_module, "LOCK_TIMEOUT_S", 1.0)
    fd = os.open(sweep_dir / ".sweep.lock", os.O_RDWR | os.O_CREAT, 0o644)
    pid = os.fork()
    if pid == 0:  # another process holding the lock, as a hung sweep.py would
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(os.open(sweep_dir / "held", os.O_WRONLY | os.O_CREAT), b"1")
        import time

        time.sleep(30)
        os._exit(0)
    try:
        while not (sweep_dir / "held").exists():
            pass
        code, out, err = run(tmp_path, capsys, sweep_dir)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
    assert "waiting for another process" in out
    assert code == 1 and "gave up" in one_line(err)


def test_a_study_db_locked_by_another_process_says_it_waits_then_gives_up(
    tmp_path, capsys, monkeypatch
):
    import sqlite3

    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    db = sweep_dir / "study.db"
    optuna.create_study(storage=f"sqlite:///{db}", study_name="seams")
    monkeypatch.setattr(study_module, "DB_TIMEOUT_S", 1)
    holder = sqlite3.connect(db)  # another process's open write, as far as SQLite knows
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, out, err = run(tmp_path, capsys, sweep_dir)
    finally:
        holder.rollback()
        holder.close()
    assert "waiting for another process that holds" in out
    assert code == 1 and "locked" in one_line(err)
