"""sweep.py: an Optuna study of real training runs on digits-sized data. Pruning through
the trainer's callbacks, the study continued after a kill, two processes sharing one
study, the reports, and search spaces refused before any trial."""

import csv
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from {{cookiecutter.project_slug}}.config import ConfigError, load_config
from {{cookiecutter.project_slug}}.data import DATAMODULES
from {{cookiecutter.project_slug}}.experiments.search_space import load_sweep
from {{cookiecutter.project_slug}}.logger import read_metrics
from {{cookiecutter.project_slug}}.utils.run_dir import lock_holder

from .conftest import FAST, run_script, start_script

optuna = pytest.importorskip("optuna")
import sweep  # noqa: E402  (needs optuna only when run; imported after the skip on purpose)

TrialState = optuna.trial.TrialState

# Median pruner with no warm-up and two start-up trials: from the third trial on, a
# trial whose val_loss is worse than the median of the finished ones at the same epoch
# is pruned. The seeded sampler makes the trials, and so the pruning, repeatable.
SPACE = """\
study: test
n_trials: 4
sampler: {name: tpe, seed: 3}
pruner: {name: median, n_startup_trials: 2, n_warmup_steps: 0}
params:
  optimizer.lr: {type: float, low: 1.0e-5, high: 0.1, log: true}
  model.hidden_sizes: {type: categorical, choices: [[32], [64, 32]]}
"""


def write_space(tmp_path: Path, text: str = SPACE) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


# Digits where the project has it (the default), else the small MNIST-format files.
DATA = "digits" if "digits" in DATAMODULES.entries else "mnist"


@pytest.fixture
def sweep_args(tmp_path, data_root):
    """``sweep_args(*extra, text=SPACE)``: sweep.py's arguments, into tmp_path/sweep."""

    def make(*extra: str, text: str = SPACE) -> list[str]:
        space = write_space(tmp_path, text)
        data = [f"data.name={DATA}", f"data.root={data_root}"]
        return ["-c", str(space), *FAST, *data, f"sweep_dir={tmp_path / 'sweep'}", *extra]

    return make


def load_study(sweep_dir: Path):
    return optuna.load_study(study_name="test", storage=f"sqlite:///{sweep_dir / 'study.db'}")


def finished(study) -> list:
    return [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]


@pytest.mark.slow
def test_a_sweep_trains_prunes_and_reports(tmp_path, sweep_args, capsys):
    sweep_dir = tmp_path / "sweep"
    started = time.perf_counter()
    assert sweep.main(sweep_args()) == 0
    print(f"4-trial sweep: {time.perf_counter() - started:.1f} s")  # shown with -s
    study = load_study(sweep_dir)
    assert len(study.trials) == 4 and len(finished(study)) == 4
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, [(t.number, t.state, t.params) for t in study.trials]
    for trial in study.trials:
        run_dir = sweep_dir / f"trial-{trial.number:03d}"
        config = load_config(run_dir / "config.yaml")
        assert config.optimizer.lr == trial.params["optimizer.lr"]
        for name in ("checkpoints/last.pt", "checkpoints/best.pt", "test_metrics.json"):
            assert (run_dir / name).exists(), (run_dir, name)
        rows, _ = read_metrics(run_dir / "metrics.csv")
        # A pruned trial stopped after the epoch it was pruned at, like early stopping.
        expected = trial.user_attrs.get("pruned_at_epoch", 2)
        assert [int(r["epoch"]) for r in rows] == list(range(1, expected + 1))
        assert list(trial.intermediate_values) == list(range(1, expected + 1))
    with (sweep_dir / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["state"] for r in rows] == [t.state.name.lower() for t in study.trials]
    best = load_config(sweep_dir / "best_config.yaml")  # what train.py -c reads
    assert best.optimizer.lr == study.best_trial.params["optimizer.lr"]
    assert best.output_dir is None
    for name in ("optimization_history.png", "param_importances.png"):
        assert (sweep_dir / name).stat().st_size > 1000, name
    out = capsys.readouterr().out
    assert f"best: trial {study.best_trial.number} " in out
    # n_trials=0: the reports again, no new trial.
    (sweep_dir / "trials.csv").unlink()
    assert sweep.main([*sweep_args(), "n_trials=0"]) == 0
    assert len(load_study(sweep_dir).trials) == 4 and (sweep_dir / "trials.csv").is_file()


