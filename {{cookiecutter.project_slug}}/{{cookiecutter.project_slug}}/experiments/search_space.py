"""The sweep file (``configs/sweep/*.yaml``): a search space over dotted config keys,
read and checked completely before any trial starts.

    study: lr_width              # runs/sweeps/<study>/ (default: the file's name)
    config: configs/train.yaml   # the training config every trial starts from
    n_trials: 20                 # finished trials the study should reach
    overrides: [trainer.epochs=10]
    sampler: {name: tpe, seed: null}
    pruner: {name: median, n_startup_trials: 5, n_warmup_steps: 1}
    params:
      optimizer.lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
      model.hidden_sizes: {type: categorical, choices: [[64], [128, 64]]}
"""

import difflib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf

from ..config.loader import DEFAULT_CONFIG, all_keys, load_config
from ..config.metric_spec import monitor_names
from ..utils.errors import ConfigError, fold_message

TOP_KEYS = {"study", "config", "n_trials", "overrides", "monitor", "sampler", "pruner", "params"}
PARAM_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}
SAMPLERS = {"tpe": {"name", "seed", "n_startup_trials"}, "random": {"name", "seed"}}
PRUNERS = {
    "median": {"name", "n_startup_trials", "n_warmup_steps"},
    "halving": {"name", "min_resource", "reduction_factor"},
    "none": {"name"},
}
# Keys a trial sets itself, or that would make trials collide.
RESERVED = {"output_dir", "resume", "overwrite"}


@dataclass
class Param:
    key: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Any] = field(default_factory=list)

    def encoded_choices(self) -> list:
        """Optuna stores scalar choices only: a list choice is kept as its JSON text."""
        return [c if _is_scalar(c) else json.dumps(c) for c in self.choices]

    def decode(self, value: Any) -> Any:
        if self.type == "categorical" and value not in self.choices:
            return json.loads(value)
        return value


@dataclass
class SweepSpec:
    path: Path
    study: str
    config_path: Path
    n_trials: int
    overrides: list[str]
    monitor: str
    mode: str
    sampler: dict
    pruner: dict
    params: list[Param]

    def trial_overrides(self, values: dict[str, Any]) -> list[str]:
        return [f"{p.key}={override_text(p.decode(values[p.key]))}" for p in self.params]

    def fingerprint(self) -> str:
        """What makes two runs of sweep.py the same study."""
        space = {p.key: [p.type, p.low, p.high, p.log, p.step, p.choices] for p in self.params}
        return json.dumps({"params": space, "monitor": self.monitor, "mode": self.mode})


def override_text(value: Any) -> str:
    """A value as ``key=value`` text that parses back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "[" + ",".join(override_text(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def _monitor(monitor: str | None, base, where: str) -> tuple[str, str]:
    """(monitor, mode): a validation metric the trials log, the checkpoint's by default."""
    monitor = monitor or base.trainer.checkpoint.monitor
    # What a trial's validation logs: the sweep reports on the validation split only.
    allowed = [n for n in monitor_names(base.metrics, train_metrics=False) if n.startswith("val_")]
    if monitor not in allowed:
        raise ConfigError(
            f"monitor={monitor!r} {where} is not a validation metric; use one of {allowed}"
        )
    mode = base.trainer.checkpoint.mode if monitor == base.trainer.checkpoint.monitor else None
    return monitor, mode or ("min" if monitor == "val_loss" else "max")


def _n_trials(value) -> int:
    try:
        n_trials = int(value)
        if n_trials < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"n_trials={value!r} must be a whole number >= 0") from None
    return n_trials


def load_sweep(path: Path, cli_overrides: list[str], script_values: dict[str, str]) -> SweepSpec:
    """Read and check the sweep file, its base config, the overrides and every
    parameter's range against the config schema. Writes nothing."""
    raw = _read(path)
    where = f"in {path}"
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ConfigError(
            f"unknown key {sorted(unknown)[0]!r} {where}; allowed: {sorted(TOP_KEYS)}"
        )
    config_path = Path(raw.get("config") or DEFAULT_CONFIG)
    fixed = raw.get("overrides") or []
    if not isinstance(fixed, list) or not all(isinstance(o, str) for o in fixed):
        raise ConfigError(f"overrides {where} must be a list of 'key=value' strings")
    overrides = [*fixed, *cli_overrides]
    for item in overrides:
        if item.partition("=")[0] in RESERVED:
            raise ConfigError(
                f"{item!r}: every trial has its own run directory under the sweep's; "
                "set sweep_dir=... instead"
            )
    base = load_config(config_path, overrides)
    params = _params(raw.get("params"), where, config_path, overrides, base)
    monitor, mode = _monitor(raw.get("monitor"), base, where)
    n_trials = _n_trials(script_values.get("n_trials", raw.get("n_trials", 20)))
    study = str(script_values.get("study") or raw.get("study") or path.stem)
    if not study or "/" in study or study.startswith("."):
        raise ConfigError(f"study={study!r} must be a plain folder name, e.g. lr_width")
    return SweepSpec(
        path=path,
        study=study,
        config_path=config_path,
        n_trials=n_trials,
        overrides=overrides,
        monitor=monitor,
        mode=mode,
        sampler=_choice(raw.get("sampler") or {"name": "tpe"}, SAMPLERS, "sampler", where),
        pruner=_choice(raw.get("pruner") or {"name": "median"}, PRUNERS, "pruner", where),
        params=params,
    )


