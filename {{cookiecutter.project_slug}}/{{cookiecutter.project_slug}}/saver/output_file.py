"""Output files of the scripts (predict.py's CSV, evaluate.py's JSON): checked before any
work is done, written atomically, and never replacing a user's file unasked."""

import os
from pathlib import Path

from ..utils.errors import ConfigError, UserError
from ..utils.run_dir import run_of_checkpoint
from .checkpoint import write_atomic


class OutputFileError(UserError):
    """An output path that cannot or may not be written; the message names it."""


def parse_overwrite(value: str | None) -> bool:
    """The ``overwrite=`` script argument: ``true`` or ``false`` (the default)."""
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise ConfigError(f"overwrite={value!r} is not allowed; use overwrite=true or false")
    return value.lower() == "true"


def check_output_file(path: Path, overwrite: bool, label: str | None = None) -> None:
    """Refuse, before anything is computed, a path that is a folder, lies under a file or
    an unwritable folder, or names an existing file while ``overwrite`` is false.
    ``label`` names the path in messages (default ``output=<path>``)."""
    label = label or f"output={path}"
    if path.is_dir():
        raise OutputFileError(f"{label} is a folder; give a file path inside it")
    folder = next(p for p in (path.parent, *path.parent.parents) if p.exists() or p == p.parent)
    if not folder.is_dir():
        raise OutputFileError(
            f"{label} cannot be created: {folder} is a file, not a folder; "
            "choose a path in a folder"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(
            f"{label} cannot be written: no write permission in {folder} "
            "(or it is read-only); choose a folder you can write to"
        )
    if path.exists() and not overwrite:
        raise OutputFileError(
            f"{label} already exists and was not replaced; pass overwrite=true to "
            "replace it, or choose another output="
        )


def output_destination(
    checkpoint_path: Path, output: Path | None, overwrite: bool, run_file: str, what: str
) -> Path | None:
    """Where a script working on a checkpoint writes (None: print only), checked before
    any work: ``output`` if given (an existing file only with ``overwrite``), else the
    run's own ``run_file`` beside the checkpoint's run (replacing it is expected), else
    nowhere: the folders around a checkpoint outside a run are not ours."""
    if output is not None:
        check_output_file(output, overwrite)
        return output
    run_dir = run_of_checkpoint(checkpoint_path)  # None: a checkpoint outside a run
    if run_dir is None:
        return None
    destination = run_dir / run_file
    check_output_file(destination, overwrite=True, label=f"the run's {what} {destination}")
    return destination


def write_output(path: Path, text: str | bytes) -> None:
    """Write atomically: a failure (full disk...) leaves no half-written file. The file
    gets the usual permissions (the temporary file it was renamed from had 0600)."""
    write_atomic(text.encode() if isinstance(text, str) else text, path)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
