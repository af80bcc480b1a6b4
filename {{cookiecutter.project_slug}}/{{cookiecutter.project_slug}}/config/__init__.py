"""Configuration: a typed schema, YAML loading, dotted overrides and validation."""

from .loader import ConfigError, load_config, parse_cli, save_config, to_plain_dict
from .registry import Registry
from .schema import Config

__all__ = [
    "Config",
    "ConfigError",
    "Registry",
    "load_config",
    "parse_cli",
    "save_config",
    "to_plain_dict",
]
