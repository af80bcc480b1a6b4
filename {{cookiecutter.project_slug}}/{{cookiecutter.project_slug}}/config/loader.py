"""Load the config in layers: the YAML file, an experiment file and ``key=value``
overrides merged onto the schema; then ``checks.validate``.

Order of precedence (later wins): schema defaults < configs/train.yaml (or ``-c FILE``)
< configs/experiment/<experiment>.yaml < command-line overrides.
"""

import difflib
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from ..utils.errors import ConfigError, fold_message
from .checks import tracker_choices, validate
from .schema import Config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "train.yaml"


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
    model = cli.get("model")  # model=cnn (not a section) is refused by _merge below
    _switch_model(config, model.get("name") if isinstance(model, dict) else None)
    for item in overrides:
        config = _merge(config, _parse_override(item), f"override {item!r}")
    _resolve(config)
    validate(config)
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


def flatten(tree: dict, prefix: str = "", leaf=None) -> dict[str, Any]:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``, each value through
    ``leaf`` if given (the trackers want their own value types)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}.", leaf))
        else:
            flat[f"{prefix}{key}"] = value if leaf is None else leaf(value)
    return flat


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
        raise ConfigError(f"cannot parse {path}: {fold_message(error)}") from None
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
            f"cannot parse override {item!r}: {fold_message(error).replace(YAML_SOURCE, ' at')}; "
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
            f"cannot resolve the interpolation in {key!r}: {fold_message(error)}; "
            "set the variable or write the value itself"
        ) from None


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
    _check_sections(config, OmegaConf.to_container(other, resolve=False), source)
    try:
        return OmegaConf.merge(config, other)
    except ConfigKeyError as error:
        key = error.full_key or str(error.key)
        close = difflib.get_close_matches(key, all_keys(), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see configs/train.yaml"
        raise ConfigError(f"unknown config key {key!r} in {source}{hint}") from None
    except OmegaConfBaseException as error:
        message = fold_message(error)
        key = getattr(error, "full_key", None) or "?"
        raise ConfigError(f"invalid value for {key!r} in {source}: {message}") from None


def _check_sections(config: DictConfig, layer: dict, source: str, prefix: str = "") -> None:
    """A value where the schema has a section (``logger=mlflow``, ``trainer=5``) fails
    here with the keys it takes: OmegaConf's own merge error names neither."""
    for key, value in layer.items():
        if key not in config or not isinstance(config[key], DictConfig):
            continue
        if isinstance(value, dict):
            _check_sections(config[key], value, source, f"{prefix}{key}.")
            continue
        where = "" if source.startswith("override") else f" in {source}"
        value = "null" if value is None else value
        if f"{prefix}{key}" == "logger":
            raise ConfigError(f"logger={value}{where}: {tracker_choices()}")
        example = next(iter(config[key]), "<key>")
        raise ConfigError(
            f"{prefix}{key}={value}{where}: {prefix}{key} is a section, not a value; "
            f"set its keys, e.g. {prefix}{key}.{example}=..."
        )
