"""Image files to model inputs: decoding with ``torchvision.io`` (no per-item PIL), the
transform pipeline from config, and per-sample seeding of random augmentation.

Shared by the ``image_folder`` data module and predict.py, so a new image is prepared
exactly like the training data.
"""

import os
import re
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch

from ..config.transforms import build_transform
from ..utils.errors import ConfigError, DataError, first_line, fold_message

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def hidden(name: str) -> bool:
    """A hidden file's or folder's name: the one rule of ``visible`` (and of the training
    scan's listing, which reads names without making paths)."""
    return name.startswith(".")


def visible(path: Path, under: Path | None = None) -> bool:
    """False for hidden files and folders, which are never data, in training's folders and
    predict's: a folder copied from a Mac holds ``.DS_Store`` and an AppleDouble
    ``._x.png`` (no image) beside each image; Jupyter and thumbnailers add hidden folders.
    ``under``: a folder holding ``path``, whose hidden sub-folders count too."""
    parts = path.relative_to(under).parts if under is not None else (path.name,)
    return not any(hidden(part) for part in parts)


class BadImageError(DataError):
    """An image file cannot be read or decoded; the message names it."""


def sniff_format(head: bytes) -> str | None:
    """The image format from a file's first bytes (None: not an image this reads)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


# One pixel limit for training and predict.py: PIL's (about 89 megapixels). A file
# whose header claims more is refused before decoding: a small PNG can expand to
# gigabytes (a decompression bomb). PIL itself is imported only when a header is read:
# start-up (and a run on MNIST or digits) never loads it.
MAX_IMAGE_PIXELS = 1024 * 1024 * 1024 // 4 // 3  # PIL's default Image.MAX_IMAGE_PIXELS


def check_pixel_count(path: Path, size: tuple[int, int] | None) -> None:
    """``size``: (width, height) from the header; None when PIL refused it as too large."""
    if size is None or size[0] * size[1] > MAX_IMAGE_PIXELS:
        claimed = "" if size is None else f" ({size[0]}x{size[1]})"
        raise BadImageError(
            f"image {path} is too large to decode safely{claimed}: more than "
            f"MAX_IMAGE_PIXELS={MAX_IMAGE_PIXELS} pixels, a possible decompression bomb; "
            "resize it first"
        )


def header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the header alone (PIL opens lazily and decodes nothing);
    None if it is beyond what PIL opens at all. The limit is check_pixel_count's."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                return image.size
        except Image.DecompressionBombError:
            return None
        except Exception as error:  # noqa: BLE001 - PIL raises many kinds for a bad header
            raise BadImageError(f"cannot read image {path}: {first_line(error)}") from None


# Where the end marker is looked for: cameras and phones may append data after it.
TAIL_BYTES = 64 * 1024


def check_image_file(path: Path) -> tuple[int, int] | None:
    """Cheap checks without decoding: not empty, a JPEG/PNG/WebP by its first bytes,
    not cut short (its end marker is there), at most MAX_IMAGE_PIXELS by its header.
    Returns (width, height)."""
    try:
        with open(path, "rb") as file:
            head = file.read(32)
            file.seek(max(0, file.seek(0, os.SEEK_END) - TAIL_BYTES))
            tail = file.read(TAIL_BYTES)
    except OSError as error:
        raise BadImageError(f"cannot read image {path}: {error.strerror}") from None
    if not head:
        raise BadImageError(f"image {path} is an empty file")
    kind = sniff_format(head)
    if kind is None:
        raise BadImageError(
            f"{path} is not a JPEG, PNG or WebP image (its content, whatever its name); "
            "remove it from the data folder or set data.skip_bad_images=true"
        )
    if _truncated(kind, head, tail, path):
        raise BadImageError(
            f"image {path} is truncated (the {kind} file ends before its end marker); "
            "copy it again, remove it, or set data.skip_bad_images=true"
        )
    size = header_size(path)
    check_pixel_count(path, size)
    return size


def _truncated(kind: str, head: bytes, tail: bytes, path: Path) -> bool:
    if kind == "JPEG":  # ends with EOI (some writers pad after it)
        return b"\xff\xd9" not in tail
    if kind == "PNG":  # the IEND chunk
        return b"IEND" not in tail
    declared = int.from_bytes(head[4:8], "little") + 8  # WebP: RIFF size + header
    return path.stat().st_size < declared


def check_png_chunks(data: bytes, path: str | Path) -> None:
    """Every chunk's CRC, before libpng sees the file: torchvision's PNG decoder crashes
    the whole process (a segmentation fault, no message) on corrupt compressed data,
    which a flipped byte anywhere in it gives. zlib's crc32 runs at GB/s."""
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        end = position + 12 + length
        chunk = data[position + 4 : end - 4]
        if end > len(data) or zlib.crc32(chunk) != int.from_bytes(data[end - 4 : end], "big"):
            raise BadImageError(
                f"cannot decode image {path}: the PNG data is corrupt (chunk "
                f"{chunk[:4].decode('latin-1')!r} fails its checksum); copy it again or remove "
                "it (data.skip_bad_images=true leaves such files out)"
            )
        if chunk[:4] == b"IEND":
            return
        position = end


