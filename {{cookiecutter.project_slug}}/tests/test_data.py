"""Data: in-memory datasets, batched fetching, resumable and sharded samplers, and the base
classes' contract, checked on every data module the project has (fixed, disjoint splits;
DataLoaders as configured; the same batches with worker processes)."""

import pytest
import torch

from {{cookiecutter.project_slug}}.data import (
    DATAMODULES,
    BaseDataModule,
    BaseDataset,
    InMemoryDataset,
    build_datamodule,
)
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.data.samplers import ResumableSampler, ShardSampler
from {{cookiecutter.project_slug}}.utils.dist import DistInfo
{%- else %}
from {{cookiecutter.project_slug}}.data.samplers import ResumableSampler
{%- endif %}

from .conftest import IMAGE_ARGS, PROJECT_ROOT

# Small data for each data module (data.* overrides over the fast config): the contract
# tests below run on every registered module. A data module of your own: add a line.
SOURCES = {
    "digits": [],  # scikit-learn's bundled digits
    "mnist": [],  # conftest's small IDX files (data_root, in fast_args)
    "fashion_mnist": [],
    "csv": [f"data.root={PROJECT_ROOT / 'examples' / 'fruit.csv'}"],
    "image_folder": [*IMAGE_ARGS, "data.root={image_root}"],  # conftest's image_root
}
NAMES = sorted(DATAMODULES.entries)
SHIPPED = {"digits", "mnist", "fashion_mnist", "csv", "image_folder"}  # the template's own


def test_every_shipped_data_module_has_small_test_data():
    """The checks below skip a module without SOURCES (a user's new one); never one of ours."""
    assert SHIPPED & set(NAMES) <= set(SOURCES)
    assert "csv" in NAMES and "image_folder" in NAMES  # in every bake


@pytest.fixture
def build(request, config_factory):
    """``build(name, *overrides, seed=0)``: data module ``name`` on its small data."""

    def make(name: str, *overrides: str, seed: int = 0) -> BaseDataModule:
        if name not in SOURCES:  # a user's new module, until they give it small data
            pytest.skip(f"data.name={name}: add its small test data to SOURCES in {__file__}")
        source = SOURCES[name]
        if any("{image_root}" in item for item in source):
            image_root = request.getfixturevalue("image_root")
            source = [item.format(image_root=image_root) for item in source]
        config = config_factory(f"data.name={name}", "data.num_workers=0", *source, *overrides)
        return build_datamodule(config.data, seed=seed)

    return make


def sample_keys(dataset) -> list:
    """What identifies each sample of a split: its file, or its values (the small data
    above holds no two equal samples)."""
    files = getattr(dataset, "files", None)
    if files is not None:
        return list(files)
    return [row.numpy().tobytes() for row in dataset.inputs.flatten(1)]


def all_batches(loader) -> list:
    return [(inputs, targets) for inputs, targets in loader]


def assert_same_batches(first: list, second: list) -> None:
    """Exactly equal inputs and targets, batch by batch."""
    assert len(first) == len(second) > 0
    pairs = enumerate(zip(first, second, strict=True))
    differ = [i for i, ((x0, y0), (x1, y1)) in pairs if not (x0.equal(x1) and y0.equal(y1))]
    assert not differ, f"batches {differ} of {len(first)} differ"


@pytest.mark.parametrize("name", NAMES)
def test_splits_are_fixed_and_disjoint(build, name):
    first = build(name, seed=1)
    second = build(name, seed=2)  # the training seed does not move the split
    keys = [sample_keys(dataset) for dataset in (first.train_set, first.val_set, first.test_set)]
    assert [sample_keys(d) for d in (second.train_set, second.val_set, second.test_set)] == keys
    assert_same_batches(all_batches(first.val_dataloader()), all_batches(second.val_dataloader()))
    train, val, test = (set(split) for split in keys)
    assert len(train) == len(keys[0]) and val and test
    assert not train & val and not train & test and not val & test


@pytest.mark.parametrize("name", NAMES)
def test_dataloaders_follow_config(build, name):
    n = len(build(name).train_set)
    size = next(b for b in range(7, n) if n % b)  # the last batch is a short one
    dropped = build(name, f"data.batch_size={size}", "data.drop_last=true")
    batches = all_batches(dropped.train_dataloader())
    assert len(batches) == n // size  # drop_last drops the short batch
    assert all(x.shape == (size, *dropped.input_shape) and len(y) == size for x, y in batches)
    kept = build(name, f"data.batch_size={size}", "data.drop_last=false", "data.eval_batch_size=5")
    assert [len(y) for _, y in all_batches(kept.train_dataloader())][-2:] == [size, n % size]
    val_sizes = [len(y) for _, y in all_batches(kept.val_dataloader())]
    assert sum(val_sizes) == len(kept.val_set) and set(val_sizes[:-1]) <= {5}
    workers = build(
        name, "data.num_workers=2", "data.pin_memory=true", "data.prefetch_factor=3"
    ).train_dataloader()  # not iterated: no worker starts
    assert workers.num_workers == 2 and workers.prefetch_factor == 3
    assert workers.persistent_workers is True
    assert workers.pin_memory is torch.cuda.is_available()  # only takes effect on CUDA
    serial = kept.train_dataloader()
    assert serial.num_workers == 0 and serial.persistent_workers is False


@pytest.mark.parametrize("name", NAMES)
def test_worker_processes_give_the_same_batches(build, name):
    serial = build(name)
    parallel = build(name, "data.num_workers=2", "data.persistent_workers=false")
    batches = []
    for datamodule in (serial, parallel):
        loader = datamodule.train_dataloader()  # shuffled (and augmented, where it is)
        datamodule.set_epoch(1)
        batches.append((all_batches(loader), all_batches(datamodule.val_dataloader())))
    (train0, val0), (train1, val1) = batches
    assert_same_batches(train0, train1)
    assert_same_batches(val0, val1)


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
