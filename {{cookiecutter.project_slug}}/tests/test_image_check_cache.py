"""Start-up cost that does not grow with every start: an image folder's files are checked
once, and again only when they change (size, mtime or ctime); the cache of what passed
lives outside the data folder, and a cache that cannot be read is ignored and rebuilt.
The normalization statistics of a large folder come from a fixed sample of it."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule, image_stats
from {{cookiecutter.project_slug}}.utils.errors import DataError

from .conftest import IMAGE_ARGS, write_images


def datamodule(root, *overrides: str):
    # data.channels=auto would open a sample of headers again at every start, to read
    # their mode (bounded: data/image_stats.py); these tests count the checks' opens.
    fixed = ["data.channels=3"]
    config = load_config(overrides=[*IMAGE_ARGS, *fixed, f"data.root={root}", *overrides])
    return build_datamodule(config.data, seed=0)


@pytest.fixture
def headers_read(monkeypatch) -> list[str]:
    """The files whose header PIL opens (the check of a file reads its header)."""
    opened, real_open = [], Image.open

    def counting_open(path, *args, **kwargs):
        opened.append(os.path.basename(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return opened


def change_keeping_size(path) -> None:
    """The last bytes (a PNG's IEND chunk) overwritten: same size, cut short."""
    data = bytearray(path.read_bytes())
    data[-12:] = b"\x00" * 12
    path.write_bytes(bytes(data))


def test_a_second_start_checks_only_the_files_that_changed(tmp_path, headers_read):
    root = write_images(tmp_path / "pictures", per_class=6)
    datamodule(root)
    assert len(headers_read) == 18  # the first start checks every file
    headers_read.clear()
    datamodule(root)
    assert headers_read == []  # nothing changed: nothing checked again

    # Rewritten in place after the first start: same size, a new mtime.
    victim = root / "sky" / "000.png"
    change_keeping_size(victim)
    with pytest.raises(DataError, match=r"000\.png is truncated"):
        datamodule(root)
    assert headers_read == []  # found without opening any other header

    # Replaced by a file of another size, its old mtime put back (cp -p, rsync -t).
    write_images(tmp_path / "fresh", per_class=6)
    os.replace(tmp_path / "fresh" / "sky" / "000.png", victim)
    before = (root / "leaf" / "002.png").stat()
    data = (root / "leaf" / "002.png").read_bytes()
    (root / "leaf" / "002.png").write_bytes(data[: len(data) // 2])
    os.utime(root / "leaf" / "002.png", ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(DataError, match=r"002\.png is truncated"):
        datamodule(root)

    # Same size and mtime put back (touch -r): the ctime still moved.
    (root / "leaf" / "002.png").write_bytes(data)
    victim = root / "apple" / "004.png"
    before = victim.stat()
    change_keeping_size(victim)
    os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert victim.stat().st_size == before.st_size
    with pytest.raises(DataError, match=r"004\.png is truncated"):
        datamodule(root)


def test_the_cache_lives_outside_the_data_folder_and_a_corrupt_one_is_rebuilt(
    tmp_path, headers_read, _cache_dir
):
    root = write_images(tmp_path / "pictures", per_class=4)
    before = set(_cache_dir.rglob("*.json"))
    dm = datamodule(root, "data.normalize=auto")
    files = set(_cache_dir.rglob("*.json")) - before
    assert len(files) == 2  # what the checks passed, and the statistics
    assert not [p for p in root.rglob(".*")]  # nothing written into the user's folder
    (checks,) = [f for f in files if f.parent.name == "image_checks"]
    for garbage in (b"", b'{"files": {"sky/000.png": [1, 2', b"[]", b'{"files": 7}'):
        checks.write_bytes(garbage)  # killed mid-write by an older tool, edited, ...
        headers_read.clear()
        assert datamodule(root, "data.normalize=auto").train_set.files == dm.train_set.files
        assert len(headers_read) == 12  # every file checked again
        headers_read.clear()
        datamodule(root, "data.normalize=auto")
        assert headers_read == []  # and the rebuilt cache used
    # Well-formed, but not what a check writes: those entries are checked again.
    content = json.loads(checks.read_bytes())  # a whole file, not a torn one
    first, second = sorted(content["files"])[:2]
    content["files"][first][3:] = ["wide", None]
    content["files"][second] = {"size": 3}
    checks.write_text(json.dumps(content))
    headers_read.clear()
    datamodule(root, "data.normalize=auto")
    assert sorted(headers_read) == sorted(name.split("/")[-1] for name in (first, second))
    assert not list(checks.parent.glob("*.tmp"))  # no leftovers of the atomic writes


def test_normalize_auto_on_a_large_folder_uses_a_fixed_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(image_stats, "MAX_STATS_IMAGES", 5)
    root = write_images(tmp_path / "pictures", per_class=6)
    dm = datamodule(root, "data.normalize=auto")
    plain = datamodule(root, "data.normalize=none")
    train, evaluation = plain.train_set, plain.val_set.pipeline
    picked = image_stats.stats_sample(len(train))
    assert len(picked) == 5 < len(train) and len(set(picked)) == 5
    pixels = torch.stack([evaluation(train.image(i)) for i in picked])
    assert np.allclose(dm.mean, pixels.mean(dim=(0, 2, 3)).tolist(), atol=1e-5)
    assert np.allclose(dm.std, pixels.std(dim=(0, 2, 3), unbiased=False).tolist(), atol=1e-5)
    classes = {train.targets[i] for i in picked}
    assert len(classes) == 3  # spread over the classes, not the first few files


def test_the_listing_keeps_pathlibs_order_so_the_splits_do_not_move(tmp_path):
    """The split is drawn over the files in listing order: the scandir walk must list
    what ``sorted(Path.rglob)`` listed, in its order (nested folders whose names sort
    differently as strings and as path parts, symlinks, hidden entries)."""
    from {{cookiecutter.project_slug}}.data.image_files import visible_files
    from {{cookiecutter.project_slug}}.data.images import visible

    folder = tmp_path / "apple"
    for name in ("a/x.png", "a-b/x.png", "a.b/y.png", "a0.png", "A/z.png", "a/b/c.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "h.png").write_bytes(b"")
    (folder / "a" / ".h.png").write_bytes(b"")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "e.png").write_bytes(b"")
    (folder / "linked.png").symlink_to(tmp_path / "elsewhere" / "e.png")
    (folder / "linked_folder").symlink_to(tmp_path / "elsewhere")
    (folder / "dangling.png").symlink_to(tmp_path / "nothing.png")
    pathlib_order = [
        str(p) for p in sorted(folder.rglob("*")) if p.is_file() and visible(p, folder)
    ]
    assert [path for path, _, _ in visible_files(folder)] == pathlib_order