def _read(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"sweep file {path} does not exist; see configs/sweep/")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot parse {path}: {fold_message(error)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"sweep file {path} must be a mapping with a 'params' section")
    return raw


def _choice(raw, options: dict[str, set[str]], what: str, where: str) -> dict:
    if not isinstance(raw, dict) or raw.get("name") not in options:
        raise ConfigError(f"{what} {where} needs name: one of {sorted(options)}")
    unknown = set(raw) - options[raw["name"]]
    if unknown:
        raise ConfigError(
            f"{what} {raw['name']} {where}: unknown setting {sorted(unknown)[0]!r}; "
            f"allowed: {sorted(options[raw['name']] - {'name'})}"
        )
    for key, value in raw.items():
        if (
            key != "name"
            and value is not None
            and (not isinstance(value, int) or isinstance(value, bool) or value < 0)
        ):
            raise ConfigError(f"{what}.{key}={value!r} {where} must be a whole number >= 0")
    return dict(raw)


def _params(raw, where: str, config_path: Path, overrides: list[str], base: DictConfig):
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"params {where} must map config keys to ranges, e.g. optimizer.lr")
    keys = all_keys(base)  # of this config: the model's own keys included
    params = []
    for key, spec in raw.items():
        if key not in keys or isinstance(OmegaConf.select(base, key), DictConfig):
            close = difflib.get_close_matches(str(key), keys, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else "see configs/train.yaml"
            raise ConfigError(f"params.{key} {where}: not a config key; {hint}")
        if key in RESERVED or key in ("experiment", "seed"):
            raise ConfigError(f"params.{key} {where}: this key cannot be searched")
        param = _param(key, spec, f"params.{key} {where}", base)
        for value in _extremes(param):
            try:
                load_config(config_path, [*overrides, f"{key}={override_text(value)}"])
            except ConfigError as error:
                raise ConfigError(
                    f"params.{key} {where}: value {value!r} is refused: {error}"
                ) from None
        params.append(param)
    _check_together(params, where, config_path, overrides)
    return params


# Combinations of the parameters' extremes tried at load (each alone is tried above);
# beyond this many, the first ones.
MAX_COMBINATIONS = 64


def _check_together(params: list[Param], where: str, config_path: Path, overrides: list[str]):
    """Values valid alone can be invalid together (lr_scheduler.name=plateau with
    lr_scheduler.interval=step): refused now, not when a trial draws them."""
    if len(params) < 2:
        return
    combinations = itertools.product(*(_extremes(p) for p in params))
    for values in itertools.islice(combinations, MAX_COMBINATIONS):
        trial = [f"{p.key}={override_text(v)}" for p, v in zip(params, values, strict=True)]
        try:
            load_config(config_path, [*overrides, *trial])
        except ConfigError as error:
            raise ConfigError(
                f"params {where}: {' '.join(trial)} is refused together ({error}); "
                "narrow the ranges, or search the keys in separate sweeps"
            ) from None


def _param(key: str, spec, where: str, base: DictConfig) -> Param:
    if not isinstance(spec, dict) or spec.get("type") not in PARAM_KEYS:
        raise ConfigError(f"{where} needs type: one of {sorted(PARAM_KEYS)}")
    kind = spec["type"]
    unknown = set(spec) - PARAM_KEYS[kind]
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {sorted(unknown)[0]!r} for type {kind}; "
            f"allowed: {sorted(PARAM_KEYS[kind] - {'type'})}"
        )
    current = OmegaConf.select(base, key)
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: choices must be a non-empty list")
        return Param(key, kind, choices=choices)
    number = int if kind == "int" else float
    if isinstance(current, ListConfig | bool | str):
        shown = OmegaConf.to_object(current) if isinstance(current, ListConfig) else current
        raise ConfigError(
            f"{where}: type {kind} does not fit the key's value {override_text(shown)}; "
            "use type: categorical with choices"
        )
    if kind == "float" and isinstance(current, int):
        raise ConfigError(f"{where}: the key takes whole numbers; use type: int")
    low, high, step = spec.get("low"), spec.get("high"), spec.get("step")
    for name, value in (("low", low), ("high", high), ("step", step)):
        valid = isinstance(value, int | float) and not isinstance(value, bool)
        if (value is not None or name != "step") and not (
            valid and math.isfinite(value) and (number is float or float(value).is_integer())
        ):
            noun = "a whole number" if number is int else "a number"
            raise ConfigError(f"{where}: {name}={value!r} must be {noun}")
    if low >= high:
        raise ConfigError(f"{where}: the range is empty (low={low} must be < high={high})")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log={log!r} must be true or false")
    if log and low <= 0:
        raise ConfigError(f"{where}: log=true needs low > 0 (got low={low})")
    if step is not None and (step <= 0 or log):
        raise ConfigError(f"{where}: step must be > 0 and cannot be combined with log=true")
    return Param(key, kind, number(low), number(high), log, None if step is None else number(step))


def _extremes(param: Param) -> list:
    if param.type == "categorical":
        return list(param.choices)
    return [param.low, param.high]


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, bool | int | float | str)
