"""predict.py: a trained checkpoint classifies new PNG/JPG images and saved tensors exactly
as the model classifies the same tensors in memory; bad inputs are clear errors."""

import csv

import numpy as np
import pytest
import torch
from PIL import Image

import predict
from {{cookiecutter.project_slug}}.config import load_config
from {{cookiecutter.project_slug}}.data import build_datamodule
from {{cookiecutter.project_slug}}.model import build_model
from {{cookiecutter.project_slug}}.trainer import ClassificationTrainer

from .conftest import FAST, run_script


@pytest.fixture(scope="module")
def trained(data_root, tmp_path_factory):
    """A briefly trained model, its best.pt, and the data module it was trained on
    (the same fast settings as ``fast_args``, so it works for every dataset option)."""
    run_dir = tmp_path_factory.mktemp("predict") / "run"
    overrides = [*FAST, f"data.root={data_root}", f"output_dir={run_dir}"]
    config = load_config(
        overrides=[*overrides, "trainer.epochs=1", "trainer.limit_train_batches=5"]
    )
    datamodule = build_datamodule(config.data, seed=config.seed)
    model = build_model(config.model, datamodule.input_shape, datamodule.num_classes)
    ClassificationTrainer(model, datamodule, config, run_dir).fit()
    return model.eval(), run_dir / "checkpoints" / "best.pt", datamodule


def to_uint8(inputs: torch.Tensor, datamodule) -> np.ndarray:
    """Undo the data module's normalization: (N, 1, H, W) model inputs -> 8-bit pixels."""
    pixels = inputs * datamodule.std + datamodule.mean
    return (pixels.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1).numpy()


def from_uint8(pixels: np.ndarray, datamodule) -> torch.Tensor:
    """8-bit grayscale (H, W) -> a normalized (1, H, W) input, written independently of
    predict.py: the test's own account of 'prepared like the training data'."""
    return ((torch.tensor(pixels).float() / 255 - datamodule.mean) / datamodule.std)[None]


