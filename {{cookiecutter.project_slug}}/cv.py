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
from pathlib import Path

from {{cookiecutter.project_slug}}.config import parse_cli
from {{cookiecutter.project_slug}}.experiments.cross_validation import (
    summarise,
    summary_table,
    write_summary,
)
from {{cookiecutter.project_slug}}.experiments.folds import is_finished, plan_folds
from {{cookiecutter.project_slug}}.run import fit
from {{cookiecutter.project_slug}}.trainer import TrainingInterrupted
from {{cookiecutter.project_slug}}.utils.errors import error_boundary


@error_boundary
def main(argv: list[str] | None = None) -> int:
    path, overrides, _ = parse_cli(argv)
    cv_dir, configs = plan_folds(path, overrides)
    command = " ".join(["python cv.py", *(sys.argv[1:] if argv is None else argv)])
    for fold, config in enumerate(configs):
        if is_finished(config):
            print(f"fold {fold}: already trained in {config.output_dir}")
            continue
        print(f"fold {fold}/{len(configs)}: {config.output_dir}", flush=True)
        try:
            fit(config)
        except TrainingInterrupted as stop:
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
