"""Image files to model inputs: decoding with ``torchvision.io`` (no per-item PIL), the
transform pipeline from config, and per-sample seeding of random augmentation.

Shared by the ``image_folder`` data module and predict.py, so a new image is prepared
exactly like the training data.
"""

import re
from pathlib import Path

import numpy as np
import torch

from ..config.transforms import build_transform
from ..utils.errors import ConfigError, DataError, fold_message

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


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


def check_image_file(path: Path) -> None:
    """Cheap check without decoding: not empty, and a JPEG/PNG/WebP by its first bytes."""
    try:
        with open(path, "rb") as file:
            head = file.read(16)
    except OSError as error:
        raise BadImageError(f"cannot read image {path}: {error.strerror}") from None
    if not head:
        raise BadImageError(f"image {path} is an empty file")
    if sniff_format(head) is None:
        raise BadImageError(
            f"{path} is not a JPEG, PNG or WebP image (its content, whatever its name); "
            "remove it from the data folder or set data.skip_bad_images=true"
        )


def decode(path: str | Path, channels: int) -> torch.Tensor:
    """The image as a uint8 tensor (channels, H, W), EXIF orientation applied.

    Grayscale, palette, RGBA and CMYK files all come out with ``channels`` channels
    (libjpeg/libpng convert while decoding: no extra pass)."""
    from torchvision.io import ImageReadMode, decode_image, read_file

    try:
        data = read_file(str(path))
        # WebP has no grayscale decoding: decoded as RGB, converted below.
        gray = channels == 1 and sniff_format(bytes(data[:16].tolist())) != "WEBP"
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
        self.listed, self.key = v2.Compose(steps), key
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


def default_transforms(image_size: int) -> tuple[list[dict], list[dict]]:
    """(train, eval): random resized crop + flip; resize (crop ratio 0.875) + center crop."""
    train = [
        {"name": "RandomResizedCrop", "size": image_size},
        {"name": "RandomHorizontalFlip"},
    ]
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
