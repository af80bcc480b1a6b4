"""The {{ cookiecutter.project_slug }} package: config, data, model, trainer, logger."""

__version__ = "0.1.0"

# Every component module registers its models, data modules, losses, metrics, optimizers
# and schedulers on import: import them all, so any config can be checked (registry.py).
from . import data, model, trainer  # noqa: E402, F401
