"""Samplers of a torchrun job (data/sharded.py): each rank's shard of the epoch order, as
torch's DistributedSampler deals it; evaluation shards; the rest of an epoch shared out
anew when a run resumes with another number of processes."""

import pytest
from torch.utils.data import DistributedSampler

from {{cookiecutter.project_slug}}.data.samplers import balanced_weights, make_sampler
from {{cookiecutter.project_slug}}.data.sharded import ShardSampler, sampler_for
from {{cookiecutter.project_slug}}.utils.dist import DistInfo


def shards(data, world: int, **settings) -> list:
    """Every rank's sampler for ``data`` (``sampler_for``, as DDPStrategy gives it)."""
    made = [sampler_for(DistInfo(rank=r, world_size=world)) for r in range(world)]
    return [sampler(data, **settings) for sampler in made]


@pytest.mark.parametrize("size", [3, 10, 11])
@pytest.mark.parametrize("world", [1, 2, 4])
@pytest.mark.parametrize("shuffle", [True, False])
def test_training_shards_are_distributed_samplers_order(size, world, shuffle):
    data = list(range(size))
    for rank, sampler in enumerate(shards(data, world, shuffle=shuffle, seed=3, with_epoch=False)):
        torch_sampler = DistributedSampler(data, world, rank, shuffle=shuffle, seed=3)
        for epoch in (0, 2):
            sampler.set_epoch(epoch)
            torch_sampler.set_epoch(epoch)
            assert list(sampler) == list(torch_sampler) and len(sampler) == len(torch_sampler)


def test_one_rank_reads_what_the_single_process_sampler_reads():
    data = list(range(13))
    weights = balanced_weights([0] * 10 + [1] * 3, 2)
    for settings in ({"shuffle": True}, {"shuffle": False}, {"shuffle": True, "weights": weights}):
        (shard,) = shards(data, 1, seed=4, with_epoch=True, **settings)
        whole = make_sampler(data, seed=4, with_epoch=True, **settings)
        for sampler in (shard, whole):
            sampler.set_epoch(2, start_index=5)
        assert list(shard) == list(whole) and len(shard) == len(whole)


def test_evaluation_shards_count_every_sample_once():
    data = list(range(11))
    made = shards(data, 3, shuffle=False, seed=0, with_epoch=False, evaluation=True)
    assert all(isinstance(sampler, ShardSampler) for sampler in made)
    assert sorted(index for sampler in made for index in sampler) == data


@pytest.mark.parametrize("weighted", [False, True])
def test_the_rest_of_an_epoch_is_shared_out_once_over_another_number_of_ranks(weighted):
    data = list(range(24))
    settings = {"shuffle": True, "seed": 1, "with_epoch": False}
    if weighted:
        settings["weights"] = balanced_weights([i % 3 for i in data], 3)
    saved = shards(data, 2, **settings)  # two ranks ran 2 batches of 3 of epoch 4
    for sampler in saved:
        sampler.set_epoch(4)
    taken = [index for sampler in saved for index in list(sampler)[:6]]
    order = make_sampler(data, **settings)
    order.set_epoch(4)
    resumed = shards(data, 3, **settings)
    counts = {sampler.share_out_rest(4, len(taken), 3, 3) for sampler in resumed}
    rest = [index for sampler in resumed for index in sampler]
    assert counts == {2}  # 24 - 12 samples over 3 ranks of 3: 2 batches each
    assert sorted(taken + rest) == sorted(order.epoch_order())  # each sample of the epoch once
