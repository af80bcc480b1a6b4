"""The command line every script shares: ``[-c FILE] [key=value ...]``."""

import argparse
from pathlib import Path

from ..utils.errors import ConfigError


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
