"""MNIST-format IDX files, checked and read: a bad file is one clear error naming it.
(Read here, not by torchvision.datasets: the format is a header and bytes, and importing
torchvision costs an MNIST run ~0.08 s before its first step, or ~1.2 s where nothing has
imported torch._dynamo yet: torchvision.ops imports it. The first optimizer does too.)

An IDX file is a big-endian header (a magic number, then one 32-bit size per
dimension) followed by the uint8 values: images are (N, rows, cols), labels (N,).
"""

import math
import struct
from pathlib import Path

import numpy as np
import torch

from ..utils.errors import DataError

KINDS = {"images": (2051, 3), "labels": (2049, 1)}  # magic number, dimensions
GZIP_MAGIC = b"\x1f\x8b"


def idx_shape(path: Path, kind: str) -> tuple[int, ...]:
    """The shape an IDX ``kind`` file ("images" or "labels") declares, once its magic
    number and its size are checked against the header."""
    magic, ndim = KINDS[kind]
    expected = f"an uncompressed IDX {kind} file (magic number {magic})"
    if path.is_dir():
        raise DataError(f"{path} is a folder; expected {expected}")
    size = path.stat().st_size
    header_size = 4 + 4 * ndim
    with path.open("rb") as handle:
        header = handle.read(header_size)
    if size == 0:
        raise DataError(f"{path} is empty (0 bytes); expected {expected}; copy the file again")
    if header.startswith(GZIP_MAGIC):
        raise DataError(f"{path} is gzip-compressed; decompress it (gunzip) to get {expected}")
    if len(header) < header_size:
        raise DataError(f"{path} is truncated: {size} bytes, shorter than the IDX header")
    found = int.from_bytes(header[:4], "big")
    if found != magic:
        other = next((name for name, (m, _) in KINDS.items() if m == found), None)
        hint = f" (that of an IDX {other} file: are two files swapped?)" if other else ""
        raise DataError(f"{path} has magic number {found}{hint}; expected {expected}")
    shape = struct.unpack(f">{ndim}I", header[4:])
    needed = header_size + math.prod(shape)
    if size != needed:
        problem = "truncated" if size < needed else "longer than its header says"
        raise DataError(
            f"{path} is {problem}: its header declares {kind} of shape {shape} "
            f"({needed} bytes) but the file has {size} bytes; copy the file again"
        )
    if shape[0] == 0:
        raise DataError(f"{path} holds no {kind}")
    return shape


def read_idx(path: Path, kind: str) -> torch.Tensor:
    """The values of an IDX ``kind`` file, its header checked first, as a uint8 tensor of
    the shape it declares."""
    shape = idx_shape(path, kind)
    values = np.fromfile(path, dtype=np.uint8, offset=4 + 4 * len(shape))
    return torch.from_numpy(values.reshape(shape))


def read_idx_pair(images: Path, labels: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One split's images (N, rows, cols) and labels (N,), checked to agree in count."""
    image_values, label_values = read_idx(images, "images"), read_idx(labels, "labels")
    count, label_count = len(image_values), len(label_values)
    if count != label_count:
        raise DataError(
            f"{images} holds {count} images but {labels} holds {label_count} labels; "
            "each image needs one label: copy the two files of the same split again"
        )
    return image_values, label_values.long()
