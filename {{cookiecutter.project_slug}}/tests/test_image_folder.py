"""The image_folder data module on image files the tests write: splits, decoding of every
mode, transforms from config, per-sample seeded augmentation, normalization statistics,
the in-memory cache and class balancing."""

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from {{cookiecutter.project_slug}}.config import ConfigError, load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.data.image_stats import AUTO_MAX_IMAGE_SIZE
from {{cookiecutter.project_slug}}.data.images import BadImageError, decode
from {{cookiecutter.project_slug}}.utils.errors import DataError

from .conftest import IMAGE_ARGS, IMAGE_CLASSES, IMAGE_KINDS, write_images


def datamodule(root: Path, *overrides: str, seed: int = 0):
    config = load_config(overrides=[*IMAGE_ARGS, f"data.root={root}", *overrides])
    return build_datamodule(config.data, seed=seed)


def split_files(dm) -> dict[str, list[str]]:
    return {name: list(getattr(dm, f"{name}_set").files) for name in ("train", "val", "test")}


def test_split_is_stratified_by_class_and_fixed_by_split_seed(image_root):
    dm = datamodule(image_root)
    assert dm.classes == sorted(IMAGE_CLASSES)
    files = split_files(dm)
    everything = sorted(
        str(p) for p in image_root.glob("*/*.*") if not p.parent.name.startswith(".")
    )
    assert sorted(sum(files.values(), [])) == everything  # a partition: nothing lost or shared
    per_class = Counter(Path(f).parent.name for f in everything)
    for name, fraction_of_all in (("test", 0.2), ("val", 0.8 * 0.2)):
        counts = Counter(Path(f).parent.name for f in files[name])
        for cls, total in per_class.items():  # every class held out in proportion
            assert abs(counts[cls] - total * fraction_of_all) <= 1, (name, cls, counts)
    assert split_files(datamodule(image_root)) == files  # stable
    assert split_files(datamodule(image_root, seed=7)) == files  # training seed: no effect
    other = split_files(datamodule(image_root, "data.split_seed=1"))
    assert other["test"] != files["test"] and sorted(sum(other.values(), [])) == everything


def test_train_val_test_folders_are_used_as_given(tmp_path):
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        write_images(tmp_path / split, per_class=n, seed=n)
    shutil.rmtree(tmp_path / "val" / "sky")  # a split may lack a class
    dm = datamodule(tmp_path)
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (18, 4, 9)
    assert all("/val/" in f for f in dm.val_set.files)
    (tmp_path / "test" / "cloud").mkdir()
    Image.new("RGB", (9, 9)).save(tmp_path / "test" / "cloud" / "a.png")
    with pytest.raises(DataError, match=r"class folders \['cloud'\].*training split does not"):
        datamodule(tmp_path)


def test_hidden_files_and_folders_are_not_data(tmp_path):
    """What a Mac, Jupyter or a thumbnailer leaves in an image folder is passed over, not
    refused and not trained on: ``.DS_Store``, AppleDouble ``._x.png`` files (no image),
    hidden folders beside the classes and inside them (predict.py applies the same rule)."""
    root = write_images(tmp_path / "pictures", per_class=5)
    images = sorted(str(p) for p in root.glob("*/*.*"))
    for name in IMAGE_CLASSES:
        (root / name / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
        (root / name / "._000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
        (root / name / ".thumbnails").mkdir()
        shutil.copy(root / name / "000.png", root / name / ".thumbnails" / "000.png")
    (root / ".ipynb_checkpoints").mkdir()
    shutil.copy(next(root.glob("*/000.png")), root / ".ipynb_checkpoints" / "x.png")
    dm = datamodule(root)
    assert dm.classes == sorted(IMAGE_CLASSES)
    assert sorted(sum(split_files(dm).values(), [])) == images


@pytest.mark.parametrize(("mode", "file_format"), [*IMAGE_KINDS, ("RGBA", "WEBP")])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_mode_decodes_to_the_configured_channels(tmp_path, mode, file_format, channels):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (13, 21, 3), dtype=np.uint8)
    path = tmp_path / f"image.{file_format.lower()}"
    Image.fromarray(pixels).convert(mode).save(path, file_format, quality=95)
    image = decode(path, channels)
    assert image.dtype == torch.uint8 and tuple(image.shape) == (channels, 13, 21)
    with Image.open(path) as reference:  # PIL's own conversion of the same file
        expected = np.asarray(reference.convert("L" if channels == 1 else "RGB"))
    expected = torch.from_numpy(expected.copy()).reshape(13, 21, -1).permute(2, 0, 1)
    difference = (image.int() - expected.int()).abs().float().mean().item()
    assert difference < 3, difference  # decoders round differently; no channel mix-up


def test_exif_orientation_is_honoured(tmp_path):
    pixels = np.zeros((10, 30, 3), dtype=np.uint8)
    pixels[:, :5] = 255  # a white band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "a.jpg", exif=exif.tobytes(), quality=95)
    image = decode(tmp_path / "a.jpg", 3)
    assert tuple(image.shape) == (3, 30, 10)  # portrait, as a viewer shows it
    assert image[:, :5].float().mean() > 200 and image[:, -5:].float().mean() < 50  # band on top


def test_truncated_and_fake_images_are_errors_naming_the_file(tmp_path):
    Image.new("RGB", (40, 40), (9, 99, 199)).save(tmp_path / "whole.jpg", quality=90)
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadImageError, match=r"cut\.jpg: Image is incomplete or truncated"):
        decode(tmp_path / "cut.jpg", 3)


