"""One core, added parts (issue 32): the package's ``.py`` files a minimal and a full bake
share test ``cookiecutter.profile`` only where the full profile's added files register
(scripts/measure_core.py's REGISTRATION_FILES, a few lines each), so that every other
shared file is the same program in both profiles."""

import sys

import pytest

from .conftest import OPTIONS, TEMPLATE

sys.path.insert(0, str(TEMPLATE / "scripts"))
from measure_core import (  # noqa: E402
    REGISTRATION_FILES,
    REGISTRATION_LINES,
    package_files,
    profile_lines,
    shared_and_differing,
)


def test_shared_package_files_test_the_profile_only_to_register_added_parts(bake):
    """A template package file that is not full-only (it is in the minimal bake, or in
    neither bake because another answer leaves it out) holds no line testing
    ``cookiecutter.profile``, unless it is a registration file, with at most
    REGISTRATION_LINES such lines."""
    full = package_files(bake(dataset="image_folder"))
    minimal = package_files(bake(dataset="image_folder", profile="minimal"))
    full_only = full.keys() - minimal.keys()
    assert minimal and full_only  # both bakes read: the full one adds files
    offenders = {
        name: count
        for name, count in profile_lines().items()
        if name not in full_only and (name not in REGISTRATION_FILES or count > REGISTRATION_LINES)
    }
    assert not offenders, (
        f"shared package files test cookiecutter.profile (lines per file): {offenders}; "
        f"only {', '.join(REGISTRATION_FILES)} may, {REGISTRATION_LINES} lines each"
    )


@pytest.mark.parametrize("dataset", OPTIONS["dataset"])
def test_shared_package_files_are_the_same_in_both_profiles(bake, dataset):
    """With the same other answers, a package file both bakes have reads the same in
    both, registration files aside."""
    full = bake(dataset=dataset)
    minimal = bake(dataset=dataset, profile="minimal")
    shared, differing = shared_and_differing(minimal, full)
    assert shared
    unexpected = [name for name in differing if name not in REGISTRATION_FILES]
    assert not unexpected, f"{len(unexpected)} of {len(shared)} shared files differ: {unexpected}"
