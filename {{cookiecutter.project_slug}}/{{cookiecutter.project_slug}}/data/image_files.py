"""The files of an image folder: one split folder scanned class by class (hidden files and
folders passed over; non-images refused or, with ``data.skip_bad_images``, left out and
counted). Each start checks again only the files that changed (image_check_cache.py)."""

import os
from pathlib import Path

from ..utils.errors import DataError
from .datasets import check_two_classes
from .image_check_cache import CheckedFiles
from .images import IMAGE_SUFFIXES, BadImageError, hidden, visible


def class_folders(folder: Path, classes: list[str] | None) -> tuple[list[str], list[str]]:
    """(the class folders found, the class list): the found ones for a training split
    (two or more), else ``classes``, which must hold every folder found."""
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    found = sorted(d.name for d in folder.iterdir() if d.is_dir() and visible(d))
    if not found:
        raise DataError(
            f"{folder} holds no class folders; put images in {folder}/<class>/<image>, "
            "one folder per class"
        )
    if classes is None:
        how = f"put each class's images in its own folder, {folder}/<class>/<image>"
        check_two_classes(folder, found, "class folder", how)
        classes = found
    unknown = [name for name in found if name not in classes]
    if unknown:
        raise DataError(
            f"{folder} has class folders {unknown} that the training split does not have "
            f"(training classes: {classes})"
        )
    return found, classes


def visible_files(folder: Path) -> list[tuple[str, tuple[str, ...], os.stat_result]]:
    """(path, its parts below ``folder``, its stat) of every file under ``folder``, in
    ``sorted(Path.rglob)`` order; as rglob, symlinked files count and symlinked folders
    are not entered; hidden files and folders are passed over (see ``visible``). One
    ``os.scandir`` per folder and one stat per file: listing 300,000 files takes a
    second, not the ten that pathlib's objects cost."""
    found, pending = [], [(str(folder), ())]
    while pending:
        directory, parts = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except PermissionError:  # as rglob: an unreadable folder is passed over
            continue
        for entry in entries:
            if hidden(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, (*parts, entry.name)))
            elif entry.is_file():
                try:
                    found.append((entry.path, (*parts, entry.name), entry.stat()))
                except OSError:  # gone since the listing (or a link to nothing)
                    continue
    found.sort(key=lambda item: item[1])
    return found


def scan_split(
    folder: Path,
    classes: list[str] | None,
    skip_bad: bool,
    sizes: dict | None = None,
    lost: dict | None = None,
):
    """(files, targets, classes, skipped) of one split folder; ``classes`` fixes the class
    list (val/test use the training split's). ``sizes`` collects each file's (width,
    height) from its header; ``lost`` counts the files skipped per class."""
    found, classes = class_folders(folder, classes)
    files, targets, skipped = [], [], []
    checked, complete = CheckedFiles(folder), False
    try:
        for name in found:
            count, target = 0, classes.index(name)
            for path, parts, stat in visible_files(folder / name):
                try:
                    if not parts[-1].lower().endswith(IMAGE_SUFFIXES):
                        raise BadImageError(
                            f"{path} is not an image file (allowed: {', '.join(IMAGE_SUFFIXES)}); "
                            "move it out of the class folder or set data.skip_bad_images=true"
                        )
                    size = checked.check(path, "/".join((name, *parts)), stat)
                except BadImageError as error:
                    if not skip_bad:
                        raise
                    skipped.append(str(error))
                    if lost is not None:
                        lost[name] = lost.get(name, 0) + 1
                    continue
                files.append(path)
                targets.append(target)
                count += 1
                if sizes is not None:
                    sizes[path] = size
            if count == 0:
                raise DataError(
                    f"class folder {folder / name} holds no usable images "
                    f"({', '.join(IMAGE_SUFFIXES)}); add images or remove the folder"
                )
        complete = True
    finally:  # also when a bad file stops the scan: what passed need not be checked again
        checked.save(complete)
    return files, targets, classes, skipped


def check_classes_left(train) -> None:
    """After data.skip_bad_images: a class left with no training image is refused (its
    output would never see data)."""
    empty = [name for index, name in enumerate(train.classes) if index not in train.targets]
    if empty:
        raise DataError(
            f"data.skip_bad_images left class {empty[0]!r} without a readable training image "
            f"(classes without any: {empty}); replace its unreadable files or remove the folder"
        )
