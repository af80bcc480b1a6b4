"""The {{ cookiecutter.project_slug }} package: config, data, model, trainer, logger, saver, utils."""

__version__ = "0.1.0"
