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

from {{cookiecutter.project_slug}}.config import ConfigError, parse_cli
from {{cookiecutter.project_slug}}.utils.errors import UserError, error_boundary

SCRIPT_KEYS = ("n_trials", "study", "sweep_dir")


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
        open_study,
        sweep_lock,
    )
    from {{cookiecutter.project_slug}}.experiments.sweep_report import write_reports
    from {{cookiecutter.project_slug}}.experiments.trials import check_sweep, run_trials

    spec = load_sweep(path, overrides, values)
    sweep_dir = check_sweep(spec, values.get("sweep_dir"))
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
