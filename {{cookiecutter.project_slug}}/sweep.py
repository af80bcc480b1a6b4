"""Hyper-parameter search with Optuna: every trial is a real training run.

    python sweep.py -c configs/sweep/lr_width.yaml [n_trials=20] [key=value ...]
    python sweep.py -c configs/sweep/lr_width.yaml n_trials=0      # reports only
    python sweep.py -c configs/sweep/lr_width.yaml study=wide sweep_dir=/scratch/wide

The search space, sampler and pruner are in the sweep file; ``key=value`` overrides go
to every trial, as with train.py. Trials run in this process, one after the other, in
``runs/sweeps/<study>/trial-NNN/``; the study is kept in ``study.db`` next to them, so
running the command again continues it, and several processes started at once share it.
``n_trials`` is the number of finished (completed or pruned) trials the study should reach.
Needs the ``sweep`` extra: pip install -e ".[sweep]".
"""

import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.config import ConfigError, load_config, parse_cli
from {{cookiecutter.project_slug}}.utils.errors import UserError, error_boundary

SCRIPT_KEYS = ("n_trials", "study", "sweep_dir")


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


def run_trials(study, spec, sweep_dir: Path, worker, command: str) -> int:
    """Start trials until the study has ``n_trials`` finished or running; the exit code."""
    from optuna.trial import TrialState

    import train
    from {{cookiecutter.project_slug}}.experiments.pruning import OptunaPruning
    from {{cookiecutter.project_slug}}.experiments.study import (
        FINISHED,
        abandon,
        count,
        recover_abandoned,
        sweep_lock,
    )

    space = distributions(spec)
    while True:
        with sweep_lock(sweep_dir):
            for number in recover_abandoned(study, sweep_dir):
                print(f"trial {number} was left unfinished by a stopped process: queued again")
            started = count(study, (*FINISHED, TrialState.RUNNING))
            if started >= spec.n_trials:
                return 0
            trial = study.ask(space)
            trial.set_user_attr("worker", worker.id)
        run_dir = sweep_dir / f"trial-{trial.number:03d}"
        trial.set_user_attr("run_dir", str(run_dir))
        overrides = spec.trial_overrides(trial.params)
        print(f"trial {trial.number}: {' '.join(overrides)}", flush=True)
        pruning = OptunaPruning(trial, spec.monitor, spec.mode)
        try:
            config = load_config(
                spec.config_path, [*spec.overrides, *overrides, f"output_dir={run_dir}"]
            )
            test_metrics = train.run(config, callbacks=[pruning])
        except (train.TrainingInterrupted, KeyboardInterrupt) as stop:
            abandon(study, trial.number, trial.params)
            print(f"stopped; continue the study with: {command}", file=sys.stderr)
            if isinstance(stop, KeyboardInterrupt):
                raise
            return 128 + stop.signum
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


@error_boundary
def main(argv: list[str] | None = None) -> int:
    path, overrides, values = parse_cli(argv, SCRIPT_KEYS)
    if path is None:
        raise ConfigError(
            "give the sweep file: python sweep.py -c configs/sweep/lr_width.yaml [key=value ...]"
        )
    try:
        import optuna
    except ImportError:
        raise UserError(
            'sweep.py needs Optuna, which is not installed: pip install -e ".[sweep]"'
        ) from None
    from {{cookiecutter.project_slug}}.experiments.search_space import load_sweep
    from {{cookiecutter.project_slug}}.experiments.study import (
        Worker,
        check_settings,
        open_study,
        sweep_lock,
    )
    from {{cookiecutter.project_slug}}.experiments.sweep_report import write_reports
    from {{cookiecutter.project_slug}}.utils.run_dir import holds_run

    spec = load_sweep(path, overrides, values)
    sweep_dir = Path(values.get("sweep_dir") or Path("runs") / "sweeps" / spec.study)
    if sweep_dir.exists() and not sweep_dir.is_dir():
        raise ConfigError(f"sweep_dir={sweep_dir} is a file; choose a folder")
    if sweep_dir.is_dir() and holds_run(sweep_dir):  # as cv.py: a run is not a sweep folder
        raise ConfigError(f"sweep_dir={sweep_dir} holds a training run; choose a new folder")
    check_settings(spec)
    if spec.n_trials == 0 and not (sweep_dir / "study.db").is_file():
        raise ConfigError(f"no study in {sweep_dir} yet; run with n_trials >= 1 first")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    with sweep_lock(sweep_dir):
        study = open_study(spec, sweep_dir, create=spec.n_trials > 0)
    command = " ".join(["python sweep.py", *(sys.argv[1:] if argv is None else argv)])
    code = 0
    if spec.n_trials > 0:
        worker = Worker(sweep_dir)
        try:
            code = run_trials(study, spec, sweep_dir, worker, command)
        finally:
            worker.close()
    print(f"study {spec.study} in {sweep_dir}:")
    for line in write_reports(study, spec, sweep_dir):
        print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
