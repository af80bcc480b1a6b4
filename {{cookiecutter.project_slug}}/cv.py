"""K-fold cross-validation: train every fold, each in its own run directory, then the
mean ± std of every validation and test metric over the folds.

    python cv.py data.folds=5 [-c configs/train.yaml] [key=value ...]
    python cv.py data.folds=5 output_dir=runs/cv/mlp     # folds in runs/cv/mlp/fold-<i>/

The training split (with the validation split) is cut into ``data.folds`` stratified
folds, fixed by ``data.split_seed``; fold i validates, the rest trains; the test split is
never used for training. Run the same command again to finish a stopped CV: finished
folds are kept, a stopped fold resumes from its last.pt.
"""

import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

import train
from {{cookiecutter.project_slug}}.config import ConfigError, load_config, parse_cli
from {{cookiecutter.project_slug}}.experiments.cross_validation import (
    summarise,
    summary_table,
    write_summary,
)
from {{cookiecutter.project_slug}}.saver import newest_checkpoint
from {{cookiecutter.project_slug}}.utils.errors import error_boundary
from {{cookiecutter.project_slug}}.utils.run_dir import (
    check_output_dir,
    create_unique_dir,
    holds_run,
)


def fold_configs(path, overrides: list[str], cv_dir: Path) -> list:
    """Every fold's config, all checked before the first fold starts."""
    base = load_config(path, overrides)
    configs = []
    for fold in range(base.data.folds):
        run_dir = cv_dir / f"fold-{fold}"
        extra = [f"data.fold={fold}", f"output_dir={run_dir}"]
        if not base.overwrite and not (run_dir / "test_metrics.json").exists():
            extra += stopped_fold(load_config(path, [*overrides, *extra]), run_dir)
        configs.append(load_config(path, [*overrides, *extra]))
    return configs


def stopped_fold(config, run_dir: Path) -> list[str]:
    """A stopped fold continues from its newest checkpoint (of this fold's config); one
    stopped before its first checkpoint has nothing to continue and starts over."""
    if not (run_dir / "checkpoints").is_dir():
        return []
    found = newest_checkpoint(run_dir / "checkpoints", OmegaConf.to_container(config, resolve=True))
    if found is None:
        print(f"{run_dir}: stopped before its first checkpoint; this fold starts over")
        return ["overwrite=true"]
    return [f"resume={found[0]}"]


@error_boundary
def main(argv: list[str] | None = None) -> int:
    path, overrides, _ = parse_cli(argv)
    base = load_config(path, overrides)
    if base.data.folds < 2:
        raise ConfigError("cv.py needs the number of folds: data.folds=K with K >= 2, e.g. 5")
    if any(o.startswith("data.fold=") for o in overrides) or base.resume:
        raise ConfigError("cv.py trains every fold itself; leave out data.fold= and resume=")
    if base.output_dir is not None:
        cv_dir = Path(base.output_dir)
        if cv_dir.exists() and (not cv_dir.is_dir() or holds_run(cv_dir)):
            raise ConfigError(f"output_dir={cv_dir} is a file or a single run; choose a new folder")
    else:
        cv_dir = Path("runs") / "cv" / time.strftime("%Y%m%d-%H%M%S")
    overrides = [o for o in overrides if not o.startswith("output_dir=")]
    configs = fold_configs(path, overrides, cv_dir)
    for config in configs:
        if not config.resume:
            finished = (Path(config.output_dir) / "test_metrics.json").exists()
            if not (finished and not config.overwrite):
                check_output_dir(Path(config.output_dir), False, config.overwrite)
    if base.output_dir is None:
        cv_dir = create_unique_dir(cv_dir)
        configs = fold_configs(path, overrides, cv_dir)
    command = " ".join(["python cv.py", *(sys.argv[1:] if argv is None else argv)])
    for fold, config in enumerate(configs):
        run_dir = Path(config.output_dir)
        if (run_dir / "test_metrics.json").exists() and not config.overwrite:
            print(f"fold {fold}: already trained in {run_dir}")
            continue
        print(f"fold {fold}/{len(configs)}: {run_dir}", flush=True)
        try:
            train.run(config)
        except train.TrainingInterrupted as stop:
            if "output_dir=" not in command:
                command += f" output_dir={cv_dir}"
            print(f"stopped; finish the folds with: {command}", file=sys.stderr)
            return 128 + stop.signum
    summary = summarise([Path(c.output_dir) for c in configs])
    write_summary(summary, cv_dir / "cv_summary.json")
    print(f"{len(configs)}-fold cross-validation in {cv_dir}:")
    for line in summary_table(summary):
        print(line)
    print(f"summary: {cv_dir / 'cv_summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
