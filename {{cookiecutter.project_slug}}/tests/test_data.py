"""Data: in-memory datasets, batched fetching, resumable and sharded samplers, the base
classes' contract (fixed splits and DataLoader settings: test_mnist.py)."""

import pytest
import torch

from {{cookiecutter.project_slug}}.data import (
    BaseDataModule,
    BaseDataset,
    InMemoryDataset,
)
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.data.samplers import ResumableSampler, ShardSampler
from {{cookiecutter.project_slug}}.utils import DistInfo
{%- else %}
from {{cookiecutter.project_slug}}.data.samplers import ResumableSampler
{%- endif %}


def test_batched_fetch_equals_per_item_fetch():
    dataset = InMemoryDataset(
        torch.randn(10, 1, 4, 4), torch.arange(10), [str(i) for i in range(10)]
    )
    inputs, targets = dataset.__getitems__([3, 1, 7])
    assert torch.equal(inputs, torch.stack([dataset[i][0] for i in (3, 1, 7)]))
    assert targets.tolist() == [3, 1, 7]


def test_shuffle_order_depends_only_on_seed_and_epoch():
    data = list(range(50))
    sampler = ResumableSampler(data, {% if cookiecutter.profile == "full" %}DistInfo(), {% endif %}shuffle=True, seed=3)
    sampler.set_epoch(2)
    order = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != order
    sampler.set_epoch(2, start_index=20)  # resuming mid-epoch replays the rest of the same order
    assert list(sampler) == order[20:]


{%- if cookiecutter.profile == "full" %}


def test_shards_cover_every_sample_once():
    data = list(range(11))
    shards = [list(ShardSampler(data, DistInfo(rank=r, world_size=3))) for r in range(3)]
    assert sorted(sum(shards, [])) == data
{%- endif %}


def test_base_classes_refuse_missing_methods():
    class NoSetup(BaseDataModule):
        pass

    class NoItems(BaseDataset):
        def __len__(self):
            return 0

    with pytest.raises(TypeError, match="setup"):
        NoSetup(None)
    with pytest.raises(TypeError, match="__getitem__"):
        NoItems()
