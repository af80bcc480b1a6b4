"""Data: datasets and the DataLoaders built from ``data.*`` config keys.

To add a dataset: subclass ``BaseDataModule`` (see {{ "digits.py" if cookiecutter.dataset == "digits" else "mnist.py" }}), decorate it with
``@DATAMODULES.register("name")`` (the name you will use as ``data.name``), and import
its module here.
"""

from collections.abc import Callable

from ..config.schema import DataConfig
from .base import DATAMODULES, BaseDataModule
from .datasets import BaseDataset, InMemoryDataset
{%- if cookiecutter.dataset == "digits" %}
from .digits import DigitsDataModule
{%- endif %}
{%- if cookiecutter.profile == "full" %}
from .folds import folds_of  # noqa: F401  data.folds (k-fold) registers with every module
{%- endif %}
from .image_folder import ImageFolderDataModule
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
from .mnist import FashionMNISTDataModule, MNISTDataModule  # noqa: F401  registered by name
{%- endif %}
from .table import CSVDataModule


def build_datamodule(
    config: DataConfig, seed: int = 0, sampler: Callable | None = None
) -> BaseDataModule:
    """The data module named by ``data.name``; ``sampler`` makes its loaders' samplers
    (see ``BaseDataModule``; None: one process reads all the data)."""
    return DATAMODULES.get(config.name)(config, seed=seed, sampler=sampler)


__all__ = [
    "DATAMODULES",
    "BaseDataModule",
    "BaseDataset",
    "CSVDataModule",
{%- if cookiecutter.dataset == "digits" %}
    "DigitsDataModule",
{%- endif %}
    "ImageFolderDataModule",
    "InMemoryDataset",
    "build_datamodule",
]
