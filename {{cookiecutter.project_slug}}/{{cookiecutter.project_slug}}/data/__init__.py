"""Data: datasets and the DataLoaders built from ``data.*`` config keys.

To add a dataset: subclass ``BaseDataModule`` (see digits.py), then register it in
``DATAMODULES`` under the name you will use as ``data.name``.
"""

from ..config import ConfigError
from ..config.schema import DataConfig
from ..utils import DistInfo
from .base import BaseDataModule, BaseDataset, InMemoryDataset
{%- if cookiecutter.dataset == "digits" %}
from .digits import DigitsDataModule
{%- endif %}
from .mnist import DatasetNotFoundError, FashionMNISTDataModule, MNISTDataModule

DATAMODULES: dict[str, type[BaseDataModule]] = {
{%- if cookiecutter.dataset == "digits" %}
    "digits": DigitsDataModule,
{%- endif %}
    "mnist": MNISTDataModule,
    "fashion_mnist": FashionMNISTDataModule,
}


def build_datamodule(
    config: DataConfig, seed: int = 0, dist_info: DistInfo | None = None
) -> BaseDataModule:
    """The data module named by ``data.name``."""
    if config.name not in DATAMODULES:
        raise ConfigError(f"data.name={config.name!r} is not one of {sorted(DATAMODULES)}")
    return DATAMODULES[config.name](config, seed=seed, dist_info=dist_info)


__all__ = [
    "DATAMODULES",
    "BaseDataModule",
    "BaseDataset",
    "DatasetNotFoundError",
    "InMemoryDataset",
    "build_datamodule",
]
