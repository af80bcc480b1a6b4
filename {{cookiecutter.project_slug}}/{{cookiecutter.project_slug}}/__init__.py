"""The {{ cookiecutter.project_slug }} package: config, data, model, trainer, logger."""

__version__ = "0.1.0"
