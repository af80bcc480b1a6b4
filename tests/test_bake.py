"""Every option bakes into a clean project: rendered, compiled, linted and formatted."""

import json
import py_compile
import re
import tomllib

import pytest

from .conftest import UNRENDERED, all_combinations, combination_id, ruff

COMBINATIONS = all_combinations()


def data_sources(package) -> str:
    return "\n".join(p.read_text() for p in sorted((package / "data").glob("*.py")))


def text_files(project):
    for path in sorted(project.rglob("*")):
        if path.is_file() and path.suffix not in {".png", ".pt"}:
            yield path


@pytest.mark.parametrize("context", COMBINATIONS, ids=[combination_id(c) for c in COMBINATIONS])
def test_every_combination_bakes_clean(bake, context):
    project = bake(**context)
    for path in text_files(project):
        relative = path.relative_to(project).as_posix()
        text = path.read_text()
        if not relative.startswith(UNRENDERED):
            assert "{{" not in text and "{%" not in text, f"leftover Jinja in {relative}"
        if path.suffix == ".py":
            py_compile.compile(str(path), doraise=True)
    check = ruff("check", ".", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff("format", "--check", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("context", COMBINATIONS, ids=[combination_id(c) for c in COMBINATIONS])
def test_options_choose_files_and_dependencies(bake, context):
    project = bake(**context)
    package = project / "my_pytorch_project"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    dependencies = " ".join(pyproject["project"]["dependencies"])
    logger, dataset = context["logger"], context["dataset"]
    assert (package / "logger" / "tensorboard.py").exists() == (logger == "tensorboard")
    assert (package / "logger" / "wandb.py").exists() == (logger == "wandb")
    assert (package / "logger" / "mlflow.py").exists() == (logger == "mlflow")
    assert ("tensorboard" in dependencies) == (logger == "tensorboard")
    assert ("wandb" in dependencies) == (logger == "wandb")
    assert ("mlflow" in dependencies) == (logger == "mlflow")
    assert (package / "data" / "digits.py").exists() == (dataset == "digits")
    assert ("scikit-learn" in dependencies) == (dataset == "digits")
    assert (project / "LICENSE").exists() == (context["license"] != "none")
    assert pyproject["project"]["requires-python"] == f">={context['python_version']}"
    config = (project / "configs" / "train.yaml").read_text()
    assert f"name: {dataset}" in config
    # The comments a user reads name only this bake's data modules, its own dataset among
    # them (checked here, on the fresh bake: a generated test reading them would fail once
    # the user adds their own). schema.py is shared by both profiles, so it names the
    # modules minimal keeps; a full digits bake also registers MNIST's.
    registered = set(re.findall(r'^@DATAMODULES\.register\("(\w+)"\)', data_sources(package), re.M))
    schema = (package / "config" / "schema.py").read_text()
    listed = re.search(r"^\s*name: str = .*# (.+)$", schema, re.MULTILINE).group(1)
    listed = {name.strip() for name in listed.split("|")}
    assert dataset in listed and listed <= registered, (listed, registered)
    docstring = (package / "data" / "__init__.py").read_text().split('"""')[1]
    for module in re.findall(r"\(see (\w+\.py)\)", docstring):
        assert (package / "data" / module).is_file(), module
    source = "\n".join(p.read_text() for p in package.rglob("*.py"))
    if logger != "wandb":
        assert "import wandb" not in source
    if logger != "tensorboard":
        assert "torch.utils.tensorboard" not in source and "import tensorboard" not in source
    if logger != "mlflow":
        assert "import mlflow" not in source and "from mlflow" not in source


def test_slug_is_derived_from_the_name(cookies):
    result = cookies.bake(extra_context={"project_name": "My Cool-Project 2!"})
    assert result.exit_code == 0, result.exception
    assert result.project_path.name == "my_cool_project_2"


BAD_SLUGS = {
    "class": "keyword",
    "torch": "shadows 'torch'",
    "os": "standard-library module 'os'",
    "tests": "shadows 'tests'",
    "1st_project": "lowercase Python identifier",
    "my-project": "lowercase Python identifier",
    "MyProject": "lowercase Python identifier",
    "a" * 41: "at most 40",
}


@pytest.mark.parametrize(("slug", "rule"), BAD_SLUGS.items(), ids=list(BAD_SLUGS))
def test_bad_slug_is_refused_with_a_message_and_leaves_nothing(
    cookies, capfd, tmp_path, slug, rule
):
    result = cookies.bake(extra_context={"project_slug": slug})
    assert result.exit_code != 0
    assert result.project_path is None
    err = capfd.readouterr().err
    assert f"invalid project_slug {slug!r}" in err
    assert rule in err
    # pytest-cookies bakes into <tmp_path>/cookies/bake00: a refused bake leaves it empty.
    assert list((tmp_path / "cookies" / "bake00").iterdir()) == []


def test_quotes_in_answers_cannot_inject_code(bake, tmp_path):
    marker = tmp_path / "pwned"
    evil = f"Evil''' + __import__('os').system('touch {marker}') + '''\"\"\" \\"
    project = bake(
        project_name=evil,
        project_slug="evil_project",
        description=evil,
        author_name=evil,
    )
    assert not marker.exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == evil
    assert evil in (project / "README.md").read_text()


def test_longest_allowed_slug_still_lints(bake):
    project = bake(project_slug="a" * 40)
    assert ruff("check", ".", cwd=project).returncode == 0
    assert ruff("format", "--check", ".", cwd=project).returncode == 0


def test_cookiecutter_json_is_complete():
    from .conftest import TEMPLATE

    config = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    for key in (
        "project_name",
        "project_slug",
        "author_name",
        "description",
        "dataset",
        "logger",
    ):
        assert key in config
    assert config["dataset"][0] == "digits" and config["logger"][0] == "tensorboard"
    assert config["docker"] == ["yes", "no"] and "docker" in config["__prompts__"]
    assert set(config["__prompts__"]) >= {"project_name", "dataset", "logger"}
    assert ".github/workflows/*" in config["_copy_without_render"]
