"""Train a model.

    python train.py [-c configs/train.yaml] [key=value ...]
    python train.py trainer.epochs=5 data.batch_size=128 output_dir=runs/try1
    python train.py experiment=mnist_mlp data.root=/data
    python train.py resume=runs/try1/checkpoints/last.pt
    torchrun --standalone --nproc_per_node=2 train.py

Wiring only: config -> data -> model -> trainer (which calls logger and saver).
"""

import json
import logging
import sys
import time
from pathlib import Path

from omegaconf import DictConfig
from torch.distributed.elastic.multiprocessing.errors import record

from {{cookiecutter.project_slug}}.config import (
    ConfigError,
    load_config,
    parse_cli,
    save_config,
)
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.logger import (
    build_loggers,
    check_metrics_file,
    setup_logging,
)
from {{cookiecutter.project_slug}}.logger.confusion import save_confusion_matrix
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.saver import (
    TRAINING_KEYS,
    check_resumable,
    load_checkpoint,
    require_training_checkpoint,
)
from {{cookiecutter.project_slug}}.trainer import (
    ClassificationTrainer,
    TrainingInterrupted,
    evaluate_test_split,
)
from {{cookiecutter.project_slug}}.trainer.distributed import without_ddp
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

log = logging.getLogger("train")


def build_config(argv: list[str] | None) -> tuple[DictConfig, dict | None]:
    """The validated config, and the checkpoint to resume from (read once, here, when
    ``resume=`` is given: its config is then the base)."""
    path, overrides, _ = parse_cli(argv)
    resume = next((o.split("=", 1)[1] for o in overrides if o.startswith("resume=")), None)
    checkpoint = None
    if resume:
        checkpoint = require_training_checkpoint(load_checkpoint(resume), resume, TRAINING_KEYS)
    if resume and path is None:
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
    if not config.resume:
        return None
    if checkpoint is None:
        checkpoint = load_checkpoint(config.resume)
    trainable = [p for p in model.parameters() if p.requires_grad]
    check_resumable(checkpoint, config.resume, model, trainable)
    return checkpoint


def run(config, checkpoint: dict | None = None) -> dict[str, float]:
    """Train and test; ``checkpoint``: the ``resume=`` file, if the caller already read it."""
    info = init_distributed(config.trainer.device)
    seed_everything(config.seed + info.rank, config.trainer.deterministic)
    # Everything that can reject the inputs runs first, and writes nothing.
    if config.output_dir is not None:
        check_output_dir(Path(config.output_dir), bool(config.resume), config.overwrite)
        if config.resume and (Path(config.output_dir) / "metrics.csv").is_file():
            check_metrics_file(Path(config.output_dir) / "metrics.csv")
    datamodule = build_datamodule(config.data, seed=config.seed, dist_info=info)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    resumed = check_resume(config, model, checkpoint)
    run_dir, lock, created = claim_run_dir(config, info)
    try:
        try:
            trainer = ClassificationTrainer(model, datamodule, config, run_dir, dist_info=info)
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
    trainer.loggers = build_loggers(
        config,
        run_dir,
        info.is_main,
        resume_epoch=state["epoch"] if state else None,
        resume_step=state["global_step"] if state else None,
    )
    log.info("run directory: %s", run_dir.resolve())
    log.info("model: %s", model.summary())
    try:
        trainer.fit(resume_from=resumed)
        test_metrics = evaluate_best(trainer, run_dir)
    finally:
        trainer.loggers.finalize()
    if info.is_main:
        report(run_dir, test_metrics)
    return test_metrics


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


# Under torchrun, an uncaught exception's traceback goes to an error file that torchrun
# prints in its failure summary (outside torchrun it only enables faulthandler).
@record
@error_boundary
def main(argv: list[str] | None = None) -> int:
    try:
        run(*build_config(argv))
    except TrainingInterrupted as stop:
        if stop.checkpoint is not None and dist.is_main_process():
            launcher = (
                "torchrun [same options] train.py" if dist.is_enabled() else "python train.py"
            )
            print(f"stopped; resume with: {launcher} resume={stop.checkpoint}", file=sys.stderr)
        # The ranks stopped at the same step; leave together, or torchrun, seeing one rank
        # exit, kills the others while rank 0 still reports.
        dist.barrier()
        return 128 + stop.signum
    finally:
        dist.cleanup()  # leave the process group, also after an error
    return 0


if __name__ == "__main__":
    sys.exit(main())
