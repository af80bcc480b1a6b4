"""Data: datasets and the DataLoaders built from ``data.*`` config keys.

To add a dataset: subclass ``BaseDataModule`` (see {{ "digits.py" if cookiecutter.dataset == "digits" else "mnist.py" }}), decorate it with
``@DATAMODULES.register("name")`` (the name you will use as ``data.name``), and import
its module here.
"""

from ..config.schema import DataConfig
from .base import DATAMODULES, BaseDataModule
from .datasets import BaseDataset, InMemoryDataset
{%- if cookiecutter.dataset == "digits" %}
from .digits import DigitsDataModule
{%- endif %}
from .image_folder import ImageFolderDataModule
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
from .mnist import DatasetNotFoundError, FashionMNISTDataModule, MNISTDataModule
{%- endif %}
from .table import CSVDataModule
{%- if cookiecutter.profile == "full" %}


def build_datamodule(config: DataConfig, seed: int = 0, sampler=None) -> BaseDataModule:
    """The data module named by ``data.name``. ``sampler``: interim, the strategy's
    process group (its data shards), until the sampler seam replaces it."""
    return DATAMODULES.get(config.name)(config, seed=seed, dist_info=sampler)
{%- else %}


def build_datamodule(config: DataConfig, seed: int = 0, sampler=None) -> BaseDataModule:
    """The data module named by ``data.name``."""
    return DATAMODULES.get(config.name)(config, seed=seed)
{%- endif %}


__all__ = [
    "DATAMODULES",
    "BaseDataModule",
    "BaseDataset",
    "CSVDataModule",
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
    "DatasetNotFoundError",
{%- endif %}
{%- if cookiecutter.dataset == "digits" %}
    "DigitsDataModule",
{%- endif %}
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
    "FashionMNISTDataModule",
{%- endif %}
    "ImageFolderDataModule",
    "InMemoryDataset",
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
    "MNISTDataModule",
{%- endif %}
    "build_datamodule",
]
