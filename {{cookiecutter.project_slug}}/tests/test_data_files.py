"""Bad data files stop the run when the dataset loads, with one error that names the
file and says what is wrong: never an assertion from inside torchvision, never a
half-written run directory."""

import gzip
import struct

import pytest

from {{cookiecutter.project_slug}}.config import ConfigError
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.utils.errors import DataError

from .conftest import run_script, write_idx
from .guard_tools import assert_one_error_line


@pytest.fixture
def raw(tmp_path):
    """Fresh small MNIST IDX files under tmp_path/data/MNIST/raw, to break one by one."""
    write_idx(tmp_path / "data", "MNIST", n_train=100, n_test=50)
    return tmp_path / "data" / "MNIST" / "raw"


def load(config_factory, raw, *overrides):
    config = config_factory("data.name=mnist", f"data.root={raw.parent.parent}", *overrides)
    return build_datamodule(config.data)


def fails(config_factory, raw, *overrides, error=DataError) -> str:
    with pytest.raises(error) as caught:
        load(config_factory, raw, *overrides)
    message = str(caught.value)
    assert "\n" not in message
    return message


TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"


def test_good_files_load(config_factory, raw):
    assert len(load(config_factory, raw).train_set) == 90


def test_zero_byte_file(config_factory, raw):
    (raw / TRAIN_IMAGES).write_bytes(b"")
    message = fails(config_factory, raw)
    assert f"{raw / TRAIN_IMAGES} is empty (0 bytes)" in message


def test_truncated_file(config_factory, raw):
    path = raw / TRAIN_IMAGES
    path.write_bytes(path.read_bytes()[:-100])
    message = fails(config_factory, raw)
    assert f"{path} is truncated" in message and "(100, 28, 28)" in message


def test_swapped_files_have_the_wrong_magic_number(config_factory, raw):
    images, labels = (raw / TRAIN_IMAGES).read_bytes(), (raw / TRAIN_LABELS).read_bytes()
    (raw / TRAIN_IMAGES).write_bytes(labels)
    (raw / TRAIN_LABELS).write_bytes(images)
    message = fails(config_factory, raw)
    assert f"{raw / TRAIN_IMAGES} has magic number 2049" in message
    assert "are two files swapped?" in message


def test_random_bytes_are_not_an_idx_file(config_factory, raw):
    (raw / TRAIN_IMAGES).write_bytes(b"PK\x03\x04 not an idx file at all")
    assert "expected an uncompressed IDX images file" in fails(config_factory, raw)


def test_gzip_file_says_to_decompress(config_factory, raw):
    path = raw / TRAIN_LABELS
    path.write_bytes(gzip.compress(path.read_bytes()))
    assert f"{path} is gzip-compressed; decompress it" in fails(config_factory, raw)


def test_image_and_label_counts_must_match(config_factory, raw):
    path = raw / TRAIN_LABELS
    data = path.read_bytes()
    path.write_bytes(struct.pack(">II", 2049, 99) + data[8:-1])
    message = fails(config_factory, raw)
    assert f"{raw / TRAIN_IMAGES} holds 100 images but {path} holds 99 labels" in message


def test_labels_outside_the_classes(config_factory, raw):
    path = raw / TRAIN_LABELS
    data = bytearray(path.read_bytes())
    data[8 + 7] = 12  # the label of image 7
    path.write_bytes(bytes(data))
    message = fails(config_factory, raw)
    assert f"{path}: label 12 at position 7 is outside the 10 classes" in message


def test_image_size_must_be_the_same_in_every_split(config_factory, raw):
    n = 50
    (raw / "t10k-images-idx3-ubyte").write_bytes(
        struct.pack(">IIII", 2051, n, 32, 32) + bytes(n * 32 * 32)
    )
    message = fails(config_factory, raw)
    assert "holds 28x28 images but" in message and "holds 32x32" in message


def test_a_folder_where_a_file_belongs(config_factory, raw):
    (raw / TRAIN_IMAGES).unlink()
    (raw / TRAIN_IMAGES).mkdir()
    assert f"{raw / TRAIN_IMAGES} is a folder" in fails(config_factory, raw)


def test_an_empty_validation_split_names_the_fraction(config_factory, tmp_path):
    write_idx(tmp_path / "tiny", "MNIST", n_train=4, n_test=4)
    raw = tmp_path / "tiny" / "MNIST" / "raw"
    message = fails(config_factory, raw, "data.val_fraction=0.1", error=ConfigError)
    assert "the val split" in message and "data.val_fraction=0.1" in message


def test_drop_last_with_a_batch_larger_than_the_data(config_factory, raw):
    message = fails(
        config_factory, raw, "data.batch_size=500", "data.drop_last=true", error=ConfigError
    )
    assert "data.batch_size=500 with data.drop_last=true leaves no training batch" in message


def test_train_py_stops_with_one_line_and_writes_nothing(tmp_path, raw):
    path = raw / TRAIN_IMAGES
    path.write_bytes(path.read_bytes()[:5000])
    run_dir = tmp_path / "run"
    result = run_script(
        "train.py", "data.name=mnist", f"data.root={raw.parent.parent}", f"output_dir={run_dir}"
    )
    assert_one_error_line(result, 1, f"{path} is truncated")
    assert not run_dir.exists()
