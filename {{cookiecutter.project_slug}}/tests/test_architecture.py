"""Data flows one way: config -> data -> model -> trainer -> logger/saver. This test
reads every module's imports and fails if a package imports one it must not."""

import ast
from pathlib import Path

import {{cookiecutter.project_slug}}

PACKAGE = Path({{cookiecutter.project_slug}}.__file__).parent

# What each package may import from the others (utils and config are shared ground).
ALLOWED = {
    "config": {"utils"},  # utils is the ground floor: it imports no sibling
    "utils": set(),
    "data": {"config", "utils"},
    "model": {"config", "utils"},
    "logger": {"config", "utils"},
    "saver": {"config", "utils"},
    "trainer": {"config", "utils", "data", "model", "logger", "saver"},
{%- if cookiecutter.profile == "full" %}
    # sweeps, cross-validation and the runs table sit on top, as the scripts do
    "experiments": {"config", "utils", "data", "model", "trainer", "logger", "saver"},
{%- endif %}
}


def imported_packages(path: Path) -> set[str]:
    """Sibling packages a module imports (relative imports that leave its own package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level >= 2:
            found.update(alias.name for alias in node.names)
    return found


def test_no_module_imports_against_the_flow():
    violations = []
    for package, allowed in ALLOWED.items():
        for path in (PACKAGE / package).glob("*.py"):
            for imported in imported_packages(path) - allowed - {package}:
                violations.append(f"{package}/{path.name} imports {imported}")
    assert not violations, violations


def test_every_package_is_covered():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)
