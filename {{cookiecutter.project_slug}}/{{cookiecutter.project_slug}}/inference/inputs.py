"""predict.py's work: the inputs named by ``input=`` (images, ``.pt`` tensors, ``.csv``
feature rows, or a folder of them) prepared exactly like the training data, run through a
predictor, and the predictions written as CSV. Every input is checked before anything is
written."""

import io
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..data.base import normalize
from ..data.images import IMAGE_SUFFIXES, check_pixel_count, prepare_image, visible
from ..data.table_file import read_csv_table
from ..saver import check_output_file, output_destination, write_output
from ..utils.csv_output import write_rows
from ..utils.errors import DataError, UserError, first_line
from .predictor import Predictor, load_predictor

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")  # only these decoders ever see a user's file
TENSOR_SUFFIXES = (".pt",)
TABLE_SUFFIXES = (".csv",)  # rows of features, for models trained on data.name=csv
RUN_PREDICTIONS_FILE = "predictions.csv"  # in the checkpoint's run directory


class PredictInputError(UserError):
    """An input path or file cannot be used; the message names it and says why."""


def collect_inputs(path: Path) -> list[Path]:
    """The image, tensor and table files named by ``input=`` (a file, or a folder's files)."""
    if not path.exists():
        raise PredictInputError(f"input {path} does not exist")
    suffixes = IMAGE_SUFFIXES + TENSOR_SUFFIXES + TABLE_SUFFIXES
    if path.is_file():
        if path.suffix.lower() not in suffixes:
            raise PredictInputError(f"input {path}: unsupported file type; use {list(suffixes)}")
        return [path]
    files, skipped = [], []
    for entry in sorted(filter(visible, path.iterdir())):
        if entry.is_file() and entry.suffix.lower() in suffixes:
            files.append(entry)
        else:
            skipped.append(entry.name + ("/" if entry.is_dir() else ""))
    if not files:
        raise PredictInputError(f"input folder {path} holds no {'/'.join(suffixes)} files")
    if skipped:
        # Said, not silent: an image saved as .bmp or in a sub-folder would go unpredicted.
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        entries = "1 entry that is" if len(skipped) == 1 else f"{len(skipped)} entries that are"
        print(
            f"note: input folder {path}: skipped {entries} not "
            f"{'/'.join(suffixes)} files ({', '.join(skipped[:3])}{more})",
            file=sys.stderr,
        )
    return files


def load_image(path: Path, preprocessing: dict) -> torch.Tensor:
    """A PNG/JPG/WebP image as one normalized model input of shape ``input_shape``: through the
    checkpoint's eval transforms (image_folder data), else converted and resized."""
    channels, height, width = preprocessing["input_shape"]
    transformed = "eval_transforms" in preprocessing
    try:
        # A header claiming more than MAX_IMAGE_PIXELS pixels is refused before decoding
        # (a decompression bomb), by the rule the training data follows.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=IMAGE_FORMATS) as image:
                check_pixel_count(path, image.size)
                if transformed:  # header checked; decoded by torchvision below
                    return prepare_image(path, preprocessing)
                image = image.convert("L" if channels == 1 else "RGB")
                if image.size != (width, height):
                    # Area averaging when shrinking (no aliasing); bilinear when enlarging.
                    shrinking = image.width >= width and image.height >= height
                    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
                    image = image.resize((width, height), resample)
                array = np.asarray(image, dtype=np.uint8)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        check_pixel_count(path, None)  # raises: too large
    except UnidentifiedImageError:
        raise PredictInputError(
            f"cannot read image {path}: not a readable {' or '.join(IMAGE_FORMATS)} image "
            "(corrupt, or another format)"
        ) from None
    except UserError:
        raise
    except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, zlib.error...
        raise PredictInputError(f"cannot read image {path}: {first_line(error)}") from None
    pixels = torch.from_numpy(array.copy()).float() / 255.0
    pixels = pixels.unsqueeze(0) if pixels.ndim == 2 else pixels.permute(2, 0, 1)
    return normalize(pixels, preprocessing.get("mean"), preprocessing.get("std"))


