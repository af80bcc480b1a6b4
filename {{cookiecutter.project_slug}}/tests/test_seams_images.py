"""Image folders where they meet training: every file of every split, every class and
both transform pipelines are checked before the run directory exists, so a bad folder
is one line (exit 1 for files, 2 for config) instead of a crash in epoch 1 or in the
test after training, and skip_bad_images cannot silently drop a whole class."""

import shutil

import pytest

import train

from .conftest import FAST, IMAGE_ARGS, write_images
from .test_guard_predict import write_huge_png

pytestmark = pytest.mark.filterwarnings("ignore:Unable to enable fault handler")


@pytest.fixture
def images(tmp_path):
    return write_images(tmp_path / "pictures", per_class=6)


def refused(tmp_path, capsys, root, *extra) -> tuple[int, str]:
    """Run train.py on ``root``; the exit code and its one error line. Nothing written."""
    run_dir = tmp_path / "run"
    args = [*FAST, *IMAGE_ARGS, f"data.root={root}", f"output_dir={run_dir}", *extra]
    capsys.readouterr()
    code = train.main(args)
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line]
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert not run_dir.exists()
    return code, err[0]


def test_one_class_folder_is_refused(tmp_path, capsys, images):
    for name in ("leaf", "sky"):
        shutil.rmtree(images / name)
    code, line = refused(tmp_path, capsys, images)
    assert code == 1 and "one class folder (apple)" in line and "two or more" in line


def test_decompression_bomb_in_the_training_data_is_refused_before_decoding(
    tmp_path, capsys, images
):
    """The rule predict.py applies (MAX_IMAGE_PIXELS), here before any decoding."""
    write_huge_png(images / "sky" / "huge.png", 20_000, 20_000)
    code, line = refused(tmp_path, capsys, images)
    assert code == 1 and "huge.png" in line and "MAX_IMAGE_PIXELS" in line
    write_huge_png(images / "sky" / "huge.png", 10_000, 10_000)  # PIL only warns here
    code, line = refused(tmp_path, capsys, images)
    assert code == 1 and "huge.png" in line and "too large to decode safely" in line


def test_truncated_image_in_the_test_split_is_found_before_training(tmp_path, capsys):
    root = tmp_path / "split"
    write_images(root / "train", per_class=6)
    write_images(root / "test", per_class=2, seed=1)
    victim = sorted((root / "test" / "leaf").glob("*.png"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    code, line = refused(tmp_path, capsys, root)
    assert code == 1 and victim.name in line and "truncated" in line


@pytest.mark.parametrize(
    ("transforms", "fragment"),
    [
        (["data.train_transforms=[]", "data.eval_transforms=[]"], "different sizes"),
        (["data.eval_transforms=[{name: Resize, size: 0}]"], "data.eval_transforms"),
        (["data.train_transforms=[{name: RandomCrop, size: 100}]"], "data.train_transforms"),
    ],
)
def test_transforms_that_cannot_work_are_refused_before_the_run(
    tmp_path, capsys, images, transforms, fragment
):
    code, line = refused(tmp_path, capsys, images, *transforms)
    assert code == 2 and fragment in line, line


def corrupt_png(path):
    """Header and end marker intact, the pixel data garbled: found only by decoding."""
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 8
    data[start : start + 20] = b"\xff" * 20
    path.write_bytes(bytes(data))


def test_skip_bad_images_refuses_to_drop_a_whole_class(tmp_path, capsys, images):
    for path in (images / "sky").iterdir():
        if path.suffix == ".png":
            corrupt_png(path)
        else:
            path.unlink()
    code, line = refused(tmp_path, capsys, images, "data.skip_bad_images=true")
    assert code == 1 and "'sky'" in line and "skip_bad_images" in line


def test_corrupt_png_is_one_line_not_a_segfault(tmp_path, capsys, images):
    """torchvision's PNG decoder kills the process on corrupt data: the chunk checksums
    are checked first (here found while training: exit 1, one line)."""
    victim = sorted((images / "sky").glob("*.png"))[0]
    corrupt_png(victim)
    args = [*FAST, *IMAGE_ARGS, f"data.root={images}", f"output_dir={tmp_path / 'run'}"]
    capsys.readouterr()
    assert train.main([*args, "trainer.epochs=1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and victim.name in err[0] and "corrupt" in err[0], err


def test_skip_bad_images_reports_what_each_class_lost(tmp_path, images):
    corrupt_png(sorted((images / "sky").glob("*.png"))[0])  # found by decoding
    (images / "leaf" / "notes.txt").write_text("not an image")  # found by the scan
    run_dir = tmp_path / "run"
    args = [*FAST, *IMAGE_ARGS, f"data.root={images}", f"output_dir={run_dir}"]
    args += ["data.skip_bad_images=true", "trainer.epochs=1", "trainer.limit_train_batches=1"]
    assert train.main(args) == 0
    assert "images left out per class: leaf 1, sky 1" in (run_dir / "train.log").read_text()
