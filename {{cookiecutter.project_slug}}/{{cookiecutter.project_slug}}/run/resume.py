"""Resume resolution: which checkpoint ``resume=`` (a path, or ``auto``) continues from,
the config it implies, and the checks that it fits the model.
The checkpoint is read once, here; the trainer restores from that dict."""

from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ..config import ConfigError, load_config, parse_cli
from ..logger import check_metrics_file
from ..saver import check_resumable, newest_checkpoint
from ..trainer.state import read_checkpoint
from ..trainer.strategy import check_launch
from ..utils.errors import RunDirError
from ..utils.run_dir import CHECKPOINTS, RunFiles, check_output_dir

AUTO = "auto"  # resume=auto: the newest checkpoint in output_dir, or a new run there
BOTH = "resume= continues a run and overwrite=true replaces it; choose one"
# Whether this process keeps quiet about what resume= resolved to: an added part that
# starts several processes lets only one of them speak.
QUIET: list[Callable[[], bool]] = []


def build_config(argv: list[str] | None) -> tuple[DictConfig, dict | None]:
    """The validated config, and the checkpoint to resume from (read once, here, when
    ``resume=`` is given: its config is then the base)."""
    check_launch()  # before anything is read or written
    path, overrides, _ = parse_cli(argv)
    resume = resume_value(overrides)
    if resume == AUTO:
        overrides = resolve_auto_resume(path, overrides)
        resume = resume_value(overrides)
    checkpoint = read_checkpoint(resume) if resume and resume != AUTO else None
    if checkpoint is not None and path is None:
        base = dict(checkpoint["config"], overwrite=False)  # an opt-in is never inherited
        if Path(resume).resolve().parent.name == CHECKPOINTS:
            # Continue in the checkpoint's own run directory, whatever the cwd (a relative
            # output_dir would otherwise start a new run elsewhere); output_dir= still wins.
            base["output_dir"] = str(Path(resume).resolve().parent.parent)
        config = load_config(overrides=overrides, base=base)
    else:
        config = load_config(path, overrides)
    if config.resume and config.overwrite:
        raise ConfigError(BOTH)
    return config, checkpoint


def resume_value(overrides: list[str]) -> str | None:
    return next((o.split("=", 1)[1] for o in overrides if o.startswith("resume=")), None)


def resolve_auto_resume(path: str | None, overrides: list[str]) -> list[str]:
    """``resume=auto``: the overrides with ``resume=<the newest checkpoint in output_dir>``,
    or unchanged (a new run in output_dir) when it holds none."""
    config = load_config(path, overrides)
    if config.output_dir is None:
        raise ConfigError(
            "resume=auto continues the run in output_dir: give output_dir=<run directory>, "
            "the same on every start"
        )
    if config.overwrite:
        raise ConfigError(BOTH)
    files = RunFiles(config.output_dir)
    check_output_dir(files.root, resuming=True, overwrite=False)  # a file, or a run in use
    found = newest_checkpoint(files.checkpoints, OmegaConf.to_container(config, resolve=True))
    if found is None:
        check_nothing_to_redo(files)
        announce(f"resume=auto: no checkpoint in {files.checkpoints}; starting a new run")
        return overrides
    checkpoint, progress = found
    announce(f"resume=auto: continuing from {checkpoint} ({progress.describe()})")
    return [*(o for o in overrides if not o.startswith("resume=")), f"resume={checkpoint}"]


def check_nothing_to_redo(files: RunFiles) -> None:
    """A new run in a directory without checkpoints is fine while it holds no results
    (a job stopped before its first checkpoint); finished epochs would be lost."""
    done = len(check_metrics_file(files.metrics)[0]) if files.metrics.is_file() else 0
    if done or files.test_metrics.exists():
        raise RunDirError(
            f"output_dir={files.root} holds a run with results ({done} epoch(s) in "
            "metrics.csv) but no checkpoint to continue from, so resume=auto would start it "
            "over; choose another output_dir, or replace the run with overwrite=true instead "
            "of resume=auto"
        )


def announce(message: str) -> None:
    if not any(quiet() for quiet in QUIET):
        print(message, flush=True)


def check_inputs(config) -> None:
    """Read-only checks of the run directory, before anything is built or written."""
    if config.output_dir is not None:
        files = RunFiles(config.output_dir)
        check_output_dir(files.root, bool(config.resume), config.overwrite)
        if config.resume and files.metrics.is_file():
            check_metrics_file(files.metrics)


def check_resume(config, model, checkpoint: dict | None) -> dict | None:
    """The checkpoint to resume from, checked against the built model."""
    if not config.resume or config.resume == AUTO:
        return None
    if checkpoint is None:
        checkpoint = read_checkpoint(config.resume)
    trainable = [p for p in model.parameters() if p.requires_grad]
    check_resumable(checkpoint, config.resume, model, trainable)
    return checkpoint