def test_bad_files_are_errors_or_skipped_and_counted(tmp_path, caplog):
    root = write_images(tmp_path / "pics", per_class=6)
    (root / "leaf" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match=r"notes\.txt is not an image file.*skip_bad_images"):
        datamodule(root)
    (root / "leaf" / "notes.txt").unlink()
    (root / "leaf" / "fake.jpg").write_text("text in a .jpg")
    with pytest.raises(DataError, match=r"fake\.jpg is not a JPEG, PNG or WebP image"):
        datamodule(root)
    whole = (root / "sky" / "001.jpg").read_bytes()
    (root / "sky" / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (root / "apple" / "empty.png").write_bytes(b"")
    dm = datamodule(root, "data.skip_bad_images=true")
    with caplog.at_level("WARNING"):
        dm.train_dataloader()  # when training starts, into train.log
    assert len(dm.skipped) == 3
    assert "data.skip_bad_images: 3 files left out" in caplog.text
    kept = sum((dm_set.files for dm_set in (dm.train_set, dm.val_set, dm.test_set)), [])
    assert len(kept) == 18 and not any(Path(f).stem in ("fake", "cut", "empty") for f in kept)
    (root / "moon").mkdir()
    with pytest.raises(DataError, match=r"class folder .*moon holds no usable images") as error:
        datamodule(root, "data.skip_bad_images=true")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("items", "fragments"),
    [
        ("[{name: RandomResizedCrp, size: 16}]", ["'RandomResizedCrp'", "RandomResizedCrop"]),
        (
            "[{name: RandomResizedCrop, size: 16, scales: [0.5, 1]}]",
            ["no argument 'scales'", "scale"],
        ),
        ("[{name: RandomResizedCrop}]", ["RandomResizedCrop needs size"]),
        ("[{name: RandomRotation, degrees: -5}]", ["RandomRotation(degrees=-5) is invalid"]),
        ("[{name: Resize, size: 16, interpolation: cubic}]", ["interpolation='cubic'", "bicubic"]),
        ("[{name: Normalize, mean: [0.5], std: [0.5]}]", ["Normalize is added by the project"]),
        ("[RandomCrop]", ["is not a transform"]),
    ],
)
def test_bad_transform_lists_fail_at_config_load(items, fragments):
    with pytest.raises(ConfigError) as error:
        load_config(overrides=[f"data.train_transforms={items}"])
    message = str(error.value)
    assert message.startswith("data.train_transforms[0]") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_listed_transforms_are_applied(image_root):
    transforms = (
        "[{name: RandomResizedCrop, size: 12, scale: [0.6, 1.0]}, {name: RandomVerticalFlip}]"
    )
    dm = datamodule(
        image_root,
        f"data.train_transforms={transforms}",
        "data.eval_transforms=[{name: Resize, size: [12, 12]}]",
        "data.normalize=none",
    )
    assert dm.input_shape == (3, 12, 12)
    image, target = dm.val_set[0]
    assert image.shape == (3, 12, 12) and image.min() >= 0 and image.max() <= 1
    assert dm.preprocessing()["eval_transforms"] == [{"name": "Resize", "size": [12, 12]}]
    with pytest.raises(ConfigError, match=r"shape \(3, 12, 12\) but .* give \(3, 16, 16\)"):
        datamodule(image_root, f"data.train_transforms={transforms}")  # eval default: 16 px


