"""The trial loop of a sweep: ask the study for a trial, train it with the pruner
attached (a real training run, by the run layer's ``fit``), tell the study its outcome."""

import sys
from pathlib import Path

from ..config import ConfigError, load_config
from ..run import fit
from ..trainer import TrainingInterrupted
from ..utils.run_dir import holds_run
from .pruning import OptunaPruning
from .study import FINISHED, abandon, check_settings, count, recover_abandoned, sweep_lock


def check_sweep(spec, sweep_dir: str | None) -> Path:
    """The sweep folder (given, or ``runs/sweeps/<study>``) and the study's settings,
    checked before anything is written."""
    folder = Path(sweep_dir or Path("runs") / "sweeps" / spec.study)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"sweep_dir={folder} is a file; choose a folder")
    if folder.is_dir() and holds_run(folder):  # as cv.py: a run is not a sweep folder
        raise ConfigError(f"sweep_dir={folder} holds a training run; choose a new folder")
    check_settings(spec)
    if spec.n_trials == 0 and not (folder / "study.db").is_file():
        raise ConfigError(f"no study in {folder} yet; run with n_trials >= 1 first")
    return folder


def distributions(spec) -> dict:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    made = {}
    for p in spec.params:
        if p.type == "categorical":
            made[p.key] = CategoricalDistribution(p.encoded_choices())
        elif p.type == "int":
            made[p.key] = IntDistribution(p.low, p.high, log=p.log, step=p.step or 1)
        else:
            made[p.key] = FloatDistribution(p.low, p.high, log=p.log, step=p.step)
    return made


def next_trial(study, spec, sweep_dir: Path, worker, space: dict):
    """A new trial, or None once the study has ``n_trials`` finished or running."""
    from optuna.trial import TrialState

    with sweep_lock(sweep_dir):
        for number in recover_abandoned(study, sweep_dir):
            print(f"trial {number} was left unfinished by a stopped process: queued again")
        if count(study, (*FINISHED, TrialState.RUNNING)) >= spec.n_trials:
            return None
        trial = study.ask(space)
        trial.set_user_attr("worker", worker.id)
    return trial


def run_trials(study, spec, sweep_dir: Path, worker, command: str) -> int:
    """Start trials until the study has ``n_trials`` finished or running; the exit code."""
    space = distributions(spec)
    while (trial := next_trial(study, spec, sweep_dir, worker, space)) is not None:
        try:
            run_trial(study, spec, sweep_dir, trial)
        except (TrainingInterrupted, KeyboardInterrupt) as stop:
            abandon(study, trial.number, trial.params)
            print(f"stopped; continue the study with: {command}", file=sys.stderr)
            if isinstance(stop, KeyboardInterrupt):
                raise
            return 128 + stop.signum
    return 0


def run_trial(study, spec, sweep_dir: Path, trial) -> None:
    """Train one trial and tell the study how it ended."""
    from optuna.trial import TrialState

    run_dir = sweep_dir / f"trial-{trial.number:03d}"
    trial.set_user_attr("run_dir", str(run_dir))
    overrides = spec.trial_overrides(trial.params)
    print(f"trial {trial.number}: {' '.join(overrides)}", flush=True)
    pruning = OptunaPruning(trial, spec.monitor, spec.mode)
    try:
        config = load_config(
            spec.config_path, [*spec.overrides, *overrides, f"output_dir={run_dir}"]
        )
        test_metrics = fit(config, callbacks=[pruning])
    except (TrainingInterrupted, KeyboardInterrupt):
        raise
    except BaseException:
        study.tell(trial, state=TrialState.FAIL)
        raise
    for name, value in test_metrics.items():
        trial.set_user_attr(name, value)
    trial.set_user_attr("epochs", pruning.epochs)
    if pruning.pruned_at is not None:
        trial.set_user_attr("pruned_at_epoch", pruning.pruned_at)
        study.tell(trial, state=TrialState.PRUNED)
        outcome = f"pruned at epoch {pruning.pruned_at}"
    elif pruning.best is None:
        study.tell(trial, state=TrialState.FAIL)
        outcome = f"failed: no finite {spec.monitor}"
    else:
        study.tell(trial, pruning.best)
        outcome = f"finished, best {spec.monitor} {pruning.best:.4f}"
    print(f"trial {trial.number} {outcome} ({run_dir})", flush=True)