def pause_while(proc, condition, timeout: float = 240) -> None:
    """Leave ``proc`` stopped (SIGSTOP) at a moment ``condition()`` holds: pause it,
    look, and let it go on until it does."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "timed out"
        os.kill(proc.pid, signal.SIGSTOP)
        if condition():
            return
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.05)


def training(run_dir: Path, proc=None) -> bool:
    """A run is training in ``run_dir`` now (by ``proc``, if given)."""
    holder = lock_holder(run_dir)
    busy = holder is not None and not (run_dir / "test_metrics.json").exists()
    return busy and (proc is None or holder == str(proc.pid))


@pytest.mark.slow
def test_a_killed_sweep_continues_its_study(tmp_path, sweep_args):
    sweep_dir = tmp_path / "sweep"
    args = sweep_args()
    proc = start_script("sweep.py", *args)
    try:
        pause_while(proc, lambda: training(sweep_dir / "trial-001"))
        os.kill(proc.pid, signal.SIGKILL)  # kill -9 in the middle of trial 1
    finally:
        proc.kill()
        proc.communicate()
    killed = load_study(sweep_dir).trials[1]
    assert killed.state == TrialState.RUNNING  # what the kill left behind
    result = run_script("sweep.py", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trial 1 was left unfinished by a stopped process: queued again" in result.stdout
    study = load_study(sweep_dir)
    assert study.trials[1].state == TrialState.FAIL
    assert len(finished(study)) == 4 and len(study.trials) == 5
    retry = [t for t in study.trials if t.user_attrs.get("retry_of") == 1]
    assert len(retry) == 1 and retry[0].params == killed.params
    assert retry[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    # The seeded sampler went on from where the study was, instead of replaying its start.
    drawn = [tuple(t.params.values()) for t in study.trials if "retry_of" not in t.user_attrs]
    assert len(set(drawn)) == len(drawn), drawn


@pytest.mark.slow
def test_two_processes_share_one_study_without_duplicates(tmp_path, sweep_args):
    """Both start at once; the one that takes trial 0 is paused in it while the other
    takes the next: a paused (live) worker's trial is never taken over, and the two
    together run exactly n_trials distinct trials."""
    sweep_dir = tmp_path / "sweep"
    args = sweep_args(text=SPACE.replace("seed: 3", "seed: null"))
    procs = [start_script("sweep.py", *args) for _ in range(2)]
    try:
        deadline = time.monotonic() + 240
        while lock_holder(sweep_dir / "trial-000") is None:
            for proc in procs:
                assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no trial started"
            time.sleep(0.05)
        first = next(p for p in procs if str(p.pid) == lock_holder(sweep_dir / "trial-000"))
        pause_while(first, lambda: training(sweep_dir / "trial-000", first))
        other = next(p for p in procs if p is not first)
        while lock_holder(sweep_dir / "trial-001") != str(other.pid):
            assert other.poll() is None, other.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the other process never started a trial"
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGCONT)
        for proc in procs:
            _, stderr = proc.communicate(timeout=600)
            assert proc.returncode == 0, stderr[-3000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    study = load_study(sweep_dir)
    assert [t.number for t in study.trials] == list(range(4))
    assert len(finished(study)) == 4  # none failed, none taken over
    workers = [t.user_attrs["worker"] for t in study.trials]
    assert len(set(workers)) == 2 and workers[0] != workers[1]
    assert sorted(p.name for p in sweep_dir.glob("trial-*")) == [f"trial-{n:03d}" for n in range(4)]


BAD_SPACES = {
    "unknown key": ("optimizer.lrr: {type: float, low: 0.1, high: 1}", "params.optimizer.lrr"),
    "empty range": ("optimizer.lr: {type: float, low: 0.1, high: 0.01}", "the range is empty"),
    "float on an int key": ("trainer.epochs: {type: float, low: 1, high: 3}", "use type: int"),
    "number on a list key": ("model.hidden_sizes: {type: int, low: 8, high: 64}", "categorical"),
    "no choices": ("model.dropout: {type: categorical, choices: []}", "non-empty list"),
    "unknown type": ("optimizer.lr: {type: loguniform, low: 0.1, high: 1}", "needs type"),
    "log from zero": ("optimizer.lr: {type: float, low: 0, high: 1, log: true}", "low > 0"),
    "outside the schema": ("model.dropout: {type: float, low: 0.5, high: 1.0}", "value 1.0"),
    "a section": ("optimizer: {type: categorical, choices: [1]}", "not a config key"),
}


@pytest.mark.parametrize("case", list(BAD_SPACES), ids=list(BAD_SPACES))
def test_a_bad_search_space_is_one_line_before_any_trial(tmp_path, sweep_args, capsys, case):
    param, fragment = BAD_SPACES[case]
    text = f"study: test\nparams:\n  {param}\n"
    assert sweep.main(sweep_args(text=text)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert fragment in err[0], err[0]
    assert not (tmp_path / "sweep").exists()  # nothing written


def test_the_sweep_monitors_every_metric_label_train_py_accepts(tmp_path):
    """One list of monitorable names: a metric with options (reported as ``f1_micro``)
    is a monitor for train.py and for a sweep alike."""
    metrics = "metrics=[accuracy, {name: f1, average: micro}]"
    monitor = ["trainer.checkpoint.monitor=val_f1_micro", "trainer.checkpoint.mode=max"]
    assert load_config(overrides=[metrics, *monitor]).trainer.checkpoint.monitor == "val_f1_micro"
    text = (
        "study: test\nmonitor: val_f1_micro\n"
        "params:\n  optimizer.lr: {type: float, low: 0.001, high: 0.1}\n"
    )
    spec = load_sweep(write_space(tmp_path, text), [metrics], {})
    assert (spec.monitor, spec.mode) == ("val_f1_micro", "max")
    with pytest.raises(ConfigError, match="val_f1_macro"):  # still refuses what is not logged
        load_sweep(write_space(tmp_path, text.replace("micro", "macro")), [metrics], {})


def test_without_optuna_sweep_says_how_to_install_it(tmp_path, sweep_args, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # "import optuna" now fails
    assert sweep.main(sweep_args()) == 1
    err = capsys.readouterr().err
    assert 'pip install -e ".[sweep]"' in err and "Traceback" not in err
    assert not (tmp_path / "sweep").exists()
