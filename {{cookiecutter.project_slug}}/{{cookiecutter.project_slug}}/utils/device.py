"""Pick the device a run uses."""

import torch

from .errors import ConfigError
from .seed import enable_determinism


def select_device(name: str = "auto"{% if cookiecutter.profile == "full" %}, local_rank: int | None = None{% endif %}) -> torch.device:
    """``auto`` prefers CUDA, then Apple's MPS, then CPU.{% if cookiecutter.profile == "full" %} Under torchrun each rank takes
    ``cuda:LOCAL_RANK`` so two processes never share one GPU.{% endif %}"""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
{%- if cookiecutter.profile == "full" %}
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"trainer.device={name!r} but CUDA is not available; use device=cpu")
        if local_rank is not None:
            name = f"cuda:{local_rank}"
{%- else %}
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"trainer.device={name!r} but CUDA is not available; use device=cpu")
{%- endif %}
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("trainer.device='mps' but MPS is not available; use device=cpu")
    return torch.device(name)


def prepare_device(cfg{% if cookiecutter.profile == "full" %}, dist_info{% endif %}) -> torch.device:
    """``trainer.device``{% if cookiecutter.profile == "full" %} (this rank's GPU under torchrun){% endif %}, with ``trainer.deterministic``
    and ``trainer.num_threads`` applied (here too, so the Python API honours them)."""
    if cfg.deterministic:
        enable_determinism()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
{%- if cookiecutter.profile == "full" %}
        local_rank = dist_info.local_rank if dist_info and dist_info.enabled else None
        return select_device(cfg.device, local_rank)
{%- else %}
        return select_device(cfg.device)
{%- endif %}
    except ValueError as error:
        raise ConfigError(str(error)) from None
