"""MNIST and FashionMNIST read from local IDX files (never downloaded), and the experiment
files that name them. (A minimal digits project leaves MNIST out, and this file with it; the
contract every data module keeps, MNIST's included, is checked in test_data.py.)"""

import subprocess
import sys

import pytest
import torch

import train
from {{cookiecutter.project_slug}}.config import ConfigError, load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.data.base import normalize
from {{cookiecutter.project_slug}}.data.mnist import DatasetNotFoundError

from .conftest import PROJECT_ROOT
from .guard_tools import main_error_line


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_family_reads_idx_files_into_memory(config_factory, name):
    config = config_factory(f"data.name={name}")
    datamodule = build_datamodule(config.data)
    assert datamodule.input_shape == (1, 28, 28)
    assert datamodule.num_classes == 10
    assert (len(datamodule.train_set), len(datamodule.val_set), len(datamodule.test_set)) == (
        540,
        60,
        200,
    )
    inputs = datamodule.train_set.inputs
    assert inputs.dtype == torch.float32 and inputs.is_contiguous()
    # Normalized once at load time: roughly zero mean overall.
    assert abs(inputs.mean().item()) < 1.0
    # In place, to exactly the values of (pixels / 255 - mean) / std out of place.
    from torchvision import datasets

    # The project reads the IDX files itself; torchvision's class is the reference.
    reference = getattr(datasets, datamodule.dataset_name)(config.data.root, train=False)
    expected = normalize(
        reference.data.unsqueeze(1).float() / 255.0, datamodule.mean, datamodule.std
    )
    assert torch.equal(datamodule.test_set.inputs, expected)
    assert torch.equal(datamodule.test_set.targets, reference.targets)
    assert datamodule.classes == reference.classes


def test_reading_mnist_does_not_import_torchvision(config_factory):
    """An MNIST run needs none of torchvision (its import pulls in torch._dynamo, ~1.2 s
    in a process that has not imported it yet). Checked in a fresh interpreter."""
    config = config_factory("data.name=mnist")
    code = (
        "import sys\n"
        "from {{cookiecutter.project_slug}}.config import load_config\n"
        "from {{cookiecutter.project_slug}}.data import build_datamodule\n"
        f"root = {'data.root=' + config.data.root!r}\n"
        "config = load_config(overrides=['data.name=mnist', root])\n"
        "build_datamodule(config.data)\n"
        "print(sorted(name for name in sys.modules if name.startswith('torchvision')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_missing_files_raise_a_message_saying_where_to_put_them(tmp_path, config_factory):
    config = config_factory("data.name=mnist", f"data.root={tmp_path / 'empty'}")
    with pytest.raises(DatasetNotFoundError) as error:
        build_datamodule(config.data)
    message = str(error.value)
    assert str(tmp_path / "empty" / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message


@pytest.mark.filterwarnings("ignore:Unable to enable fault handler")
def test_missing_files_on_the_command_line_are_one_error_line(tmp_path, capsys, fast_args):
    args = [*fast_args, "data.name=fashion_mnist", f"data.root={tmp_path / 'none'}"]
    line = main_error_line(train.main, args, capsys, 1, "FashionMNIST", "raw")
    assert "t10k-labels-idx1-ubyte" in line and "does not download" in line
    assert not (tmp_path / "none").exists()  # nothing written


def test_experiment_file_is_merged_under_cli_overrides():
    config = load_config(overrides=["experiment=fashion_mnist_mlp", "optimizer.lr=0.5"])
    assert config.data.name == "fashion_mnist"
    assert list(config.model.hidden_sizes) == [512, 512]
    assert config.optimizer.name == "sgd"
    assert config.optimizer.lr == 0.5  # the command line wins over the experiment file


def test_unknown_experiment_lists_the_available_ones():
    with pytest.raises(ConfigError, match="available: .*mnist_mlp"):
        load_config(overrides=["experiment=nope"])
