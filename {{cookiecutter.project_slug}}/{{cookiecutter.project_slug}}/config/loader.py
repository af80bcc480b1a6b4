"""Load the YAML config, merge an experiment file and ``key=value`` overrides, validate.

Order of precedence (later wins): schema defaults < configs/train.yaml (or ``-c FILE``)
< configs/experiment/<experiment>.yaml < command-line overrides.
"""

import argparse
import difflib
import re
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from ..utils.errors import ConfigError
from .schema import Config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "train.yaml"

# Closed sets of values, checked once here so a typo fails before any work starts.
CHOICES = {
    "loss": ("cross_entropy", "nll"),
    "optimizer.name": ("adam", "adamw", "sgd"),
    "lr_scheduler.name": (
        "none",
        "step",
        "multistep",
        "exponential",
        "cosine",
        "plateau",
        "onecycle",
    ),
    "lr_scheduler.interval": ("epoch", "step"),
    "lr_scheduler.mode": ("min", "max"),
    "trainer.precision": ("32", "bf16", "fp16"),
    "trainer.gradient_clip_algorithm": ("norm", "value"),
    "trainer.nonfinite_loss": ("raise", "skip"),
    "trainer.early_stopping.mode": ("min", "max"),
    "trainer.checkpoint.mode": ("min", "max"),
}
AT_LEAST_ONE = (
    "data.batch_size",
    "data.eval_batch_size",
    "trainer.epochs",
    "trainer.accumulate_grad_batches",
    "trainer.log_every_n_steps",
)
NOT_NEGATIVE = (
    "data.num_workers",
    "trainer.overfit_batches",
    "trainer.gradient_clip_val",
    "trainer.early_stopping.patience",
    "trainer.checkpoint.every_n_epochs",
    "trainer.checkpoint.every_n_steps",
    "lr_scheduler.warmup",
    "logger.histogram_every_n_epochs",
    "logger.images_every_n_epochs",
)
# The experiment tracker chosen when the project was generated: only its code and
# dependency are in the project.
TRACKER = "{{ cookiecutter.logger }}"


def parse_cli(argv: list[str] | None, script_keys: tuple[str, ...] = ()) -> tuple:
    """Split ``[-c FILE] [key=value ...]`` into (config file, overrides, script values).

    ``script_keys`` are keys a script reads itself (``checkpoint=`` for evaluate.py)
    rather than config keys; they are returned in a dict.
    """
    parser = argparse.ArgumentParser(
        description="Keys and defaults: configs/train.yaml; any key can be set as key=value.",
    )
    parser.add_argument("-c", "--config", type=Path, default=None, help="YAML config file")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. trainer.epochs=5")
    args = parser.parse_args(argv)
    overrides, script_values = [], {}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        if key in script_keys:
            script_values[key] = value
        else:
            overrides.append(item)
    return args.config, overrides, script_values


def load_config(
    path: Path | str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: dict[str, Any] | None = None,
) -> DictConfig:
    """Build the validated config. ``base`` (a checkpoint's config) replaces the YAML file."""
    config = OmegaConf.structured(Config)
    if base is not None:
        config = _merge(config, OmegaConf.create(base), "the checkpoint's config")
    else:
        path = Path(path) if path else DEFAULT_CONFIG
        config = _merge(config, _load_yaml(path), str(path))
    cli = _parse_overrides(overrides)
    experiment = cli.get("experiment", config.experiment)
    if experiment and base is None:
        exp_path = Path(path).parent / "experiment" / f"{experiment}.yaml"
        if not exp_path.is_file():
            available = sorted(p.stem for p in exp_path.parent.glob("*.yaml"))
            raise ConfigError(
                f"experiment={experiment!r}: no file {exp_path}; available: {available}"
            )
        config = _merge(config, _load_yaml(exp_path), str(exp_path))
    for item in overrides:
        config = _merge(config, OmegaConf.from_dotlist([item]), f"override {item!r}")
    _validate(config)
    return config


def to_plain_dict(config: DictConfig) -> dict[str, Any]:
    """The resolved config as plain dicts/lists/scalars (safe inside a checkpoint)."""
    return OmegaConf.to_container(config, resolve=True)


