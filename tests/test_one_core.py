"""One core, added parts (issue 32), checked layer by layer: the core's files render the
same in a minimal and a full bake with the same other answers, and what full adds is in
files of its own that register themselves in a line of the package's ``__init__``."""

import difflib
import re
from pathlib import Path

import pytest

TEMPLATE_PACKAGE = (
    Path(__file__).parents[1] / "{{cookiecutter.project_slug}}" / "{{cookiecutter.project_slug}}"
)
PROFILE_TEST = re.compile(r"cookiecutter\.profile")

# config/: every module but __init__ (the registration line) and full's added_keys.py.
CONFIG_CORE = [
    "checks.py",
    "cli.py",
    "loader.py",
    "metric_spec.py",
    "registry.py",
    "schema.py",
    "transforms.py",
]


def test_the_config_core_holds_no_profile_test():
    tested = [
        name
        for name in CONFIG_CORE
        if PROFILE_TEST.search((TEMPLATE_PACKAGE / "config" / name).read_text())
    ]
    assert tested == []
    registration = (TEMPLATE_PACKAGE / "config" / "__init__.py").read_text()
    assert len(PROFILE_TEST.findall(registration)) <= 1


@pytest.mark.parametrize("dataset", ["image_folder", "digits"])
def test_the_config_core_renders_the_same_in_both_profiles(bake, dataset):
    full = bake(dataset=dataset) / "my_pytorch_project" / "config"
    minimal = bake(dataset=dataset, profile="minimal") / "my_pytorch_project" / "config"
    for name in CONFIG_CORE:
        assert (minimal / name).read_text() == (full / name).read_text(), name
    assert not (minimal / "added_keys.py").exists() and (full / "added_keys.py").is_file()
    added = [
        line
        for line in difflib.unified_diff(
            (minimal / "__init__.py").read_text().splitlines(),
            (full / "__init__.py").read_text().splitlines(),
            lineterm="",
            n=0,
        )
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert len(added) == 1 and added[0].startswith("+from . import added_keys  # noqa: F401")