def write_gray(folder: Path, side: int, per_class: int = 6) -> Path:
    """``folder/<digit>/<i>.png``: grayscale pictures of ``side`` px, like scanned digits."""
    rng = np.random.default_rng(0)
    for name in ("0", "1"):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (side, side)).astype(np.uint8)
            Image.fromarray(pixels, "L").save(folder / name / f"{i}.png")
    return folder


def test_auto_size_and_channels_follow_the_training_images(tmp_path, caplog):
    """The image recipe's ``data.image_size=auto``/``data.channels=auto``: grayscale
    pictures stay one channel, small ones keep their size (not upscaled), large ones are
    cut to at most AUTO_MAX_IMAGE_SIZE; train.log says what was chosen and why."""
    auto = ("data.image_size=auto", "data.channels=auto")
    recipe = load_config(overrides=["experiment=images"]).data
    assert (recipe.image_size, recipe.channels) == ("auto", "auto")
    gray = datamodule(write_gray(tmp_path / "digits", side=20), *auto)
    assert gray.input_shape == (1, 20, 20)
    with caplog.at_level("INFO"):
        gray.train_dataloader()
    assert "data.image_size=auto: 20" in caplog.text and "data.channels=auto: 1" in caplog.text
    large = write_gray(tmp_path / "scans", side=AUTO_MAX_IMAGE_SIZE * 2)
    assert datamodule(large, *auto).input_shape == (1, AUTO_MAX_IMAGE_SIZE, AUTO_MAX_IMAGE_SIZE)
    colour = datamodule(write_images(tmp_path / "mixed", per_class=7), *auto)
    assert colour.input_shape[0] == 3  # one colour file among grayscale ones: RGB
    with pytest.raises(ConfigError, match=r"data.image_size=big is not allowed.*or auto"):
        load_config(overrides=["data.image_size=big"])


def test_flips_are_an_opt_in(image_root):
    """A mirrored digit or letter is another symbol, or none: the default training
    transforms do not flip; ``data.flip=true`` adds a random horizontal flip."""
    names = [spec["name"] for spec in datamodule(image_root).train_specs]
    assert "RandomHorizontalFlip" not in names
    flipped = [spec["name"] for spec in datamodule(image_root, "data.flip=true").train_specs]
    assert flipped == [*names, "RandomHorizontalFlip"]


def test_augmentation_depends_only_on_seed_epoch_and_index(image_root):
    train = datamodule(image_root).train_set
    torch.manual_seed(0)
    first = train[(3, 1)][0]
    state = torch.get_rng_state()
    assert torch.equal(train[(3, 1)][0], first)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone
    assert not torch.equal(train[(3, 2)][0], first)  # another epoch, another crop
    again = datamodule(image_root).train_set  # a fresh process would build this
    assert torch.equal(again[(3, 1)][0], first)
    assert not torch.equal(datamodule(image_root, seed=1).train_set[(3, 1)][0], first)


def epoch_batches(dm, epoch: int, start_batch: int = 0) -> list:
    loader = dm.train_dataloader()
    dm.set_epoch(epoch, start_batch)
    return list(loader)


def test_workers_do_not_change_the_batches_and_a_resume_replays_them(image_root):
    serial = datamodule(image_root, "data.num_workers=0")
    parallel = datamodule(image_root, "data.num_workers=2", "data.prefetch_factor=1")
    for epoch in (1, 2):
        expected = epoch_batches(serial, epoch)
        got = epoch_batches(parallel, epoch)
        assert len(expected) == len(got) == 4
        for (x0, y0), (x1, y1) in zip(expected, got, strict=True):
            assert torch.equal(x0, x1) and torch.equal(y0, y1)
    resumed = epoch_batches(datamodule(image_root, "data.num_workers=2"), 2, start_batch=2)
    for (x0, _), (x1, _) in zip(expected[2:], resumed, strict=True):
        assert torch.equal(x0, x1)
    first, second = epoch_batches(serial, 1), epoch_batches(serial, 2)
    assert not torch.equal(first[0][0], second[0][0])