def decode(path: str | Path, channels: int) -> torch.Tensor:
    """The image as a uint8 tensor (channels, H, W), EXIF orientation applied.

    Grayscale, palette, RGBA and CMYK files all come out with ``channels`` channels
    (libjpeg/libpng convert while decoding: no extra pass)."""
    from torchvision.io import ImageReadMode, decode_image, read_file

    try:
        data = read_file(str(path))
        kind = sniff_format(bytes(data[:16].tolist()))
        if kind == "PNG":
            check_png_chunks(data.numpy().tobytes(), path)
        # WebP has no grayscale decoding: decoded as RGB, converted below.
        gray = channels == 1 and kind != "WEBP"
        mode = ImageReadMode.GRAY if gray else ImageReadMode.RGB
        image = decode_image(data, mode=mode, apply_exif_orientation=True)
    except (RuntimeError, ValueError, OSError) as error:
        # "decode_jpeg, /path/decode_jpeg.cpp:171, Image is incomplete or truncated"
        reason = re.sub(r"^\w+, \S+:\d+, ", "", fold_message(error))
        raise BadImageError(f"cannot decode image {path}: {reason or 'unreadable'}") from None
    if image.ndim == 4:  # an animated WebP: its first frame
        image = image[0]
    if image.dtype != torch.uint8:  # 16-bit PNG
        from torchvision.transforms.v2.functional import to_dtype

        image = to_dtype(image, torch.uint8, scale=True)
    if channels == 1 and image.shape[0] in (3, 4):  # WebP ignores the GRAY mode
        from torchvision.transforms.v2.functional import rgb_to_grayscale

        image = rgb_to_grayscale(image[:3])
    if image.shape[0] != channels or image.numel() == 0:
        raise BadImageError(
            f"cannot decode image {path}: got shape {tuple(image.shape)}, expected "
            f"{channels} channels"
        )
    return image


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's augmentation: a hash of (seed, epoch, index), so it does
    not depend on which worker (or which resumed process) prepares the sample."""
    state = np.random.SeedSequence([seed % 2**64, epoch, index]).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])


class ImagePipeline:
    """uint8 (C, H, W) -> the listed transforms -> float32 in [0, 1] -> Normalize.

    The last two are one fused multiply-add, ``x * (1 / (255 std)) - mean / std``
    (what ``v2.ToDtype(float32, scale=True)`` + ``v2.Normalize`` compute, within float
    rounding, in a quarter of the time)."""

    def __init__(self, specs: list[dict], mean, std, key: str) -> None:
        from torchvision.transforms import v2

        steps = [build_transform(spec, f"{key}[{i}]") for i, spec in enumerate(specs)]
        # An empty list: no transforms (fine for images of one size; setup checks that).
        self.listed, self.key = (v2.Compose(steps) if steps else v2.Identity()), key
        channels_std = torch.tensor([1.0] if std is None else list(std)).view(-1, 1, 1)
        channels_mean = torch.tensor([0.0] if mean is None else list(mean)).view(-1, 1, 1)
        self.scale = 1.0 / (255.0 * channels_std)
        self.shift = -channels_mean / channels_std

    def transform(self, image: torch.Tensor) -> torch.Tensor:
        pixels = self.listed(image)
        if pixels.dtype != torch.uint8:
            raise ConfigError(
                f"{self.key} turned a uint8 image into {pixels.dtype}; list only transforms "
                "that keep uint8 images (scaling to float and normalizing come after them)"
            )
        return torch.addcmul(self.shift, pixels.float(), self.scale)

    def trial(self, image: torch.Tensor, path: str | Path) -> tuple[int, ...]:
        """The output shape for one image, tried before training."""
        return tuple(self.checked(image, path, seed=0).shape)

    def checked(self, image: torch.Tensor, path: str | Path, seed: int | None = None):
        """``self(image, seed)``; a transform that cannot work on the image (a size of 0,
        a crop larger than the image) is one line naming the key and the file."""
        try:
            return self(image, seed)
        except ConfigError:
            raise
        except (ValueError, RuntimeError, TypeError, IndexError) as error:
            raise ConfigError(
                f"{self.key} cannot transform {path} ({tuple(image.shape[1:])} pixels): "
                f"{first_line(error)}; fix the sizes in {self.key}"
            ) from None

    def __call__(self, image: torch.Tensor, seed: int | None = None) -> torch.Tensor:
        if seed is None:
            return self.transform(image)
        # v2 transforms draw from the global CPU generator: seed it for this sample and
        # put the caller's state back. (torch.manual_seed / fork_rng also visit every
        # CUDA device: ~1 ms per sample, as much as resizing the image.)
        generator = torch.default_generator
        state = generator.get_state()
        try:
            generator.manual_seed(seed)
            return self.transform(image)
        finally:
            generator.set_state(state)


def default_transforms(image_size: int, flip: bool = False) -> tuple[list[dict], list[dict]]:
    """(train, eval): random resized crop (+ a horizontal flip with ``flip``); resize (crop
    ratio 0.875) + center crop. The crop keeps 60-100 % of the image: torchvision's default
    (8-100 %) crops a small object away in many samples, which costs accuracy on a few
    hundred images. No flip unless asked: a mirrored digit or letter is another symbol."""
    train = [{"name": "RandomResizedCrop", "size": image_size, "scale": [0.6, 1.0]}]
    if flip:
        train.append({"name": "RandomHorizontalFlip"})
    evaluation = [
        {"name": "Resize", "size": round(image_size / 0.875)},
        {"name": "CenterCrop", "size": image_size},
    ]
    return train, evaluation


def prepare_image(path: Path, preprocessing: dict) -> torch.Tensor:
    """A new image file as a model input, with the eval pipeline the checkpoint stored."""
    pipeline = ImagePipeline(
        preprocessing["eval_transforms"],
        preprocessing.get("mean"),
        preprocessing.get("std"),
        "checkpoint eval_transforms",
    )
    image = pipeline(decode(path, preprocessing["input_shape"][0]))
    expected = tuple(preprocessing["input_shape"])
    if tuple(image.shape) != expected:
        raise DataError(
            f"{path}: the checkpoint's eval transforms give shape {tuple(image.shape)}, the "
            f"model takes {expected}; the eval transforms must end in a fixed size"
        )
    return image
