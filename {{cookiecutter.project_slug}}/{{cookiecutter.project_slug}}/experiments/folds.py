"""The plan of a K-fold cross-validation: one run directory and one config per fold,
all checked before the first fold starts; a stopped fold resumes from its last.pt,
a finished one is kept."""

import time
from pathlib import Path

from omegaconf import OmegaConf

from ..config import ConfigError, load_config
from ..saver import newest_checkpoint
from ..utils.run_dir import RunFiles, check_output_dir, create_unique_dir, holds_run


def check_cv_config(base, overrides: list[str]) -> Path:
    """The CV folder (given, or a new timestamped one, not yet created)."""
    if base.data.folds < 2:
        raise ConfigError("cv.py needs the number of folds: data.folds=K with K >= 2, e.g. 5")
    if any(o.startswith("data.fold=") for o in overrides) or base.resume:
        raise ConfigError("cv.py trains every fold itself; leave out data.fold= and resume=")
    if base.output_dir is None:
        return Path("runs") / "cv" / time.strftime("%Y%m%d-%H%M%S")
    cv_dir = Path(base.output_dir)
    if cv_dir.exists() and (not cv_dir.is_dir() or holds_run(cv_dir)):
        raise ConfigError(f"output_dir={cv_dir} is a file or a single run; choose a new folder")
    return cv_dir


def fold_configs(path, overrides: list[str], cv_dir: Path) -> list:
    """Every fold's config, all checked before the first fold starts."""
    base = load_config(path, overrides)
    configs = []
    for fold in range(base.data.folds):
        files = RunFiles(cv_dir / f"fold-{fold}")
        extra = [f"data.fold={fold}", f"output_dir={files.root}"]
        if not base.overwrite and not files.test_metrics.exists():
            extra += stopped_fold(load_config(path, [*overrides, *extra]), files)
        configs.append(load_config(path, [*overrides, *extra]))
    return configs


def stopped_fold(config, files: RunFiles) -> list[str]:
    """A stopped fold continues from its newest checkpoint (of this fold's config); one
    stopped before its first checkpoint has nothing to continue and starts over."""
    if not files.checkpoints.is_dir():
        return []
    found = newest_checkpoint(files.checkpoints, OmegaConf.to_container(config, resolve=True))
    if found is None:
        print(f"{files.root}: stopped before its first checkpoint; this fold starts over")
        return ["overwrite=true"]
    return [f"resume={found[0]}"]


def is_finished(config) -> bool:
    """The fold has its test metrics and is not to be replaced."""
    return RunFiles(config.output_dir).test_metrics.exists() and not config.overwrite


def plan_folds(path, overrides: list[str]) -> tuple[Path, list]:
    """(the CV folder, every fold's config), the folders checked; a new CV folder is created."""
    base = load_config(path, overrides)
    cv_dir = check_cv_config(base, overrides)
    overrides = [o for o in overrides if not o.startswith("output_dir=")]
    configs = fold_configs(path, overrides, cv_dir)
    for config in configs:
        if not config.resume and not is_finished(config):
            check_output_dir(Path(config.output_dir), False, config.overwrite)
    if base.output_dir is None:
        cv_dir = create_unique_dir(cv_dir)
        configs = fold_configs(path, overrides, cv_dir)
    return cv_dir, configs