def save_config(config: DictConfig, path: Path) -> None:
    OmegaConf.save(config, path, resolve=True)


def all_keys(node: Any = None, prefix: str = "") -> list[str]:
    """Every dotted key of the schema, e.g. ``trainer.early_stopping.patience``."""
    node = OmegaConf.structured(Config) if node is None else node
    keys = []
    for key in node:
        full = f"{prefix}{key}"
        keys.append(full)
        if isinstance(node[key], DictConfig):
            keys.extend(all_keys(node[key], f"{full}."))
    return keys


def _load_yaml(path: Path) -> DictConfig:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        return OmegaConf.load(path)
    except Exception as error:  # yaml.YAMLError and friends
        raise ConfigError(f"cannot parse {path}: {error}") from None


def _parse_overrides(overrides) -> dict[str, Any]:
    try:
        return OmegaConf.to_container(OmegaConf.from_dotlist(list(overrides)))
    except OmegaConfBaseException as error:
        raise ConfigError(f"cannot parse overrides {list(overrides)}: {error}") from None


def _merge(config: DictConfig, other: DictConfig, source: str) -> DictConfig:
    try:
        return OmegaConf.merge(config, other)
    except ConfigKeyError as error:
        key = error.full_key or str(error.key)
        close = difflib.get_close_matches(key, all_keys(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see configs/train.yaml"
        raise ConfigError(f"unknown config key {key!r} in {source}{hint}") from None
    except OmegaConfBaseException as error:
        message = str(error).splitlines()[0]
        key = getattr(error, "full_key", None) or "?"
        raise ConfigError(f"invalid value for {key!r} in {source}: {message}") from None


def _validate(config: DictConfig) -> None:
    for key, allowed in CHOICES.items():
        value = OmegaConf.select(config, key)
        if value not in allowed:
            raise ConfigError(f"{key}={value!r} is not allowed; choose one of {list(allowed)}")
    for key in AT_LEAST_ONE:
        if OmegaConf.select(config, key) < 1:
            raise ConfigError(f"{key} must be at least 1, got {OmegaConf.select(config, key)}")
    for key in NOT_NEGATIVE:
        if OmegaConf.select(config, key) < 0:
            raise ConfigError(f"{key} must be 0 or more, got {OmegaConf.select(config, key)}")
    if not 0.0 < config.data.val_fraction < 1.0:
        raise ConfigError(f"data.val_fraction must be in (0, 1), got {config.data.val_fraction}")
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", config.trainer.device):
        raise ConfigError(
            f"trainer.device={config.trainer.device!r} is not allowed; "
            "use auto, cpu, mps, cuda or cuda:N"
        )
    _validate_training_controls(config)
    _validate_tracker(config)


def _validate_tracker(config: DictConfig) -> None:
    for tracker in ("tensorboard", "wandb"):
        if config.logger[tracker] and tracker != TRACKER:
            raise ConfigError(
                f"logger.{tracker}=true, but this project was generated with logger={TRACKER}, "
                f"so it has no {tracker} logger"
            )


def _validate_training_controls(config: DictConfig) -> None:
    """Combinations that would otherwise be silently ignored or misbehave."""
    for key in ("trainer.limit_train_batches", "trainer.limit_val_batches", "trainer.num_threads"):
        value = OmegaConf.select(config, key)
        if value is not None and value < 1:
            raise ConfigError(f"{key} must be at least 1 (or null), got {value}")
    scheduler = config.lr_scheduler
    if scheduler.name == "plateau" and scheduler.warmup:
        raise ConfigError("lr_scheduler.warmup is not supported with lr_scheduler.name=plateau")
    if scheduler.name == "plateau" and scheduler.interval == "step":
        raise ConfigError(
            "lr_scheduler.name=plateau steps on an epoch metric; use lr_scheduler.interval=epoch"
        )
    if scheduler.name == "onecycle" and scheduler.warmup:
        raise ConfigError(
            "lr_scheduler.name=onecycle has its own warm-up phase; set lr_scheduler.warmup=0"
        )
