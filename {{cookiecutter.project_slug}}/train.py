"""Train a model.

    python train.py [-c configs/train.yaml] [key=value ...]
    python train.py trainer.epochs=5 data.batch_size=128 output_dir=runs/try1
    python train.py experiment=mnist_mlp data.root=/data
    python train.py resume=runs/try1/checkpoints/last.pt
    python train.py output_dir=runs/try1 resume=auto   # newest checkpoint there, or a new run
    torchrun --standalone --nproc_per_node=2 train.py

Wiring only: config -> data -> model -> trainer (which calls logger and saver).
"""

import json
import logging
import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from torch.distributed.elastic.multiprocessing.errors import record

from {{cookiecutter.project_slug}}.config import (
    ConfigError,
    load_config,
    parse_cli,
    save_config,
)
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.data.summary import (
    describe_splits,
    small_validation_warning,
)
from {{cookiecutter.project_slug}}.logger import (
    build_loggers,
    check_loggers,
    check_metrics_file,
    setup_logging,
)
from {{cookiecutter.project_slug}}.logger.confusion import save_confusion_matrix
from {{cookiecutter.project_slug}}.model import build_model, check_metrics
from {{cookiecutter.project_slug}}.model.transfer import frozen_random_warning
from {{cookiecutter.project_slug}}.saver import (
    TRAINING_KEYS,
    check_resumable,
    load_checkpoint,
    newest_checkpoint,
    require_training_checkpoint,
)
from {{cookiecutter.project_slug}}.trainer import (
    ClassificationTrainer,
    TrainingInterrupted,
    evaluate_test_split,
)
from {{cookiecutter.project_slug}}.trainer.distributed import without_ddp
from {{cookiecutter.project_slug}}.trainer.graceful_stop import catch_usr1_early
from {{cookiecutter.project_slug}}.utils import dist, init_distributed, seed_everything
from {{cookiecutter.project_slug}}.utils.errors import RunDirError, error_boundary
from {{cookiecutter.project_slug}}.utils.run_dir import (
    RunLock,
    check_free,
    check_output_dir,
    clear_run,
    create_unique_dir,
    remove_unused,
)
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.utils.slurm import (
    REQUEUE_SIGNAL,
    requeue_job,
    slurm_job_id,
)
{%- endif %}

log = logging.getLogger("train")

AUTO = "auto"  # resume=auto: the newest checkpoint in output_dir, or a new run there


def build_config(argv: list[str] | None) -> tuple[DictConfig, dict | None]:
    """The validated config, and the checkpoint to resume from (read once, here, when
    ``resume=`` is given: its config is then the base)."""
    path, overrides, _ = parse_cli(argv)
    resume = next((o.split("=", 1)[1] for o in overrides if o.startswith("resume=")), None)
    if resume == AUTO:
        overrides = resolve_auto_resume(path, overrides)
        resume = next(o.split("=", 1)[1] for o in overrides if o.startswith("resume="))
    checkpoint = None
    if resume and resume != AUTO:
        checkpoint = require_training_checkpoint(load_checkpoint(resume), resume, TRAINING_KEYS)
    if checkpoint is not None and path is None:
        base = dict(checkpoint["config"], overwrite=False)  # an opt-in is never inherited
        if Path(resume).resolve().parent.name == "checkpoints":
            # Continue in the checkpoint's own run directory, whatever the cwd (a relative
            # output_dir would otherwise start a new run elsewhere); output_dir= still wins.
            base["output_dir"] = str(Path(resume).resolve().parent.parent)
        config = load_config(overrides=overrides, base=base)
    else:
        config = load_config(path, overrides)
    if config.resume and config.overwrite:
        raise ConfigError("resume= continues a run and overwrite=true replaces it; choose one")
    return config, checkpoint


def resolve_auto_resume(path: str | None, overrides: list[str]) -> list[str]:
    """``resume=auto``: the overrides with ``resume=<the newest checkpoint in output_dir>``,
    or unchanged (a new run in output_dir) when it holds none. Every rank reads the
    directory itself; ``agree_on_resume`` then checks that they found the same file."""
    config = load_config(path, overrides)
    if config.output_dir is None:
        raise ConfigError(
            "resume=auto continues the run in output_dir: give output_dir=<run directory>, "
            "the same on every start"
        )
    if config.overwrite:
        raise ConfigError("resume= continues a run and overwrite=true replaces it; choose one")
    run_dir = Path(config.output_dir)
    check_output_dir(run_dir, resuming=True, overwrite=False)  # a file, or a run in use
    found = newest_checkpoint(run_dir / "checkpoints", OmegaConf.to_container(config, resolve=True))
    if found is None:
        check_nothing_to_redo(run_dir)
        announce(f"resume=auto: no checkpoint in {run_dir / 'checkpoints'}; starting a new run")
        return overrides
    checkpoint, progress = found
    announce(f"resume=auto: continuing from {checkpoint} ({progress.describe()})")
    return [*(o for o in overrides if not o.startswith("resume=")), f"resume={checkpoint}"]


