"""Load the YAML config, merge an experiment file and ``key=value`` overrides, validate.

Order of precedence (later wins): schema defaults < configs/train.yaml (or ``-c FILE``)
< configs/experiment/<experiment>.yaml < command-line overrides.
"""

import argparse
import dataclasses
import difflib
import inspect
import math
import re
from dataclasses import MISSING
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from ..utils.errors import ConfigError, first_line
from .metric_spec import LABEL, metric_spec, monitor_names
from .registry import Registry, check_registered
from .schema import Config, ModelConfig
from .transforms import check_transform_lists

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "train.yaml"

# Closed sets of values, checked once here so a typo fails before any work starts (names
# of models, optimizers... are checked against their registries, see registry.py).
CHOICES = {
    "lr_scheduler.interval": ("epoch", "step"),
    "lr_scheduler.mode": ("min", "max"),
    "trainer.precision": ("32", "bf16", "fp16"),
    "trainer.gradient_clip_algorithm": ("norm", "value"),
    "trainer.nonfinite_loss": ("raise", "skip"),
    "trainer.early_stopping.mode": ("min", "max"),
    "trainer.checkpoint.mode": ("min", "max"),
    "data.sampler": ("random", "weighted"),
    "data.normalize": ("auto", "imagenet", "none"),
    "data.channels": (1, 3),
    "class_weights": ("none", "auto"),
}
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
        config = _merge_layer(config, OmegaConf.create(base), "the checkpoint's config")
    else:
        path = Path(path) if path else DEFAULT_CONFIG
        config = _merge_layer(config, _load_yaml(path), str(path))
    cli = _parse_overrides(overrides)
    experiment = cli.get("experiment", config.experiment)
    if experiment and base is None:
        exp_path = Path(path).parent / "experiment" / f"{experiment}.yaml"
        if not exp_path.is_file():
            available = sorted(p.stem for p in exp_path.parent.glob("*.yaml"))
            raise ConfigError(
                f"experiment={experiment!r}: no file {exp_path}; available: {available}"
            )
        config = _merge_layer(config, _load_yaml(exp_path), str(exp_path))
    # The overrides are one layer: model.name=cnn among them keeps the other model.*
    # overrides, whatever their order.
    _switch_model(config, cli.get("model", {}).get("name"))
    for item in overrides:
        config = _merge(config, _parse_override(item), f"override {item!r}")
    _resolve(config)
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
    if path.is_dir():
        raise ConfigError(
            f"config file {path} is a folder; give a YAML file, e.g. -c {path}/x.yaml"
        )
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        loaded = OmegaConf.load(path)
    except (yaml.YAMLError, OmegaConfBaseException, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot parse {path}: {_one_line(error)}") from None
    if not isinstance(loaded, DictConfig):
        raise ConfigError(
            f"config file {path} holds a list at its top level; it must be "
            "a mapping of keys such as 'trainer: {epochs: 5}' (see configs/train.yaml)"
        )
    return loaded


YAML_SOURCE = ' in "<unicode string>",'  # where PyYAML says a command-line value came from


def _parse_override(item: str) -> DictConfig:
    try:
        return OmegaConf.from_dotlist([item])
    except (yaml.YAMLError, OmegaConfBaseException) as error:
        raise ConfigError(
            f"cannot parse override {item!r}: {_one_line(error).replace(YAML_SOURCE, ' at')}; "
            "check its quotes and brackets, e.g. key='a b' or key=[1,2]"
        ) from None


def _parse_overrides(overrides) -> dict[str, Any]:
    merged = OmegaConf.merge(*[_parse_override(item) for item in overrides]) if overrides else {}
    return OmegaConf.to_container(OmegaConf.create(merged))


def _resolve(config: DictConfig) -> None:
    """Resolve every ``${...}`` now, so a bad interpolation fails before any work starts."""
    try:
        OmegaConf.resolve(config)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "?"
        raise ConfigError(
            f"cannot resolve the interpolation in {key!r}: {_one_line(error)}; "
            "set the variable or write the value itself"
        ) from None


def _one_line(error: Exception) -> str:
    """A (often multi-line) parser message folded into one line."""
    text = " ".join(str(error).split()).split(" full_key:")[0]  # OmegaConf appends its context
    return text or type(error).__name__


def _merge_layer(config: DictConfig, layer: DictConfig, source: str) -> DictConfig:
    _switch_model(config, OmegaConf.select(layer, "model.name"))
    return _merge(config, layer, source)


def _switch_model(config: DictConfig, name: str | None) -> None:
    """A layer that names another model starts the ``model`` section again from that
    model's defaults (the options of the model it replaces would be unknown to it).
    The section stays open until ``_type_model`` checks it against the model's schema."""
    if name is not None and name != config.model.get("name"):
        config.model = {"name": name}
    OmegaConf.set_struct(config.model, False)


def _merge(config: DictConfig, other: DictConfig, source: str) -> DictConfig:
    try:
        return OmegaConf.merge(config, other)
    except ConfigKeyError as error:
        key = error.full_key or str(error.key)
        close = difflib.get_close_matches(key, all_keys(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see configs/train.yaml"
        raise ConfigError(f"unknown config key {key!r} in {source}{hint}") from None
    except OmegaConfBaseException as error:
        message = _one_line(error)
        key = getattr(error, "full_key", None) or "?"
        raise ConfigError(f"invalid value for {key!r} in {source}: {message}") from None


def _validate(config: DictConfig) -> None:
    for key, allowed in CHOICES.items():
        value = OmegaConf.select(config, key)
        if value not in allowed:
            raise ConfigError(f"{key}={value!r} is not allowed; choose one of {list(allowed)}")
    _validate_metrics(config)
    check_registered(config)
    _type_model(config)
    _validate_ranges(config, Config)
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", config.trainer.device):
        raise ConfigError(
            f"trainer.device={config.trainer.device!r} is not allowed; "
            "use auto, cpu, mps, cuda or cuda:N"
        )
    _validate_training_controls(config)
    _validate_folds(config)
    check_transform_lists(config.data)
    _validate_monitors(config)
    _validate_tracker(config)


def _type_model(config: DictConfig) -> None:
    """The ``model`` section checked against the chosen model's own schema (its
    registered ``ModelConfig`` subclass): unknown keys and wrong types fail here."""
    name = config.model.name
    schema = Registry.find("model.name").options[name] or ModelConfig
    try:
        typed = OmegaConf.merge(OmegaConf.structured(schema), config.model)
    except ConfigKeyError as error:
        key = f"model.{error.key}"
        keys = [f"model.{spec.name}" for spec in dataclasses.fields(schema)]
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ConfigError(
            f"unknown config key {key!r} for model.name={name!r}; {hint}its keys: {keys}"
        ) from None
    except OmegaConfBaseException as error:
        key = f"model.{getattr(error, 'key', None) or '?'}"
        raise ConfigError(f"invalid value for {key!r}: {_one_line(error)}") from None
    config.model = typed
    _validate_ranges(config.model, schema, "model.")


def _validate_ranges(node: DictConfig, schema: type, prefix: str = "") -> None:
    """Every value against the range its schema field declares (``schema.ranged``)."""
    for spec in dataclasses.fields(schema):
        key, value = f"{prefix}{spec.name}", node[spec.name]
        if dataclasses.is_dataclass(spec.type):
            _validate_ranges(value, spec.type, f"{key}.")
        elif "range" in spec.metadata and value is not None:
            is_list = isinstance(value, ListConfig)
            for item in value if is_list else [value]:
                if not _in_range(item, **spec.metadata["range"]):
                    default = spec.default_factory() if spec.default is MISSING else spec.default
                    rule = _describe_range(type(item), **spec.metadata["range"])
                    raise ConfigError(
                        f"{key}={_show(value)} is not allowed: "
                        f"{'each item' if is_list else 'it'} must be {rule}; "
                        f"fix the config file or override it, e.g. {key}={_show(default)}"
                    )


def _in_range(value, low, high, low_open, high_open) -> bool:
    if isinstance(value, float) and not math.isfinite(value):
        return False
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    return above and below


def _describe_range(kind: type, low, high, low_open, high_open) -> str:
    parts = []
    if low != -math.inf:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high != math.inf:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    noun = "a whole number" if kind is int else "a finite number"
    return f"{noun} {' and '.join(parts)}"


def _show(value) -> str:
    """A value as it is written in a YAML file or an override (null, [1, 2], 0.001)."""
    if isinstance(value, ListConfig | DictConfig):
        value = OmegaConf.to_container(value)
    return "null" if value is None else str(value)


def _validate_metrics(config: DictConfig) -> None:
    """Each ``metrics`` entry names a registered metric, with options it accepts (the
    metric is built once here, so a bad value fails now), under a unique label."""
    registry, labels = Registry.find("metrics"), []
    for entry in config.metrics:
        if not (isinstance(entry, str) or (OmegaConf.is_dict(entry) and "name" in entry)):
            raise ConfigError(
                f"metrics: {_show(entry)} is not a metric; write a name (accuracy) or a "
                "name with options ({name: f1, average: micro})"
            )
        label, name, options = metric_spec(entry)
        factory = registry.get(name)
        try:
            if options:  # a bare name has nothing more to check: building imports torchmetrics
                factory(num_classes=3, **options)
        except (TypeError, ValueError) as error:
            accepted = list(inspect.signature(factory).parameters)[1:]
            raise ConfigError(
                f"metrics: {_show(entry)}: {first_line(error)}; options of {name}: {accepted}"
            ) from None
        if not LABEL.fullmatch(label) or label in labels:
            problem = "taken" if label in labels else "not a name"
            example = "{name: %s, ..., label: my_%s}" % (name, name)  # noqa: UP031 - no braces
            raise ConfigError(
                f"metrics: {_show(entry)} is reported as {label!r}, which is {problem}; "
                f"give it a label of letters, digits and _: {example}"
            )
        labels.append(label)


def _validate_monitors(config: DictConfig) -> None:
    """Every monitored name is a metric the run logs."""
    train_metrics = config.trainer.train_metrics
    allowed = monitor_names(config.metrics, train_metrics)
    monitors = {
        "trainer.early_stopping.monitor": config.trainer.early_stopping.monitor,
        "trainer.checkpoint.monitor": config.trainer.checkpoint.monitor,
    }
    if config.lr_scheduler.name == "plateau":
        monitors["lr_scheduler.monitor"] = config.lr_scheduler.monitor
    for key, value in monitors.items():
        if value not in allowed:
            hint = ""
            if value.startswith("train_") and not train_metrics:
                hint = " (train_<metric> needs trainer.train_metrics=true)"
            raise ConfigError(
                f"{key}={value!r} is not a logged metric; choose one of {allowed}{hint}"
            )


def _validate_folds(config: DictConfig) -> None:
    folds, fold = config.data.folds, config.data.fold
    if folds == 1:
        raise ConfigError("data.folds=1 leaves nothing to validate on; use 0 (off) or 2 and more")
    if folds and fold >= folds:
        raise ConfigError(
            f"data.fold={fold} is not a fold of data.folds={folds}; use 0..{folds - 1}"
        )
    if not folds and fold:
        raise ConfigError(f"data.fold={fold} needs data.folds (the number of folds), e.g. 5")


def _validate_tracker(config: DictConfig) -> None:
    for tracker in ("tensorboard", "wandb", "mlflow"):
        if config.logger[tracker] and tracker != TRACKER:
            raise ConfigError(
                f"logger.{tracker}=true, but this project was generated with logger={TRACKER}, "
                f"so it has no {tracker} logger"
            )


def _validate_training_controls(config: DictConfig) -> None:
    """Combinations that would otherwise be silently ignored or misbehave."""
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
