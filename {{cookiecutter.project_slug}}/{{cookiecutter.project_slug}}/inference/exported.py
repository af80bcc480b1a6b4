"""Models for inference from any file predict.py accepts: a training checkpoint (``.pt``),
an ONNX file run by ONNX Runtime (``.onnx``) or exported weights (``.safetensors``).
Each gives the same ``Predictor``: logits, class names and the preprocessing recorded
at training time, so inputs are prepared the same way.

export.py writes the metadata read here (``inference_metadata``) inside the file: the
ONNX file's ``metadata_props`` and the safetensors header's ``__metadata__`` (both under
the key ``inference``, as JSON), so an export is one file, written by one rename.
"""

import importlib
import json
from pathlib import Path

import torch
from omegaconf import OmegaConf

from ..config import load_config
from ..saver import CheckpointError, require_finite_weights
from ..utils.errors import UserError, first_line
from .loading import Trained, check_metadata, rebuild_trained
from .predictor import LOADERS, Predictor, load_checkpoint_predictor, predictor_from_trained

METADATA_KEY = "inference"  # the key of the JSON metadata inside an exported file
INPUT_NAME, OUTPUT_NAME = "input", "logits"
EXPORTED_SUFFIXES = (".onnx", ".safetensors")
INSTALL_HINT = "pip install -e '.[export]'"


class ExportError(UserError):
    """An export that cannot be made, read or trusted; the message names the file."""


def require_packages(packages: tuple[str, ...], purpose: str) -> None:
    """One line saying how to install the optional export tools when any is missing."""
    missing = []
    for name in packages:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(
            f"{purpose} needs {', '.join(missing)} (the optional export tools); "
            f"install them with: {INSTALL_HINT}"
        )


def inference_metadata(trained: Trained, export_format: str) -> dict:
    """Everything besides the weights that rebuilds the model and prepares its inputs."""
    return {
        "format": export_format,
        "classes": list(trained.classes),
        "preprocessing": dict(trained.preprocessing),
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "config": OmegaConf.to_container(trained.config, resolve=True),
    }


def load_predictor(path: Path, overrides: list[str]) -> Predictor:
    """A checkpoint, an ONNX file or ``.safetensors`` weights, chosen by the suffix."""
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return load_onnx(path, overrides)
    if suffix == ".safetensors":
        return predictor_from_trained(load_safetensors(path, overrides))
    if suffix == ".pt2":
        raise ExportError(
            f"{path}: predict.py does not run torch.export programs (.pt2); export the "
            "checkpoint with format=onnx or format=safetensors, or give the .pt checkpoint"
        )
    return load_checkpoint_predictor(path, overrides)


for _suffix in (*EXPORTED_SUFFIXES, ".pt2"):  # predict.py reads these files through here
    LOADERS[_suffix] = load_predictor


def load_safetensors(path: Path, overrides: list[str]) -> Trained:
    """Weights read without pickle, rebuilt into the model their header describes."""
    require_packages(("safetensors",), f"reading {path.name}")
    _require_file(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ExportError(f"cannot read safetensors file {path}: {error.strerror}") from None
    return rebuild_trained(read_safetensors(data, path), path, overrides)


def read_safetensors(data: bytes, source: Path) -> dict:
    """The bytes of an exported ``.safetensors`` file as a checked checkpoint dict:
    ``model`` (the weights, finite) and export.py's metadata from the file's header."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        weights = load(data)
    except (SafetensorError, ValueError) as error:
        raise ExportError(f"cannot read safetensors file {source}: {first_line(error)}") from None
    # The format: an 8-byte little-endian header size, then the JSON header (valid: the
    # weights were just read from it), whose "__metadata__" maps str -> str.
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    raw = (header.get("__metadata__") or {}).get(METADATA_KEY)
    if raw is None:
        raise ExportError(
            f"{source} holds no export metadata in its header (classes, preprocessing, "
            "config): not written by this version of export.py (older ones wrote a .json "
            "sidecar); export the checkpoint again"
        )
    try:
        metadata = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ExportError(f"{source}: its export metadata is not JSON ({error})") from None
    require_finite_weights(weights, source)
    return {"model": weights, **_checked_metadata(metadata, source)}


def _checked_metadata(metadata, source: Path) -> dict:
    keys = ("classes", "preprocessing", "config")
    if not isinstance(metadata, dict) or any(key not in metadata for key in keys):
        raise ExportError(
            f"{source} holds no export metadata (expected a JSON object with "
            f"{', '.join(keys)}); it was not written by export.py"
        )
    if not isinstance(metadata["config"], dict):
        raise ExportError(f"{source}: 'config' is not a JSON object; not written by export.py")
    check_metadata(metadata["preprocessing"], metadata["classes"], source)
    return metadata


def load_onnx(path: Path, overrides: list[str]) -> Predictor:
    """An ONNX Runtime session (CPU) with the metadata export.py stored in the file."""
    require_packages(("onnxruntime",), f"running {path.name}")
    _require_file(path)
    try:
        session = onnx_session(str(path))
    except Exception as error:  # ORT raises its own Fail/InvalidGraph/... classes
        raise ExportError(f"cannot load ONNX model {path}: {first_line(error)}") from None
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    try:
        metadata = json.loads(raw) if raw is not None else None
    except json.JSONDecodeError as error:
        raise ExportError(f"{path}: its export metadata is not JSON ({error})") from None
    metadata = _checked_metadata(metadata, path)
    _require_onnx_fits(session, metadata, path)
    # Overrides (e.g. data.eval_batch_size=64) are checked like a checkpoint's.
    config = load_config(overrides=overrides, base=metadata["config"])
    input_name = metadata.get("input_name", INPUT_NAME)

    def logits(batch: torch.Tensor) -> torch.Tensor:
        inputs = batch.detach().cpu().float().numpy()
        return torch.from_numpy(session.run(None, {input_name: inputs})[0])

    return Predictor(
        logits, list(metadata["classes"]), metadata["preprocessing"], config.data.eval_batch_size
    )


def _require_onnx_fits(session, metadata: dict, path: Path) -> None:
    """The graph's input and output agree with the metadata beside them (a metadata
    edited by hand would give an ONNX Runtime error, or class names that run out)."""
    expected = list(metadata["preprocessing"]["input_shape"])
    name = metadata.get("input_name", INPUT_NAME)
    inputs = {i.name: i.shape for i in session.get_inputs()}
    shape = inputs.get(name)
    fixed = shape is not None and len(shape) == len(expected) + 1
    if not fixed or any(
        isinstance(d, int) and d != e for d, e in zip(shape[1:], expected, strict=True)
    ):
        raise ExportError(
            f"{path}: its metadata says input {name!r} of shape [batch, "
            f"{', '.join(map(str, expected))}], the ONNX graph takes {inputs}; the metadata was "
            "changed after export: export the checkpoint again"
        )
    classes = len(metadata["classes"])
    outputs = session.get_outputs()[0].shape
    if outputs and isinstance(outputs[-1], int) and outputs[-1] != classes:
        raise ExportError(
            f"{path}: the ONNX graph gives {outputs[-1]} logits, its metadata names {classes} "
            "classes; the metadata was changed after export: export the checkpoint again"
        )


def onnx_session(model: str | bytes):
    """A CPU ONNX Runtime session using as many threads as torch (``OMP_NUM_THREADS``,
    ``trainer.num_threads``), not every core of the machine."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def _require_file(path: Path) -> None:
    if not path.is_file():
        where = "is a folder" if path.is_dir() else "does not exist"
        raise CheckpointError(f"model file {path} {where}")
