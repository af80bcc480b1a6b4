"""Configuration: a typed schema, YAML loading, dotted overrides and validation."""

from ..utils.errors import ConfigError
from .cli import parse_cli
from .loader import flatten, load_config, save_config, to_plain_dict
from .registry import Registry
from .schema import Config

__all__ = [
    "Config",
    "ConfigError",
    "Registry",
    "flatten",
    "load_config",
    "parse_cli",
    "save_config",
    "to_plain_dict",
]
