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

from torch.distributed.elastic.multiprocessing.errors import record

from {{cookiecutter.project_slug}}.config import (
    ConfigError,
    load_config,
    parse_cli,
    save_config,
)
from {{cookiecutter.project_slug}}.data import DatasetNotFoundError, build_datamodule
from {{cookiecutter.project_slug}}.logger import build_loggers, setup_logging
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.saver import CheckpointError, load_checkpoint
from {{cookiecutter.project_slug}}.trainer import (
    ClassificationTrainer,
    NonFiniteLossError,
    TrainingInterrupted,
)
from {{cookiecutter.project_slug}}.utils import dist, init_distributed, seed_everything

log = logging.getLogger("train")


def build_config(argv: list[str] | None):
    """The validated config; with ``resume=`` the checkpoint's config is the base."""
    path, overrides, _ = parse_cli(argv)
    resume = next((o.split("=", 1)[1] for o in overrides if o.startswith("resume=")), None)
    if resume and path is None:
        checkpoint = load_checkpoint(resume)
        if "config" not in checkpoint:
            raise ConfigError(f"resume={resume}: the checkpoint holds no config")
        base = dict(checkpoint["config"])
        if Path(resume).resolve().parent.name == "checkpoints":
            # Continue in the checkpoint's own run directory, whatever the cwd (a relative
            # output_dir would otherwise start a new run elsewhere); output_dir= still wins.
            base["output_dir"] = str(Path(resume).resolve().parent.parent)
        return load_config(overrides=overrides, base=base)
    return load_config(path, overrides)


def resolve_run_dir(config) -> Path:
    """``output_dir`` or ``runs/<timestamp>``, chosen by rank 0 and shared with all ranks
    (one directory per run, not per process). Creates nothing."""
    if config.output_dir is None:
        config.output_dir = dist.broadcast_object(f"runs/{time.strftime('%Y%m%d-%H%M%S')}")
    return Path(config.output_dir)


def run(config) -> dict[str, float]:
    info = init_distributed(config.trainer.device)
    seed_everything(config.seed + info.rank, config.trainer.deterministic)
    datamodule = build_datamodule(config.data, seed=config.seed, dist_info=info)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    run_dir = resolve_run_dir(config)
    trainer = ClassificationTrainer(model, datamodule, config, run_dir, dist_info=info)
    # Everything that can reject the config has run: only now is anything written.
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    setup_logging(run_dir, info.is_main)
    if info.is_main:
        save_config(config, run_dir / "config.yaml")
    resumed = load_checkpoint(config.resume)["trainer"] if config.resume else None
    trainer.loggers = build_loggers(
        config,
        run_dir,
        info.is_main,
        resume_epoch=resumed["epoch"] if resumed else None,
        resume_step=resumed["global_step"] if resumed else None,
    )
    log.info("run directory: %s", run_dir.resolve())
    log.info("model: %s", model.summary())
    try:
        trainer.fit(resume_from=config.resume)
    finally:
        trainer.loggers.finalize()
    test_metrics = evaluate_best(trainer, run_dir)
    if info.is_main:
        report(run_dir, test_metrics)
    return test_metrics


def evaluate_best(trainer: ClassificationTrainer, run_dir: Path) -> dict[str, float]:
    """Test-set metrics of the best checkpoint (the last weights if none was saved)."""
    best = run_dir / "checkpoints" / "best.pt"
    if best.exists():
        trainer.raw_model.load_state_dict(load_checkpoint(best, trainer.device)["model"])
    metrics = trainer.test(trainer.datamodule.test_dataloader())
    if trainer.dist.is_main:
        (run_dir / "test_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def report(run_dir: Path, test_metrics: dict[str, float]) -> None:
    for name, value in test_metrics.items():
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
    }
    print(f"outputs in {run_dir.resolve()}:")
    for label, name in where.items():
        if (run_dir / name).exists():
            print(f"  {label:<13} {run_dir / name}")


# Under torchrun, an uncaught exception's traceback goes to an error file that torchrun
# prints in its failure summary (outside torchrun it only enables faulthandler).
@record
def main(argv: list[str] | None = None) -> int:
    try:
        config = build_config(argv)
    except (ConfigError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        run(config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (DatasetNotFoundError, CheckpointError, NonFiniteLossError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        dist.cleanup()  # leave the process group, also after an error
    return 0


if __name__ == "__main__":
    sys.exit(main())
