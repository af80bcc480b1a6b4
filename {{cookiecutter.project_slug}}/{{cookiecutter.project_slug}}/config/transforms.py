"""``data.train_transforms`` / ``data.eval_transforms``: lists of
``{name: <torchvision.transforms.v2 class>, <argument>: <value>, ...}``, checked at load
time against each transform's own signature, so a typo fails before any work starts.

The same function builds them (``build_transform``), so what is checked is exactly what
runs, in training and in predict.py (the checkpoint stores the eval list).
"""

import difflib
import inspect
from typing import Any

from ..utils.errors import ConfigError, fold_message

# Added by the data module itself, after the listed transforms (data.normalize sets the
# statistics); as list items they would convert twice.
APPENDED = (
    "ToDtype",
    "ConvertImageDtype",
    "Normalize",
    "ToImage",
    "ToPureTensor",
    "ToPILImage",
    "PILToTensor",
)
# Containers take transform objects, which a YAML list cannot express.
CONTAINERS = ("Compose", "RandomApply", "RandomChoice", "RandomOrder", "Lambda")


def transform_names() -> list[str]:
    """Every transform class of torchvision.transforms.v2 a list item may name."""
    from torchvision.transforms import v2  # deferred: only image runs pay its import

    return sorted(
        name
        for name, obj in vars(v2).items()
        if inspect.isclass(obj)
        and issubclass(obj, v2.Transform)
        and obj is not v2.Transform
        and name not in APPENDED + CONTAINERS
    )


def _arguments(value: Any) -> Any:
    """YAML values as the transform expects them: lists, and interpolation by name."""
    return list(value) if isinstance(value, (list, tuple)) else value


def _check_name(name, where: str) -> None:
    """``name`` is a torchvision.transforms.v2 transform a user may list."""
    names = transform_names()
    if name in names:
        return
    if name in APPENDED:
        raise ConfigError(
            f"{where}: {name} is added by the project after the listed transforms "
            "(uint8 -> float32 in [0, 1], then data.normalize); remove it from the list"
        )
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else f"valid: {', '.join(names)}"
    raise ConfigError(f"{where}: {name!r} is not a torchvision.transforms.v2 transform; {hint}")


def _check_arguments(cls, name: str, arguments: dict, where: str) -> None:
    """Every argument is one the transform takes, and every required one is given."""
    parameters = inspect.signature(cls).parameters
    accepted = [p for p in parameters if parameters[p].kind is not inspect.Parameter.VAR_KEYWORD]
    for key in arguments:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), accepted, n=3, cutoff=0.4)
            hint = f"did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"{where}: {name} has no argument {key!r}; {hint} "
                f"({name} takes {', '.join(accepted) or 'no arguments'})"
            )
    missing = [
        p
        for p, spec_p in parameters.items()
        if spec_p.default is inspect.Parameter.empty
        and spec_p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p not in arguments
    ]
    if missing:
        example = "{name: " + name + ", " + missing[0] + ": ...}"
        raise ConfigError(f"{where}: {name} needs {', '.join(missing)}, e.g. {example}")


def build_transform(spec: dict[str, Any], where: str):
    """One ``{name: ..., **arguments}`` item as a transform object; ``ConfigError`` naming
    ``where`` (e.g. ``data.train_transforms[0]``) and the closest valid names otherwise."""
    from torchvision.transforms import InterpolationMode, v2

    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(
            f"{where}={spec!r} is not a transform; write a mapping such as "
            "{name: RandomResizedCrop, size: 224}"
        )
    name, arguments = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    _check_name(name, where)
    cls = getattr(v2, name)
    _check_arguments(cls, name, arguments, where)
    values = {key: _arguments(value) for key, value in arguments.items()}
    if isinstance(values.get("interpolation"), str):
        modes = [mode.name.lower() for mode in InterpolationMode]
        if values["interpolation"].lower() not in modes:
            raise ConfigError(
                f"{where}: interpolation={values['interpolation']!r} is not one of {modes}"
            )
        values["interpolation"] = InterpolationMode[values["interpolation"].upper()]
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        message = fold_message(error)
        raise ConfigError(f"{where}: {name}({_show(arguments)}) is invalid: {message}") from None


def _show(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())


def check_transform_lists(data_config) -> None:
    """Build every listed transform once (cheap) so a bad one fails at config load."""
    from omegaconf import OmegaConf

    for key in ("train_transforms", "eval_transforms"):
        specs = data_config[key]
        if specs is None:
            continue
        for i, spec in enumerate(OmegaConf.to_container(specs, resolve=True)):
            build_transform(spec, f"data.{key}[{i}]")
