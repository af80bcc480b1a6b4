"""Data flows one way: config -> data -> model -> trainer -> logger/saver; inference
beside the trainer, the run layer above both, {% if cookiecutter.profile == "full" %}experiments above the run layer, {% endif %}and the
scripts on top. This test reads every module's imports and fails if one imports a
package it must not."""

import ast
from pathlib import Path

import {{cookiecutter.project_slug}}

PACKAGE = Path({{cookiecutter.project_slug}}.__file__).parent
SLUG = PACKAGE.name
PROJECT = PACKAGE.parent

# What each package may import from the others (utils and config are shared ground).
ALLOWED = {
    "config": {"utils"},  # utils is the ground floor: it imports no sibling
    "utils": set(),
    "data": {"config", "utils"},
    "model": {"config", "utils"},
    "logger": {"config", "utils"},
    "saver": {"config", "utils"},
    "trainer": {"config", "utils", "data", "model", "logger", "saver"},
    # a trained model rebuilt for evaluate/predict{% if cookiecutter.profile == "full" %}/export{% endif %}: never the training loop
    "inference": {"config", "utils", "data", "model", "saver"},
    # resume, the run directory, test results{% if cookiecutter.profile == "full" %}, requeue{% endif %}: above the trainer and inference
    "run": {"config", "utils", "data", "model", "logger", "saver", "trainer", "inference"},
{%- if cookiecutter.profile == "full" %}
    # sweeps, cross-validation and the runs table sit on top of the run layer
    "experiments": {
        *("config", "utils", "data", "model", "logger", "saver", "trainer", "inference"),
        "run",
    },
{%- endif %}
}


def imported_modules(path: Path, root: Path = PROJECT) -> set[str]:
    """Absolute names of what a module imports, relative imports resolved."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if node.module:
                found.add(module)
            else:
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def packages_imported(path: Path, root: Path = PROJECT) -> set[str]:
    """The project's packages (``config``, ``trainer``...) a module imports."""
    names = (m.split(".") for m in imported_modules(path, root))
    return {n[1] for n in names if n[0] == SLUG and len(n) > 1}


def test_no_module_imports_against_the_flow():
    violations = []
    for package, allowed in ALLOWED.items():
        for path in (PACKAGE / package).rglob("*.py"):
            for imported in packages_imported(path) - allowed - {package}:
                violations.append(f"{path.relative_to(PACKAGE)} imports {imported}")
    assert not violations, violations


def test_every_package_is_covered():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)


def test_scripts_import_only_the_package():
    """A root script is wiring: it imports the package, never another script."""
    scripts = sorted(PROJECT.glob("*.py"))
    assert {"train.py", "evaluate.py", "predict.py"} <= {p.name for p in scripts}
    names = {p.stem for p in scripts}
    violations = [
        f"{path.name} imports {module}"
        for path in scripts
        for module in imported_modules(path)
        if module.split(".")[0] in names
    ]
    assert not violations, violations


def test_the_checker_sees_a_violation(tmp_path):
    """The checks above can fail: an import two levels up from a sub-package is found."""
    (tmp_path / SLUG / "inference" / "sub").mkdir(parents=True)
    module = tmp_path / SLUG / "inference" / "sub" / "x.py"
    module.write_text("from ...trainer import base\nfrom .. import loading\nimport train\n")
    assert packages_imported(module, tmp_path) == {"trainer", "inference"}
    assert "train" in imported_modules(module, tmp_path)
