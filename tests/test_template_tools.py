"""The template's own tools reach every ``.py`` file, Jinja statements and all:
scripts/format_template.py (ruff on the template) and scripts/sync_from_bake.py (a bake's
changes carried back)."""

import re
import sys

import pytest

from .conftest import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "scripts"))
import format_template  # noqa: E402
import sync_from_bake  # noqa: E402

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
# the generated project's files and the template's checks of a bake (tests/project_checks/)
WITH_STATEMENTS = sorted(
    path
    for path in [*PROJECT.rglob("*.py"), *(TEMPLATE / "tests" / "project_checks").glob("*.py")]
    if "__pycache__" not in path.parts and "{%" in path.read_text()
)
MINIMAL_MNIST = {"profile": "minimal", "dataset": "mnist"}  # no inline 3 in the list
DEF = re.compile(r"^(\s*)def (\w+)\(")

# A module the way the template writes them: whole-line blocks, an else branch, an
# expression, and a line an inline ``{% if %}`` makes.
CLEAN = '''"""A module with Jinja."""

import os
{%- if cookiecutter.profile == "full" %}
import sys
{%- endif %}


def main() -> list[int]:
    print(os.sep)
{%- if cookiecutter.profile == "full" %}
    print(sys.argv, "{{ cookiecutter.project_slug }}")
{%- else %}
    print("minimal")
{%- endif %}
    return [1, 2{% if cookiecutter.dataset == "digits" %}, 3{% endif %}]
'''


def in_string(lines: list[str], number: int) -> bool:
    """Line ``number`` is inside a triple-quoted string (an odd count of them before it):
    a script held in a string is text to ruff."""
    before = "\n".join(lines[:number])
    return (before.count('"""') + before.count("'''")) % 2 == 1


def spoil(line: str) -> str:
    """``def f(a)`` as ``def f( a)`` on a plain line (Jinja's lines left alone)."""
    return line if "{" in line or "%}" in line else DEF.sub(r"\1def \2( ", line)


def test_there_are_files_with_statements_to_cover():
    assert WITH_STATEMENTS, "no template .py file holds {% %}: this suite checks nothing"


def test_formatting_a_clean_template_changes_nothing():
    """Every template .py file holding ``{%`` is left as it is (the template is formatted)
    and nothing is reported for a hand fix."""
    for path in WITH_STATEMENTS:
        text = path.read_text()
        result, notes = format_template.format_text(text, path)
        assert notes == [], (path, notes)
        assert result == text, f"{path} is not formatted as ruff formats its bakes"


def test_misformatted_lines_inside_and_outside_jinja_blocks_are_fixed():
    """Each file holding ``{%`` with every plain ``def`` line spoilt (``def f( a)``),
    those inside ``{% if %}`` blocks included, comes back as it was."""
    spoilt_any = False
    for path in WITH_STATEMENTS:
        text = path.read_text()
        lines = text.split("\n")
        spoilt = [spoil(line) if not in_string(lines, n) else line for n, line in enumerate(lines)]
        if spoilt == lines:
            continue
        spoilt_any = True
        result, notes = format_template.format_text("\n".join(spoilt), path)
        assert notes == [], (path, notes)
        assert result == text, path
    assert spoilt_any


def test_a_synthetic_module_is_fixed_and_a_jinja_made_line_is_reported():
    path = PROJECT / "{{cookiecutter.project_slug}}" / "synthetic.py"  # never written
    result, notes = format_template.format_text(CLEAN, path)
    assert (result, notes) == (CLEAN, [])
    spoilt = (
        CLEAN.replace("print(os.sep)", "print( os.sep )")
        .replace('"{{ cookiecutter.project_slug }}")', "'{{ cookiecutter.project_slug }}' )")
        .replace('print("minimal")', "print('minimal')")
        .replace("return [1, 2{%", "return [1,2{%")
    )
    result, notes = format_template.format_text(spoilt, path)
    # every line fixed but the one Jinja makes, which is reported, not guessed
    assert result == CLEAN.replace("return [1, 2{%", "return [1,2{%")
    assert notes and all("return [1, 2" in note for note in notes), notes


def test_sync_carries_a_bake_edit_back_through_jinja(bake, tmp_path):
    """A minimal bake's edits go back to the template lines they came from: a plain line
    inside a file with ``{% if %}`` blocks, a line holding ``{{ }}``; a line an inline
    ``{% if %}`` makes is reported. The template is a copy (the real one stays as it is)."""
    project = bake(profile="minimal")
    template = tmp_path / "template"
    path = template / "synthetic.py"
    path.parent.mkdir()
    path.write_text(CLEAN)
    baked = tmp_path / "baked.py"
    rendered = sync_from_bake.render(CLEAN, MINIMAL_MNIST)
    assert "print(os.sep)" in rendered and "sys" not in rendered
    baked.write_text(
        rendered.replace("print(os.sep)", "print(os.sep)  # edited in the bake").replace(
            "return [1, 2]", "return [1, 2, 4]"
        )
    )
    notes = sync_from_bake.sync_file(path, baked, MINIMAL_MNIST)
    assert path.read_text() == CLEAN.replace("print(os.sep)", "print(os.sep)  # edited in the bake")
    assert len(notes) == 1 and "return [1, 2, 4]" in notes[0], notes
    # a line with the slug: the expression goes back where its value stands
    slug = project.name
    full = CLEAN.replace("print(os.sep)", 'print(os.sep, "{{ cookiecutter.project_slug }}")')
    path.write_text(full)
    rendered = sync_from_bake.render(full, {"profile": "full"})
    baked.write_text(rendered.replace(f'print(os.sep, "{slug}")', f'print(os.sep, "{slug}", 1)'))
    assert sync_from_bake.sync_file(path, baked, {"profile": "full"}) == []
    assert 'print(os.sep, "{{ cookiecutter.project_slug }}", 1)' in path.read_text()


@pytest.mark.parametrize("profile", ["full", "minimal"])
def test_sync_from_a_fresh_bake_changes_nothing(bake, profile, capsys):
    project = bake(profile=profile)
    before = {path: path.read_text() for path in PROJECT.rglob("*.py")}
    assert sync_from_bake.main(str(project), project.name, f"profile={profile}") == 0
    assert capsys.readouterr().out == ""
    assert {path: path.read_text() for path in PROJECT.rglob("*.py")} == before
