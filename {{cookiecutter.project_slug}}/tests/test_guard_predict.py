"""Guard rails for predict.py's inputs and output: decompression bombs, empty, corrupt or
non-finite inputs and unusable output paths end in one ``error:`` line naming the file
(exit 1), checked before anything is written; an existing output is replaced only with
``overwrite=true``."""

import os
import signal
import socket
import struct
import zlib
from pathlib import Path

import pytest
import torch
from PIL import Image

from .conftest import PROJECT_ROOT, run_script
from .guard_tools import assert_one_error_line, snapshot, train_tiny_run

# Real script runs, many per test; the option bakes skip them (they test no option).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, data_root) -> Path:
    run_dir = train_tiny_run(tmp_path_factory.mktemp("guard_predict") / "run", data_root)
    return run_dir / "checkpoints" / "best.pt"


@pytest.fixture(scope="module")
def input_shape(checkpoint) -> tuple[int, int, int]:
    return tuple(torch.load(checkpoint, weights_only=True)["preprocessing"]["input_shape"])


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_huge_png(path: Path, width: int, height: int) -> Path:
    """A real, valid 1-bit black PNG: billions of pixels' worth of rows compress to a few
    tens of kilobytes, which is exactly what makes such a file a decompression bomb."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )
    return path


def write_noise_png(path: Path) -> bytes:
    Image.effect_noise((64, 64), 60).convert("L").save(path)
    return path.read_bytes()


def write_bad_input(kind: str, folder: Path, shape: tuple[int, int, int]):
    """An input predict.py must refuse: (input path, file the message names, fragments)."""
    if kind == "bomb_over_twice_the_limit":  # PIL raises DecompressionBombError
        path = write_huge_png(folder / "huge.png", 20_000, 20_000)
        return path, path, ["too large to decode safely", "MAX_IMAGE_PIXELS"]
    if kind == "bomb_over_the_limit":  # PIL only warns, then would decode 10^8 pixels
        path = write_huge_png(folder / "big.png", 10_000, 10_000)
        return path, path, ["too large to decode safely"]
    if kind == "bomb_in_a_folder":  # a good image first: nothing is written either
        Image.new("L", shape[:0:-1], 128).save(folder / "a_good.png")
        path = write_huge_png(folder / "b_huge.png", 20_000, 20_000)
        return folder, path, ["too large to decode safely"]
    if kind == "truncated_image":
        data = write_noise_png(folder / "cut.png")
        (folder / "cut.png").write_bytes(data[: len(data) // 2])
        return folder / "cut.png", folder / "cut.png", ["cannot read image", "truncated"]
    if kind == "corrupt_image_header":  # a flipped byte in IHDR: its checksum fails
        data = bytearray(write_noise_png(folder / "flip.png"))
        data[data.index(b"IHDR") + 6] ^= 0xFF
        (folder / "flip.png").write_bytes(bytes(data))
        return folder / "flip.png", folder / "flip.png", ["cannot read image"]
    if kind == "empty_tensor":
        torch.save(torch.zeros(0, *shape), folder / "none.pt")
        return folder / "none.pt", folder / "none.pt", ["empty tensor", "(0, "]
    if kind == "folder_of_an_empty_tensor":
        torch.save(torch.zeros(0, *shape), folder / "none.pt")
        return folder, folder / "none.pt", ["empty tensor"]
    assert kind == "nan_tensor"
    tensor = torch.zeros(2, *shape)
    tensor[1, 0, 0, 0] = float("nan")
    torch.save(tensor, folder / "nan.pt")
    return folder / "nan.pt", folder / "nan.pt", ["NaN or inf"]


INPUT_KINDS = [
    "bomb_over_twice_the_limit",
    "bomb_over_the_limit",
    "bomb_in_a_folder",
    "truncated_image",
    "corrupt_image_header",
    "empty_tensor",
    "folder_of_an_empty_tensor",
    "nan_tensor",
]


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_bad_input_is_one_line_naming_the_file(checkpoint, input_shape, tmp_path, kind):
    folder = tmp_path / "inputs"
    folder.mkdir()
    path, named, fragments = write_bad_input(kind, folder, input_shape)
    before = snapshot(tmp_path)

    proc = run_script("predict.py", f"checkpoint={checkpoint}", f"input={path}", cwd=tmp_path)

    assert_one_error_line(proc, 1, str(named), *fragments)
    assert snapshot(tmp_path) == before  # no predictions.csv in the cwd


def a_good_image(folder: Path, shape: tuple[int, int, int]) -> Path:
    path = folder / "digit.png"
    Image.new("L", shape[:0:-1], 128).save(path)
    return path


@pytest.mark.parametrize("where", ["folder", "under_a_file"])
def test_output_that_cannot_be_a_file_is_refused(checkpoint, input_shape, tmp_path, where):
    image = a_good_image(tmp_path, input_shape)
    output = tmp_path if where == "folder" else image / "predictions.csv"
    fragment = "is a folder" if where == "folder" else "digit.png is a file, not a folder"
    before = snapshot(tmp_path)

    proc = run_script(
        "predict.py", f"checkpoint={checkpoint}", f"input={image}", f"output={output}"
    )

    assert_one_error_line(proc, 1, f"output={output}", fragment)
    assert snapshot(tmp_path) == before


def test_existing_output_is_replaced_only_with_overwrite(checkpoint, input_shape, tmp_path):
    image = a_good_image(tmp_path, input_shape)
    default_output = tmp_path / "predictions.csv"  # a file of the user's, in the cwd
    default_output.write_text("the user's own predictions.csv\n")
    args = [f"checkpoint={checkpoint}", f"input={image}", "output=predictions.csv"]

    proc = run_script("predict.py", *args, cwd=tmp_path)
    assert_one_error_line(proc, 1, "output=predictions.csv already exists", "overwrite=true")
    assert default_output.read_text() == "the user's own predictions.csv\n"

    proc = run_script("predict.py", *args, "overwrite=true", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert default_output.read_text().startswith("file,class,probability\n")
    assert "predictions written to predictions.csv" in proc.stdout


def test_by_default_predictions_go_into_the_checkpoints_run(checkpoint, input_shape, tmp_path):
    """Never into the cwd (the project root, where a later run would find it in the way):
    into ``<run>/predictions.csv``, the run's own file, replaced on the next prediction."""
    image = a_good_image(tmp_path, input_shape)
    run_csv = checkpoint.parent.parent / "predictions.csv"
    run_csv.unlink(missing_ok=True)
    before = snapshot(tmp_path)
    for replaced in (False, True):
        proc = run_script("predict.py", f"checkpoint={checkpoint}", f"input={image}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert snapshot(tmp_path) == before  # nothing in the cwd
        assert run_csv.read_text().startswith("file,class,probability\n")
        assert f"predictions written to {run_csv}" in proc.stdout
        assert ("replaced the previous one" in proc.stdout) == replaced


def test_a_checkpoint_outside_a_run_prints_and_says_how_to_save(checkpoint, input_shape, tmp_path):
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    copy = elsewhere / "model.pt"
    copy.write_bytes(checkpoint.read_bytes())
    image = a_good_image(tmp_path, input_shape)
    before = snapshot(tmp_path)
    proc = run_script("predict.py", f"checkpoint={copy}", f"input={image}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(tmp_path) == before  # not beside the checkpoint, not in the cwd
    assert "digit.png" in proc.stdout and "output=<file.csv>" in proc.stdout


def test_a_folder_with_a_config_and_checkpoints_is_not_a_run_unless_train_py_marked_it(
    checkpoint, input_shape, tmp_path
):
    """A service folder: its own config.yaml beside checkpoints/, and the user's
    predictions.csv. Not a run (train.py never claimed it): nothing there is replaced."""
    service = tmp_path / "svc"
    (service / "checkpoints").mkdir(parents=True)
    (service / "checkpoints" / "best.pt").write_bytes(checkpoint.read_bytes())
    (service / "config.yaml").write_text("port: 8080\n")
    (service / "predictions.csv").write_text("the service's own predictions\n")
    image = a_good_image(tmp_path, input_shape)
    before = snapshot(tmp_path)

    proc = run_script(
        "predict.py", f"checkpoint={service / 'checkpoints' / 'best.pt'}", f"input={image}"
    )

    assert proc.returncode == 0, proc.stderr
    assert snapshot(tmp_path) == before
    assert "predictions not saved: the checkpoint is not in a run directory" in proc.stdout
    assert (checkpoint.parent.parent / ".run").is_file()  # what train.py's runs record


KILLED_WHILE_WRITING = """\
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import predict
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # die before the rename
predict.main(sys.argv[2:])
"""


def test_the_temporary_file_of_a_killed_predict_is_removed_by_the_next(
    checkpoint, input_shape, tmp_path
):
    """SIGKILL runs no handler: the next predict.py writing that output removes what a
    dead writer of it left, and keeps a live writer's file (here: this test's)."""
    image = a_good_image(tmp_path, input_shape)
    output = tmp_path / "out" / "p.csv"
    args = [f"checkpoint={checkpoint}", f"input={image}", f"output={output}"]
    killer = tmp_path / "killer.py"
    killer.write_text(KILLED_WHILE_WRITING)
    proc = run_script(str(killer), str(PROJECT_ROOT), *args)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = list(output.parent.glob(".p.csv.*.tmp"))
    assert len(left) == 1 and not output.exists(), left
    live = output.parent / f".p.csv.{os.getpid()}@{socket.gethostname()}.x1.tmp"
    live.write_text("a write in progress")

    proc = run_script("predict.py", *args)

    assert proc.returncode == 0, proc.stderr
    assert output.read_text().startswith("file,class,probability\n")
    assert sorted(output.parent.iterdir()) == [live, output]