def check_nothing_to_redo(run_dir: Path) -> None:
    """A new run in a directory without checkpoints is fine while it holds no results
    (a job stopped before its first checkpoint); finished epochs would be lost."""
    metrics = run_dir / "metrics.csv"
    done = len(check_metrics_file(metrics)[0]) if metrics.is_file() else 0
    if done or (run_dir / "test_metrics.json").exists():
        raise RunDirError(
            f"output_dir={run_dir} holds a run with results ({done} epoch(s) in metrics.csv) "
            "but no checkpoint to continue from, so resume=auto would start it over; choose "
            "another output_dir, or replace the run with overwrite=true instead of resume=auto"
        )


def announce(message: str) -> None:
    if dist.is_main_process():
        print(message, flush=True)


def agree_on_resume(config, resumed: dict | None) -> None:
    """Under torchrun every rank resolved ``resume=`` itself: all must continue from the
    same checkpoint and state, or none starts (e.g. output_dir not on a shared disk)."""
    mine = (config.resume, resumed["trainer"] if resumed else None)
    everyone = dist.all_gather_object(mine)
    if any(other != mine for other in everyone):
        found = "; ".join(f"rank {rank}: {path}" for rank, (path, _) in enumerate(everyone))
        raise RunDirError(
            f"the processes found different checkpoints to resume from ({found}); with "
            "several nodes, output_dir must be on a filesystem that all of them share"
        )


def claim_run_dir(config, info) -> tuple[Path, RunLock | None, bool]:
    """Rank 0 creates (or opens) the run directory and locks it, and every rank learns
    the directory, or leaves with the reason it cannot be used.
    Returns (run_dir, the lock on rank 0, whether this run created the directory)."""
    claimed, error = (None, None, False), None
    if info.is_main:
        try:
            claimed = _claim(config)
        except (RunDirError, OSError) as problem:  # OSError: a path that cannot be created
            error = problem
    message = dist.broadcast_object(None if error is None else str(error))
    if error is not None:
        raise error
    if message is not None:
        raise RunDirError(message)
    run_dir, lock, created = claimed
    return Path(dist.broadcast_object(str(run_dir))), lock, created


def _claim(config) -> tuple[Path, RunLock, bool]:
    if config.output_dir is None:
        # A timestamp names the run; mkdir settles two runs started in the same second.
        run_dir = create_unique_dir(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
        created = True
    else:
        run_dir = Path(config.output_dir)
        created = not run_dir.exists()
        run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir).acquire()
    try:
        # Checked again under the lock: another run may have finished here meanwhile.
        check_free(run_dir, bool(config.resume), config.overwrite)
    except RunDirError:
        lock.release()
        raise
    return run_dir, lock, created


def check_resume(config, model, checkpoint: dict | None) -> dict | None:
    """The checkpoint to resume from, checked against the built model."""
    if not config.resume or config.resume == AUTO:
        return None
    if checkpoint is None:
        checkpoint = load_checkpoint(config.resume)
    trainable = [p for p in model.parameters() if p.requires_grad]
    check_resumable(checkpoint, config.resume, model, trainable)
    return checkpoint


def run(config, checkpoint: dict | None = None, callbacks=()) -> dict[str, float]:
    """Train and test; ``checkpoint``: the ``resume=`` file, if the caller already read it;
    ``callbacks`` join the trainer's (a search's pruner, for one)."""
    info = init_distributed(config.trainer.device)
    seed_everything(config.seed + info.rank, config.trainer.deterministic)
    # Everything that can reject the inputs runs first, and writes nothing.
    if config.output_dir is not None:
        check_output_dir(Path(config.output_dir), bool(config.resume), config.overwrite)
        if config.resume and (Path(config.output_dir) / "metrics.csv").is_file():
            check_metrics_file(Path(config.output_dir) / "metrics.csv")
    if info.is_main:  # a tracking store that cannot log this run: before the run dir
        check_loggers(config, resuming=config.resume not in (None, AUTO))
    datamodule = build_datamodule(config.data, seed=config.seed, dist_info=info)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    check_metrics(config.metrics, datamodule.num_classes)  # e.g. top_k above the classes
    resumed = check_resume(config, model, checkpoint)
    agree_on_resume(config, resumed)
    run_dir, lock, created = claim_run_dir(config, info)
    try:
        try:
            trainer = ClassificationTrainer(
                model, datamodule, config, run_dir, dist_info=info, callbacks=list(callbacks)
            )
        except BaseException:
            if created and lock is not None:
                lock.release()
                remove_unused(run_dir)
            raise
        config.output_dir = str(run_dir)
        if config.overwrite and info.is_main:
            clear_run(run_dir)
        return train_and_test(config, trainer, model, resumed)
    finally:
        if lock is not None:
            lock.release()


