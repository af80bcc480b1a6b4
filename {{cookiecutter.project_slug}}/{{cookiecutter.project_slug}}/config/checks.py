"""The checks a loaded config must pass before any work starts: each value's range
and choices (declared beside its field in schema.py), the registries' names, the
chosen model's own options, and the rules that span several keys.

A part of the project that adds keys (``schema.extends``) adds the rules that span
them with ``@extra_check``, and the metric names they monitor with ``@extra_monitors``."""

import dataclasses
import difflib
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import MISSING

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from ..utils.errors import ConfigError, first_line, fold_message
from .metric_spec import label_problem, metric_spec, monitor_names
from .registry import Registry, check_registered
from .schema import Config, ModelConfig
from .transforms import check_transform_lists

# The experiment tracker chosen when the project was generated: only its code and
# dependency are in the project.
TRACKER = "{{ cookiecutter.logger }}"

# Rules registered by added parts, run after the core's own value checks.
EXTRA_CHECKS: list[Callable[[DictConfig], None]] = []
# Functions giving further {key: monitored name} pairs, each checked like
# trainer.early_stopping.monitor.
EXTRA_MONITORS: list[Callable[[DictConfig], dict[str, str]]] = []


def extra_check(check: Callable[[DictConfig], None]) -> Callable[[DictConfig], None]:
    """Decorator: ``check(config)`` raises ConfigError for a config it refuses."""
    EXTRA_CHECKS.append(check)
    return check


def extra_monitors(monitors: Callable[[DictConfig], dict[str, str]]):
    """Decorator: ``monitors(config)`` returns the {key: metric name} pairs it monitors."""
    EXTRA_MONITORS.append(monitors)
    return monitors


def tracker_choices() -> str:
    """The trackers this project can log to, for a user who wrote ``logger=<name>``
    (the ``logger`` section takes one switch per tracker, not a name)."""
    if TRACKER == "none":
        return (
            "this project has trackers none (it was generated with logger=none; "
            "train.log and metrics.csv are always written)"
        )
    return (
        f"this project has trackers {TRACKER}, none (generated with logger={TRACKER}; "
        f"choose with logger.{TRACKER}=true or logger.{TRACKER}=false)"
    )


def validate(config: DictConfig) -> None:
    """Every rule a config must meet, in the order a user would fix them."""
    _validate_choices(config, Config)
    _validate_metrics(config)
    check_registered(config)
    _type_model(config)
    _validate_ranges(config, Config)
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", config.trainer.device):
        raise ConfigError(
            f"trainer.device={config.trainer.device!r} is not allowed; "
            "use auto, cpu, mps, cuda or cuda:N"
        )
    for check in EXTRA_CHECKS:
        check(config)
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
        raise ConfigError(f"invalid value for {key!r}: {fold_message(error)}") from None
    config.model = typed
    _validate_ranges(config.model, schema, "model.")


def _validate_choices(node: DictConfig, schema: type, prefix: str = "") -> None:
    """Every value against the choices its schema field declares (``schema.one_of``)."""
    for spec in dataclasses.fields(schema):
        key, value = f"{prefix}{spec.name}", node[spec.name]
        if dataclasses.is_dataclass(spec.type):  # a section: checked by its own (extended) class
            _validate_choices(value, OmegaConf.get_type(value), f"{key}.")
        elif "choices" in spec.metadata and value not in spec.metadata["choices"]:
            allowed = list(spec.metadata["choices"])
            raise ConfigError(f"{key}={value!r} is not allowed; choose one of {allowed}")


def _validate_ranges(node: DictConfig, schema: type, prefix: str = "") -> None:
    """Every value against the range its schema field declares (``schema.ranged``)."""
    for spec in dataclasses.fields(schema):
        key, value = f"{prefix}{spec.name}", node[spec.name]
        if dataclasses.is_dataclass(spec.type):
            _validate_ranges(value, OmegaConf.get_type(value), f"{key}.")
        elif "range" in spec.metadata and value is not None:
            is_list = isinstance(value, ListConfig)
            for item in value if is_list else [value]:
                if item != "auto" and not _in_range(item, **spec.metadata["range"]):
                    default = spec.default_factory() if spec.default is MISSING else spec.default
                    rule = _describe_range(type(item), **spec.metadata["range"])
                    raise ConfigError(
                        f"{key}={_show(value)} is not allowed: "
                        f"{'each item' if is_list else 'it'} must be {rule}; "
                        f"fix the config file or override it, e.g. {key}={_show(default)}"
                    )


def _in_range(value, low, high, low_open, high_open) -> bool:
    if isinstance(value, str):  # a number-or-word field (Union[int, str]): auto is its word
        return False
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
    noun = "a whole number" if kind in (int, str) else "a finite number"
    return f"{noun} {' and '.join(parts)}" + (" or auto" if kind is str else "")


def _show(value) -> str:
    """A value as it is written in a YAML file or an override (null, [1, 2], 0.001)."""
    if isinstance(value, ListConfig | DictConfig):
        value = OmegaConf.to_container(value)
    return "null" if value is None else str(value)


ANY_CLASSES = 10_000


def _validate_metrics(config: DictConfig) -> None:
    """Each ``metrics`` entry names a registered metric, with options it accepts (its
    factory checks them here, so a bad value fails now), under a unique label."""
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
            # Any number of classes: top_k is checked against the data's in train.py.
            factory(ANY_CLASSES, **options)  # checks the options; builds nothing
        except (TypeError, ValueError) as error:
            accepted = list(inspect.signature(factory).parameters)[1:]
            raise ConfigError(
                f"metrics: {_show(entry)}: {first_line(error)}; options of {name}: {accepted}"
            ) from None
        if problem := label_problem(label, labels):
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
    for extra in EXTRA_MONITORS:
        monitors.update(extra(config))
    for key, value in monitors.items():
        if value not in allowed:
            hint = ""
            if value.startswith("train_") and not train_metrics:
                hint = " (train_<metric> needs trainer.train_metrics=true)"
            raise ConfigError(
                f"{key}={value!r} is not a logged metric; choose one of {allowed}{hint}"
            )


def _validate_tracker(config: DictConfig) -> None:
    """A tracker switch (``schema.tracker_switch``) turned on names this project's tracker."""
    for spec in dataclasses.fields(OmegaConf.get_type(config.logger)):
        tracker = spec.name
        if spec.metadata.get("tracker") and config.logger[tracker] and tracker != TRACKER:
            raise ConfigError(
                f"logger.{tracker}=true, but this project was generated with logger={TRACKER}, "
                f"so it has no {tracker} logger"
            )