def test_normalize_auto_is_computed_from_the_training_images_and_cached(tmp_path, _cache_dir):
    root = write_images(tmp_path / "pics", per_class=5)
    before = set(_cache_dir.glob("normalize/*.json"))
    dm = datamodule(root, "data.normalize=auto")
    plain = datamodule(root, "data.normalize=none")
    train, evaluation = plain.train_set, plain.val_set.pipeline  # what the model sees at eval
    pixels = torch.stack([evaluation(train.image(i)) for i in range(len(train))])
    assert np.allclose(dm.mean, pixels.mean(dim=(0, 2, 3)).tolist(), atol=1e-5)
    assert np.allclose(dm.std, pixels.std(dim=(0, 2, 3), unbiased=False).tolist(), atol=1e-5)
    (cache,) = set(_cache_dir.glob("normalize/*.json")) - before
    cache.write_text('{"mean": [0.25, 0.5, 0.75], "std": [1.0, 2.0, 3.0]}')
    assert datamodule(root, "data.normalize=auto").mean == [0.25, 0.5, 0.75]  # read, not redone
    Image.new("RGB", (20, 20), (255, 255, 255)).save(root / "sky" / "new.png")
    assert datamodule(root, "data.normalize=auto").mean != [0.25, 0.5, 0.75]  # files changed
    assert datamodule(root, "data.normalize=imagenet").mean == [0.485, 0.456, 0.406]


def test_cache_gives_the_same_samples_as_reading_the_files(image_root):
    cached = datamodule(image_root, "data.cache=true")
    files = datamodule(image_root)
    assert cached.train_set.images is not None and files.train_set.images is None
    for index in (0, 5, 8):
        assert torch.equal(cached.train_set[(index, 3)][0], files.train_set[(index, 3)][0])
        assert torch.equal(cached.test_set[index][0], files.test_set[index][0])


def test_weighted_sampler_and_class_weights_balance_an_imbalanced_set(tmp_path):
    from {{cookiecutter.project_slug}}.model import build_model
    from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

    root = write_images(tmp_path / "pics", per_class=4)
    write_images(tmp_path / "more", per_class=28, seed=1)
    for path in (tmp_path / "more" / "apple").iterdir():
        path.rename(root / "apple" / f"more-{path.name}")
    dm = datamodule(root, "data.sampler=weighted", "data.batch_size=4")
    counts = dm.class_counts().tolist()
    assert counts[0] > 5 * counts[1]
    drawn = Counter()
    for epoch in range(1, 6):
        drawn.update(y for _, targets in epoch_batches(dm, epoch) for y in targets.tolist())
    shares = [drawn[c] / sum(drawn.values()) for c in range(3)]
    assert all(0.2 < share < 0.47 for share in shares), shares  # about 1/3 each, not 80 %

    config = load_config(overrides=[*IMAGE_ARGS, f"data.root={root}", "class_weights=auto"])
    model = build_model(config.model, dm.input_shape, dm.num_classes)
    trainer = ClassificationTrainer(model, dm, config, tmp_path / "run")
    weight = trainer.criterion.weight
    assert weight[0] < weight[1] and torch.isclose(weight[1], weight[2], rtol=0.3)
    assert torch.isclose((weight * dm.class_counts()).sum(), torch.tensor(float(sum(counts))))


def test_predict_prepares_a_raw_image_exactly_like_the_test_set(image_root, tmp_path):
    from {{cookiecutter.project_slug}}.data.images import prepare_image

    dm = datamodule(image_root)
    torch.save({"preprocessing": dm.preprocessing()}, tmp_path / "meta.pt")
    preprocessing = torch.load(tmp_path / "meta.pt", weights_only=True)["preprocessing"]
    for index in range(len(dm.test_set)):  # every size and mode the folder holds
        expected, _ = dm.test_set[index]
        assert torch.equal(prepare_image(Path(dm.test_set.files[index]), preprocessing), expected)
