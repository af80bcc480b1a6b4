"""Free-text answers (names, e-mail, description) bake into valid files of every type
(TOML, YAML, Python, Markdown) and an installable project, or are refused by the
pre-generation hook with one message and nothing left behind."""

import json
import subprocess
import sys
import tomllib

import pytest
import yaml

from local_extensions import toml_string, yaml_string

TRICKY = [
    "🚀 rocket",
    "Zoë Müller 山田太郎",
    'quotes " and \' and """ and \'\'\'',
    "back\\slash \\n \\u0041 ${x} {{ y }}",
    "tab\there, nul\x00, del\x7f, bell\x07",
    "line\nbreak\r\nand separator\u2028end",
    "bom\ufeff and nel\x85",
]


@pytest.mark.parametrize("text", TRICKY)
def test_quoting_filters_round_trip(text):
    assert tomllib.loads(f"key = {toml_string(text)}\n")["key"] == text
    assert yaml.safe_load(f"key: {yaml_string(text)}\n")["key"] == text


UNICODE = {
    "project_name": "Ünïcode 🚀 Project",
    "project_slug": "unicode_project",
    "author_name": "Zoë Müller 山田",
    "description": "🚀 A «rocket» classifier: \"quotes\", 'single', back\\slash, ${x}",
}


def test_non_ascii_answers_bake_into_valid_files(bake):
    project = bake(**UNICODE, logger="wandb")  # wandb_project holds the slug
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert metadata["description"] == UNICODE["description"]
    assert metadata["authors"] == [{"name": UNICODE["author_name"], "email": "you@example.com"}]
    config = yaml.safe_load((project / "configs" / "train.yaml").read_text(encoding="utf-8"))
    assert config["logger"]["wandb_project"] == "unicode_project"
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {UNICODE['project_name']}\n")
    assert UNICODE["description"] in readme
    assert UNICODE["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")
    devcontainer = (project / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8")
    assert json.loads(devcontainer)["name"] == UNICODE["project_name"]


def test_a_project_with_non_ascii_answers_builds_with_pip(bake, tmp_path):
    """pip validates the metadata (PEP 621) when it builds the wheel; offline, no deps."""
    project = bake(**UNICODE)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--wheel-dir", str(tmp_path / "wheels"), str(project)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert list((tmp_path / "wheels").glob("unicode_project-0.1.0-*.whl"))


BAD_TEXT = {
    "newline in author_name": ({"author_name": "Ada\nLovelace"}, "author_name holds '\\n'"),
    "tab in description": ({"description": "a\tb"}, "description holds '\\t'"),
    "line separator in project_name": (
        {"project_name": "My\u2028Project", "project_slug": "my_project"},
        "project_name holds '\\u2028'",
    ),
    "broken UTF-8 (a lone surrogate)": (
        {"author_name": "bad \udc80 byte"},
        "author_name holds '\\udc80'",
    ),
    "5,000-character project_name": (
        {"project_name": "x" * 5000},
        "project_name is 5000 characters long; at most 200 are allowed",
    ),
    "not an e-mail": ({"author_email": "you at example"}, "is not an e-mail address"),
}


@pytest.mark.parametrize(("answers", "message"), BAD_TEXT.values(), ids=list(BAD_TEXT))
def test_unusable_answers_are_refused_and_leave_nothing(cookies, capfd, tmp_path, answers, message):
    result = cookies.bake(extra_context=answers)
    assert result.exit_code != 0
    assert result.project_path is None
    err = capfd.readouterr().err
    assert "ERROR: these answers cannot be baked into a project:" in err
    assert message in err
    assert list((tmp_path / "cookies" / "bake00").iterdir()) == []