def probabilities(model, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(inputs).softmax(dim=1)


def read_rows(path) -> dict[str, tuple[str, float]]:
    with path.open(newline="") as handle:
        rows = csv.DictReader(handle)
        return {row["file"]: (row["class"], float(row["probability"])) for row in rows}


def assert_matches(rows, name, probs: torch.Tensor, classes: list[str]) -> None:
    label, probability = rows[name]
    assert label == classes[int(probs.argmax())], name
    assert probability == pytest.approx(float(probs.max()), abs=1e-5), name


def test_images_and_tensors_match_the_model_in_memory(trained, tmp_path):
    model, checkpoint, datamodule = trained
    classes = datamodule.classes
    inputs = datamodule.test_set.inputs[:6]
    height, width = inputs.shape[-2:]
    folder = tmp_path / "new"
    folder.mkdir()
    expected = {}
    for i, pixels in enumerate(to_uint8(inputs, datamodule)):
        Image.fromarray(pixels, mode="L").save(folder / f"img{i}.png")
        expected[f"img{i}.png"] = from_uint8(pixels, datamodule)
        Image.fromarray(pixels, mode="L").save(folder / f"img{i}.jpg", quality=90)
        decoded = np.asarray(Image.open(folder / f"img{i}.jpg").convert("L"))  # lossy
        expected[f"img{i}.jpg"] = from_uint8(decoded, datamodule)
    # RGB and 4x larger: predict.py must convert to grayscale and shrink it back.
    big = Image.fromarray(to_uint8(inputs[:1], datamodule)[0], mode="L")
    big.resize((width * 4, height * 4), Image.Resampling.NEAREST).convert("RGB").save(
        folder / "big_rgb.png"
    )
    expected["big_rgb.png"] = expected["img0.png"]
    torch.save(inputs[:3].clone(), folder / "batch.pt")
    output = tmp_path / "out" / "predictions.csv"

    result = run_script(
        "predict.py", f"checkpoint={checkpoint}", f"input={folder}", f"output={output}"
    )

    assert result.returncode == 0, result.stderr
    rows = read_rows(output)
    assert len(rows) == len(expected) + 3
    for name, tensor in expected.items():
        assert_matches(rows, name, probabilities(model, tensor[None])[0], classes)
        assert name in result.stdout
    batch_probs = probabilities(model, inputs[:3])
    for i in range(3):
        assert_matches(rows, f"batch.pt[{i}]", batch_probs[i], classes)
    assert f"predictions written to {output}" in result.stdout


def test_single_image_file_and_single_tensor(trained, tmp_path, capsys):
    model, checkpoint, datamodule = trained
    sample = datamodule.test_set.inputs[7]
    torch.save(sample.clone(), tmp_path / "one.pt")
    output = tmp_path / "p.csv"
    argv = [f"checkpoint={checkpoint}", f"input={tmp_path / 'one.pt'}", f"output={output}"]
    assert predict.main(argv) == 0
    rows = read_rows(output)
    assert_matches(rows, "one.pt", probabilities(model, sample[None])[0], datamodule.classes)
    label = rows["one.pt"][0]
    assert label in capsys.readouterr().out


def test_webp_images_are_predicted_as_training_reads_them(trained, tmp_path, capsys):
    """One image-suffix list: a .webp, which the image_folder data module trains on, is
    accepted by predict.py too (a file and a folder), prepared like the PNG it equals."""
    model, checkpoint, datamodule = trained
    pixels = to_uint8(datamodule.test_set.inputs[:1], datamodule)[0]
    folder = tmp_path / "webp"
    folder.mkdir()
    Image.fromarray(pixels, mode="L").save(folder / "x.webp", lossless=True)
    output = tmp_path / "p.csv"
    for given in (folder / "x.webp", folder):
        argv = [f"checkpoint={checkpoint}", f"input={given}", f"output={output}"]
        assert predict.main([*argv, "overwrite=true"]) == 0, capsys.readouterr().err
        probs = probabilities(model, from_uint8(pixels, datamodule)[None])[0]
        assert_matches(read_rows(output), "x.webp", probs, datamodule.classes)


def test_a_folder_says_what_it_skipped(trained, tmp_path, capsys):
    """A folder's other entries (notes, sub-folders) are not predicted, and predict.py says
    so, naming them: a silent skip hides images saved with the wrong suffix. Hidden files
    are passed over as training passes them over: a folder copied from a Mac holds
    ``.DS_Store`` and an AppleDouble ``._x.png`` beside each image, which is no image."""
    model, checkpoint, datamodule = trained
    pixels = to_uint8(datamodule.test_set.inputs[:1], datamodule)[0]
    folder = tmp_path / "mixed"
    (folder / "more_images").mkdir(parents=True)
    Image.fromarray(pixels, mode="L").save(folder / "x.png")
    (folder / "notes.txt").write_text("hi")
    (folder / "._x.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    output = tmp_path / "p.csv"
    argv = [f"checkpoint={checkpoint}", f"input={folder}", f"output={output}"]
    assert predict.main(argv) == 0, capsys.readouterr().err
    assert list(read_rows(output)) == ["x.png"]
    err = capsys.readouterr().err
    assert "skipped 2 entries that are not" in err, err
    assert "more_images/" in err and "notes.txt" in err and ".DS_Store" not in err, err
    (folder / "notes.txt").unlink()
    argv = [*argv, "overwrite=true"]
    assert predict.main(argv) == 0, capsys.readouterr().err
    assert "skipped 1 entry that is not" in capsys.readouterr().err


def test_checkpoint_without_preprocessing_recomputes_it_from_the_data(trained, tmp_path):
    """Checkpoints written before ``preprocessing`` was stored: the data module supplies it."""
    model, checkpoint, datamodule = trained
    state = torch.load(checkpoint, weights_only=True)
    del state["preprocessing"]
    torch.save(state, tmp_path / "old.pt")
    pixels = to_uint8(datamodule.test_set.inputs[:1], datamodule)[0]
    Image.fromarray(pixels, mode="L").save(tmp_path / "x.png")
    output = tmp_path / "p.csv"
    argv = [f"checkpoint={tmp_path / 'old.pt'}", f"input={tmp_path / 'x.png'}", f"output={output}"]
    assert predict.main(argv) == 0
    probs = probabilities(model, from_uint8(pixels, datamodule)[None])[0]
    assert_matches(read_rows(output), "x.png", probs, datamodule.classes)


def test_missing_checkpoint_is_a_clear_error_without_traceback(tmp_path):
    image = tmp_path / "x.png"
    Image.new("L", (8, 8)).save(image)
    result = run_script("predict.py", f"checkpoint={tmp_path / 'nope.pt'}", f"input={image}")
    assert result.returncode == 1
    assert "nope.pt does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def write_bad_input(folder, kind: str):
    """An input path that predict.py must refuse, and the message it must give."""
    if kind == "missing":
        return folder / "missing.png", "does not exist"
    if kind == "unreadable_image":
        (folder / "broken.png").write_bytes(b"not a png")
        return folder / "broken.png", "cannot read image"
    if kind == "unsupported":
        (folder / "notes.txt").write_text("hi")
        return folder / "notes.txt", "unsupported file type"
    if kind == "empty_folder":
        return folder, "holds no"
    if kind == "bad_shape":
        torch.save(torch.zeros(2, 3), folder / "t.pt")
        return folder / "t.pt", "expected"
    torch.save({"a": 1}, folder / "d.pt")
    return folder / "d.pt", "not a tensor"


@pytest.mark.parametrize(
    "kind",
    ["missing", "unreadable_image", "unsupported", "empty_folder", "bad_shape", "not_tensor"],
)
def test_bad_inputs_exit_1_with_a_message(trained, tmp_path, capsys, kind):
    _, checkpoint, _ = trained
    folder = tmp_path / "inputs"
    folder.mkdir()
    path, message = write_bad_input(folder, kind)
    output = f"output={tmp_path / 'p.csv'}"  # not the cwd: a predictions.csv there is refused
    assert predict.main([f"checkpoint={checkpoint}", f"input={path}", output]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err


def test_missing_keys_are_usage_errors(capsys):
    assert predict.main(["input=x.png"]) == 2
    assert "missing checkpoint=" in capsys.readouterr().err
    assert predict.main(["checkpoint=x.pt"]) == 2
    assert "missing input=" in capsys.readouterr().err