def load_tensor(path: Path, preprocessing: dict) -> tuple[list[str], torch.Tensor]:
    """A saved tensor of model inputs; names ``file.pt[i]`` for a batch."""
    try:
        tensor = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refused, corrupt zip, not a torch file...
        raise PredictInputError(f"cannot read tensor file {path}: {first_line(error)}") from None
    expected = tuple(preprocessing["input_shape"])
    if not isinstance(tensor, torch.Tensor):
        raise PredictInputError(f"{path} holds a {type(tensor).__name__}, not a tensor")
    if tensor.numel() == 0:
        raise PredictInputError(
            f"{path} holds an empty tensor of shape {tuple(tensor.shape)}: nothing to predict"
        )
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise PredictInputError(f"{path} holds a {tensor.dtype} tensor; expected real numbers")
    if not bool(torch.isfinite(tensor).all()):
        raise PredictInputError(f"{path} holds NaN or inf values; inputs must be finite")
    if tuple(tensor.shape) == expected:
        return [path.name], tensor.unsqueeze(0).float()
    if tensor.ndim == len(expected) + 1 and tuple(tensor.shape[1:]) == expected:
        return [f"{path.name}[{i}]" for i in range(len(tensor))], tensor.float()
    raise PredictInputError(
        f"{path} holds a tensor of shape {tuple(tensor.shape)}; expected {expected} "
        f"or (N, {', '.join(map(str, expected))}), normalized like the training data"
    )


def load_table(path: Path, preprocessing: dict) -> tuple[list[str], torch.Tensor]:
    """Rows of a CSV with the feature columns the checkpoint records (any order; other
    columns, such as the label, ignored), read by the training data's rules and
    standardized like the training data; each is named ``file.csv:<line>``."""
    features = preprocessing.get("features")
    if not features:
        raise PredictInputError(
            f"{path}: this model was not trained on a table (data.name=csv); "
            f"give it {'/'.join(IMAGE_SUFFIXES + TENSOR_SUFFIXES)} files"
        )
    try:
        table = read_csv_table(path, features=list(features))
    except DataError as error:
        raise PredictInputError(str(error)) from None
    mean, std = torch.tensor(preprocessing["mean"]), torch.tensor(preprocessing["std"])
    return [f"{path.name}:{line}" for line in table.lines], (table.values - mean) / std


def load_inputs(files: list[Path], preprocessing: dict) -> tuple[list[str], torch.Tensor]:
    names, tensors = [], []
    for path in files:
        if path.suffix.lower() in TABLE_SUFFIXES:
            file_names, batch = load_table(path, preprocessing)
        elif path.suffix.lower() in TENSOR_SUFFIXES:
            file_names, batch = load_tensor(path, preprocessing)
        else:
            file_names, batch = [path.name], load_image(path, preprocessing).unsqueeze(0)
        names += file_names
        tensors.append(batch)
    return names, torch.cat(tensors)


def predict_probabilities(predictor: Predictor, inputs: torch.Tensor) -> torch.Tensor:
    """Softmax class probabilities, computed ``batch_size`` inputs at a time."""
    batches = inputs.split(predictor.batch_size)
    return torch.cat([predictor.logits(batch).softmax(dim=1) for batch in batches])


def classify(predictor: Predictor, files: list[Path]) -> tuple[list[str], torch.Tensor]:
    """Each input's name and softmax class probabilities, ``(N, classes)``: every file
    checked and prepared exactly as for training (the web demo uses it too)."""
    names, inputs = load_inputs(files, predictor.preprocessing)
    return names, predict_probabilities(predictor, inputs)


def write_csv(path: Path, rows: list[tuple[str, str, float]]) -> None:
    buffer = io.StringIO(newline="")
    write_rows(buffer, ["file", "class", "probability"], ((n, c, f"{p:.6f}") for n, c, p in rows))
    write_output(path, buffer.getvalue())


def predictions_destination(checkpoint_path: Path, output: Path | None, overwrite: bool):
    """The CSV the predictions go to (None: print only), checked before any work."""
    return output_destination(checkpoint_path, output, overwrite, RUN_PREDICTIONS_FILE, "file")


def predict(
    checkpoint_path: Path,
    input_path: Path,
    output: Path | None,
    overrides: list[str],
    overwrite: bool = False,
) -> list[tuple[str, str, float]]:
    """Run the checkpoint's model on every input; write ``output`` (None: nothing) and return
    (file, class, probability). Every input is checked before ``output`` is written; an
    existing ``output`` is replaced only with ``overwrite`` (predict.py passes the run's own
    file with ``overwrite=True``)."""
    if output is not None:
        check_output_file(output, overwrite)
    files = collect_inputs(input_path)
    predictor = load_predictor(checkpoint_path, overrides)
    classes = predictor.classes
    names, probabilities = classify(predictor, files)
    best, indices = probabilities.max(dim=1)
    rows = [
        (n, classes[i], p) for n, i, p in zip(names, indices.tolist(), best.tolist(), strict=True)
    ]
    if output is not None:
        write_csv(output, rows)
    return rows
