"""Export a trained model for inference, and check the export before it is written:

- ``safetensors``: the weights (no pickle) with the metadata (classes, preprocessing,
  config) as JSON in the file's header, rebuilt from the bytes into a fresh model;
- ``onnx``: ``torch.onnx.export(dynamo=True)`` (the exporter torch recommends), batch
  dimension dynamic, metadata inside the file, run in ONNX Runtime;
- ``torch_export``: a ``torch.export`` program (``.pt2``), loaded back with
  ``torch.export.load``.

Each export runs on the same random inputs (batches of 1 and 7, not the batch size it was
traced with) as the PyTorch model; the largest absolute difference in the logits must not
exceed ``tolerance``, or nothing is written.
"""

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from ..utils.errors import ConfigError
from .exported import (
    INPUT_NAME,
    METADATA_KEY,
    OUTPUT_NAME,
    ExportError,
    inference_metadata,
    onnx_session,
    predictor_from_trained,
    read_safetensors,
)
from .loading import Trained, rebuild_trained

SUFFIXES = {"safetensors": ".safetensors", "onnx": ".onnx", "torch_export": ".pt2"}
PACKAGES = {
    "safetensors": ("safetensors",),
    "onnx": ("onnx", "onnxscript", "onnxruntime"),
    "torch_export": (),
}
DEFAULT_TOLERANCE = 1e-4
CHECK_BATCHES = (1, 7)  # traced with 2: the checks also exercise the dynamic batch size
PT2_METADATA_FILE = "inference.json"


@dataclass
class Exported:
    data: bytes  # the file's content (metadata inside), written only after the check passed
    max_abs_diff: float
    checked_inputs: int


def export_model(trained: Trained, export_format: str, output: Path, tolerance: float) -> Exported:
    """The exported file as bytes, checked against the PyTorch model."""
    model = trained.model.float().cpu().eval()
    metadata = inference_metadata(trained, export_format)
    shape = tuple(trained.preprocessing["input_shape"])
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randn(n, *shape, generator=generator) for n in CHECK_BATCHES]
    if export_format == "safetensors":
        data, run = _safetensors(model, metadata, output)
    elif export_format == "onnx":
        data, run = _onnx(model, metadata, shape)
    else:
        data, run = _torch_export(model, metadata, shape)
    with torch.no_grad():
        diff = max(float((run(x) - model(x)).abs().max()) for x in batches)
    if not diff <= tolerance:  # also refuses NaN
        raise ExportError(
            f"format={export_format}: the exported model's logits differ from PyTorch's by up "
            f"to {diff:.3g} on {sum(CHECK_BATCHES)} random inputs, more than tolerance="
            f"{tolerance:g}; nothing was written to {output} (raise tolerance= only if "
            "this difference is acceptable)"
        )
    return Exported(data, diff, sum(CHECK_BATCHES))


def _safetensors(model, metadata: dict, output: Path):
    from safetensors.torch import save

    weights = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    # One file (metadata in the header): replaced by one rename, never half an export.
    data = save(weights, metadata={METADATA_KEY: json.dumps(metadata)})
    # Rebuilt as predict.py will: from the bytes only, in a fresh model.
    rebuilt = predictor_from_trained(rebuild_trained(read_safetensors(data, output), output, []))
    return data, rebuilt.logits


def _onnx(model, metadata: dict, shape: tuple):
    example = torch.zeros(2, *shape)
    batch = torch.export.Dim("batch", min=1)
    program = torch.onnx.export(
        model,
        (example,),
        dynamo=True,
        dynamic_shapes=({0: batch},),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        external_data=False,  # one self-contained file (fine below 2 GB)
        verbose=False,
    )
    program.model.metadata_props[METADATA_KEY] = json.dumps(metadata)
    data = program.model_proto.SerializeToString()
    session = onnx_session(data)

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {INPUT_NAME: x.numpy()})[0])

    return data, run


def _torch_export(model, metadata: dict, shape: tuple):
    example = torch.zeros(2, *shape)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
    buffer = io.BytesIO()
    torch.export.save(program, buffer, extra_files={PT2_METADATA_FILE: json.dumps(metadata)})
    data = buffer.getvalue()
    loaded = torch.export.load(io.BytesIO(data)).module()
    return data, loaded


# export.py's arguments, checked before anything is loaded or written.
def parse_format(value: str | None) -> str:
    if value is None or value not in SUFFIXES:
        given = "missing format=" if value is None else f"format={value!r} is not allowed"
        raise ConfigError(f"{given}; use format={' | '.join(SUFFIXES)}")
    return value


def parse_tolerance(value: str | None) -> float:
    if value is None:
        return DEFAULT_TOLERANCE
    try:
        tolerance = float(value)
    except ValueError:
        tolerance = math.nan
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ConfigError(f"tolerance={value!r} is not allowed; use a number >= 0, e.g. 1e-4")
    return tolerance


def parse_output(value: str | None, checkpoint: Path, export_format: str) -> Path:
    suffix = SUFFIXES[export_format]
    if value is None:
        return checkpoint.with_suffix(suffix)
    output = Path(value)
    if output.suffix.lower() != suffix:
        raise ConfigError(f"output={value} does not end in {suffix}, the suffix of {export_format}")
    return output