def train_and_test(config, trainer, model, resumed: dict | None) -> dict[str, float]:
    info, run_dir = trainer.dist, Path(config.output_dir)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    setup_logging(run_dir, info.is_main)
    if info.is_main:
        save_config(config, run_dir / "config.yaml")
    state = resumed["trainer"] if resumed else None
    # A new run by resume=auto may follow one that stopped before its first checkpoint:
    # TensorBoard drops that one's events (from step 1 on).
    fresh_step = 0 if config.resume == AUTO else None
    trainer.loggers = build_loggers(
        config,
        run_dir,
        info.is_main,
        resume_epoch=state["epoch"] if state else None,
        resume_step=state["global_step"] if state else fresh_step,
    )
    log.info("run directory: %s", run_dir.resolve())
    log.info("model: %s", model.summary())
    log_data_summary(trainer.datamodule, config)
    if frozen_random := frozen_random_warning(config.model):
        log.warning("%s", frozen_random)
    try:
        trainer.fit(resume_from=resumed)
        test_metrics = evaluate_best(trainer, run_dir)
    finally:
        trainer.loggers.finalize()
    if info.is_main:
        report(run_dir, test_metrics)
    return test_metrics


def log_data_summary(datamodule, config) -> None:
    """Split sizes and samples per class; a warning when validation is too small to monitor."""
    for line in describe_splits(datamodule):
        log.info("%s", line)
    warning = small_validation_warning(datamodule, config)
    if warning:
        log.warning("%s", warning)


def evaluate_best(trainer: ClassificationTrainer, run_dir: Path) -> dict[str, float]:
    """Test-set metrics of the best checkpoint (the last weights if none was saved)."""
    best = run_dir / "checkpoints" / "best.pt"
    if best.exists():
        trainer.module.load_state_dict(load_checkpoint(best, trainer.device)["model"])
    loader, classes = trainer.datamodule.test_dataloader(), list(trainer.datamodule.classes)
    metrics, matrix = evaluate_test_split(
        without_ddp(trainer.model),  # each rank tests its shard; the metrics are over all
        loader,
        trainer.config,
        classes,
        trainer.device,
        trainer.precision.autocast,
    )
    if trainer.dist.is_main:
        (run_dir / "test_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        figure = save_confusion_matrix(matrix, classes, run_dir / "confusion_matrix.png")
        trainer.loggers.log_figure("test/confusion_matrix", figure, trainer.state.global_step)
    return metrics


def report(run_dir: Path, test_metrics: dict[str, float]) -> None:
    for name, value in test_metrics.items():
        if not name.startswith("test_class_"):  # per-class values: in test_metrics.json
            print(f"{name}: {value:.4f}")
    where = {
        "config": "config.yaml",
        "log": "train.log",
        "metrics": "metrics.csv",
        "curves": "curves.png",
        "checkpoints": "checkpoints/",
        "tensorboard": "tensorboard/",
        "wandb": "wandb/",
        "test metrics": "test_metrics.json",
        "confusion": "confusion_matrix.png",
    }
    print(f"outputs in {run_dir.resolve()}:")
    for label, name in where.items():
        if (run_dir / name).exists():
            print(f"  {label:<13} {run_dir / name}")
{%- if cookiecutter.profile == "full" %}


def requeue(checkpoint: Path) -> None:
    """SLURM asked to stop (USR1 before the time limit) and last.pt is written: requeue the
    job. Done here, not by the sbatch script, so that only a saved stop requeues: a job
    that crashes ends instead of starting again and again."""
    job_id = slurm_job_id()
    problem = requeue_job(job_id)
    if problem is None:
        print(
            f"stopped; SLURM job {job_id} requeued: it continues from {checkpoint} "
            "(resume=auto in the same output_dir)",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(
            f"stopped, but requeueing SLURM job {job_id} failed ({problem}); resubmit it, "
            f"it continues from {checkpoint} with resume=auto",
            file=sys.stderr,
            flush=True,
        )
{%- endif %}


# Under torchrun, an uncaught exception's traceback goes to an error file that torchrun
# prints in its failure summary (outside torchrun it only enables faulthandler).
@record
@error_boundary
def main(argv: list[str] | None = None) -> int:
    catch_usr1_early()  # SLURM's stop signal during start-up: stop after one step, requeue
    try:
        run(*build_config(argv))
    except TrainingInterrupted as stop:
        if stop.checkpoint is not None and dist.is_main_process():
{%- if cookiecutter.profile == "full" %}
            if stop.signum == REQUEUE_SIGNAL and slurm_job_id():
                requeue(stop.checkpoint)
            else:
                launcher = (
                    "torchrun [same options] train.py" if dist.is_enabled() else "python train.py"
                )
                print(f"stopped; resume with: {launcher} resume={stop.checkpoint}", file=sys.stderr)
{%- else %}
            resume_line = f"stopped; resume with: python train.py resume={stop.checkpoint}"
            print(resume_line, file=sys.stderr)
{%- endif %}
        # The ranks stopped at the same step; leave together, or torchrun, seeing one rank
        # exit, kills the others while rank 0 still reports.
        dist.barrier()
        return 128 + stop.signum
    finally:
        dist.cleanup()  # leave the process group, also after an error
    return 0


if __name__ == "__main__":
    sys.exit(main())
