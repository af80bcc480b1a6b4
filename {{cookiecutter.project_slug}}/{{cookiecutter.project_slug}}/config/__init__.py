"""Configuration: a typed schema, YAML loading, dotted overrides and validation."""

from ..utils.errors import ConfigError
{%- if cookiecutter.profile == "full" %}
from . import added_keys  # noqa: F401  full's extra keys and their checks register themselves
{%- endif %}
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
