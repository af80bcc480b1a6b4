"""What the start-up checks of an image folder found, remembered between starts.

Every start checks every image file before training (images.check_image_file): on
300,000 files, ~18 s of CPU at every start (benchmarks/README.md). A file that passed
is remembered with its (size, mtime_ns, ctime_ns), and the next start checks again
only the files whose numbers changed: a file rewritten in place (new mtime), replaced
by another of a different size, or given its old mtime back (``touch -r``, ``cp -p``:
the ctime still moves). Files that failed are not remembered: they are checked, and
refused, every time.

Where: ``<project>/.cache/`` (beside ``runs/``), or the folder in the environment
variable ``CACHE_ENV``; never inside the user's data folder. One JSON file per split
folder, replaced atomically (two processes starting at once each write a whole file; a
start killed mid-write leaves the old one); a file that cannot be read is ignored and
rebuilt. The checks' own source is part of the key: a project whose checks change does
not trust what the old ones passed.
"""

import functools
import hashlib
import inspect
import json
import logging
import os
from pathlib import Path

from ..utils.atomic_file import write_atomic
from . import images

log = logging.getLogger(__name__)

CACHE_ENV = "{{ cookiecutter.project_slug | upper }}_CACHE_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / ".cache")


def cache_file(kind: str, key: str) -> Path:
    """``<cache dir>/<kind>/<sha256(key)[:24]>.json``."""
    return cache_dir() / kind / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def read_cache(path: Path):
    """The JSON in ``path``, or None when it is missing or unreadable (then rebuilt)."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        if path.exists():
            log.info("ignoring the unreadable cache %s (%s); rebuilding it", path, error)
        return None


def write_cache(path: Path, content) -> None:
    """Atomically; a cache that cannot be written costs time next start, not this run."""
    try:
        write_atomic(json.dumps(content, separators=(",", ":")).encode(), path)
    except OSError as error:
        log.warning("cannot write the cache %s (%s); the next start checks again", path, error)


def stamp(stat: os.stat_result) -> list[int]:
    """What must stay the same for an earlier check to still hold."""
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


@functools.cache  # once per process: every split folder has the same checks
def _rules() -> str:
    """The checks themselves: their source and the limits they apply."""
    parts = [str(images.MAX_IMAGE_PIXELS), str(images.TAIL_BYTES), *images.IMAGE_SUFFIXES]
    for function in (images.check_image_file, images.header_size, images.check_pixel_count):
        try:
            parts.append(inspect.getsource(function))
        except (OSError, TypeError):  # no source shipped: the version number alone
            parts.append(function.__qualname__)
    try:
        from importlib.metadata import version

        parts.append(version("pillow"))  # it reads the headers
    except Exception:  # noqa: BLE001 - an unusual install: the rest of the key stands
        pass
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def remembered(entry, numbers: list[int]) -> tuple[int, int] | None:
    """The (width, height) in a cache entry written for a file with these ``numbers``;
    None for another file, or for an entry that is not what ``CheckedFiles`` writes."""
    if isinstance(entry, list) and len(entry) == 5 and entry[:3] == numbers:
        width, height = entry[3:]
        if type(width) is int and type(height) is int and width > 0 and height > 0:
            return width, height
    return None


class CheckedFiles:
    """The files of one folder that passed ``check_image_file``, by path relative to it:
    ``check(path, relative, stat)`` returns the (width, height) remembered for an unchanged file,
    else runs the checks; ``save()`` writes what changed."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder.resolve())
        self.rules = _rules()
        self.path = cache_file("image_checks", self.folder)
        cached = read_cache(self.path)
        valid = (
            isinstance(cached, dict)
            and cached.get("folder") == self.folder
            and cached.get("rules") == self.rules
            and isinstance(cached.get("files"), dict)
        )
        self.known: dict = cached["files"] if valid else {}
        self.passed: dict = {}

    def check(self, path: str, relative: str, stat: os.stat_result) -> tuple[int, int]:
        """``relative``: ``path`` relative to the folder, the name it is remembered by."""
        numbers, entry = stamp(stat), self.known.get(relative)
        size = remembered(entry, numbers)
        if size is None:
            size = images.check_image_file(path)
            entry = [*numbers, *size]
        self.passed[relative] = entry
        return size

    def save(self, complete: bool = True) -> None:
        """``complete``: every file of the folder was seen (files gone are forgotten);
        else (a scan stopped by a bad file) what passed is added to what was known."""
        files = self.passed if complete else {**self.known, **self.passed}
        if files != self.known:
            write_cache(self.path, {"folder": self.folder, "rules": self.rules, "files": files})
