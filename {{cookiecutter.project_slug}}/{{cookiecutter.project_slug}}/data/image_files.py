"""The files of an image folder: one split folder scanned class by class (hidden files and
folders passed over; non-images refused or, with ``data.skip_bad_images``, left out and
counted)."""

from pathlib import Path

from ..utils.errors import DataError
from .datasets import check_two_classes
from .images import IMAGE_SUFFIXES, BadImageError, check_image_file, visible


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
    for name in found:
        count = 0
        found_files = (folder / name).rglob("*")
        for path in sorted(p for p in found_files if p.is_file() and visible(p, folder / name)):
            try:
                if path.suffix.lower() not in IMAGE_SUFFIXES:
                    raise BadImageError(
                        f"{path} is not an image file (allowed: {', '.join(IMAGE_SUFFIXES)}); "
                        "move it out of the class folder or set data.skip_bad_images=true"
                    )
                size = check_image_file(path)
            except BadImageError as error:
                if not skip_bad:
                    raise
                skipped.append(str(error))
                if lost is not None:
                    lost[name] = lost.get(name, 0) + 1
                continue
            files.append(str(path))
            targets.append(classes.index(name))
            count += 1
            if sizes is not None:
                sizes[str(path)] = size
        if count == 0:
            raise DataError(
                f"class folder {folder / name} holds no usable images "
                f"({', '.join(IMAGE_SUFFIXES)}); add images or remove the folder"
            )
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
