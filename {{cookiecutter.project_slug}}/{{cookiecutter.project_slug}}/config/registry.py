"""One registry per kind of component (models, data modules, losses, metrics,
optimizers, schedulers, loggers), filled where the components are written:

    @OPTIMIZERS.register("adamw")
    def adamw(params, config): ...

The loader checks every config key that names a component against its registry, so
adding one is one edit in one file. A component with options of its own registers
their typed schema with it (``@MODELS.register("cnn", options=CNNConfig)``), and the
loader checks that config section against the chosen component's schema. The
package's ``__init__`` imports every component module, so the registries are full
before any config is loaded.
"""

import difflib
from collections.abc import Callable
from typing import Any

from omegaconf import OmegaConf

from ..utils.errors import ConfigError


class Registry:
    """Components of one kind by name, for the config key that chooses them."""

    all: list["Registry"] = []

    def __init__(self, key: str | None) -> None:
        """``key``: the config key that names the chosen component, checked at load time
        (None when components are switched on by keys of their own, as loggers are)."""
        self.key, self.entries, self.options = key, {}, {}
        Registry.all.append(self)

    @classmethod
    def find(cls, key: str) -> "Registry":
        return next(registry for registry in cls.all if registry.key == key)

    def register(self, name: str, options: type | None = None) -> Callable[[Any], Any]:
        """``options``: the dataclass of this component's own config keys, if any."""

        def add(component):
            self.entries[name] = component
            self.options[name] = options
            return component

        return add

    def get(self, name: str) -> Any:
        self.check(name)
        return self.entries[name]

    def check(self, name: str) -> None:
        if name not in self.entries:
            close = difflib.get_close_matches(str(name), list(self.entries), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(
                f"{self.key}={name!r} is not one of {sorted(self.entries)}{hint} "
                f"(registered in the package; see the README to add one)"
            )


def check_registered(config) -> None:
    """Every config key that names a component names a registered one."""
    for registry in Registry.all:
        if registry.key is None:
            continue
        value = OmegaConf.select(config, registry.key)
        for name in value if OmegaConf.is_list(value) else [value]:
            registry.check(name.get("name") if OmegaConf.is_dict(name) else name)
