"""Dev helper: run ``ruff check --fix`` and ``ruff format`` on template Python files, Jinja
and all.

Each ``{{ ... }}`` becomes a placeholder identifier as long as the longest slug (so a line
that fits here fits for every slug). A file with ``{% ... %}`` statements is rendered for
every value of each option its tags test; ruff rewrites each rendering, and the rewrite is
carried back to the template lines it came from (scripts/jinja_lines.py says how, and why
a change on a line Jinja made is reported for a hand fix instead). Usage:
    .venv/bin/python scripts/format_template.py FILE [FILE ...]
"""

import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from jinja_lines import (
    EXPRESSION,
    agreed,
    answer_sets,
    apply,
    carry_back,
    defaults,
    render,
    render_with_origins,
)

ROOT = Path(__file__).resolve().parents[1]
RUFF = ROOT / ".venv" / "bin" / "ruff"
SLUG = "{{cookiecutter.project_slug}}"
PROJECT = ROOT / SLUG
PYPROJECT = PROJECT / "pyproject.toml"
PROJECT_CHECKS = ROOT / "tests" / "project_checks"
CHOICE = re.compile(r"\{\{\s*cookiecutter\.(\w+)\s*\}\}")
PASSES = 3  # a rewrite that moves lines may let the next pass carry back what this one could not


def placeholders(text: str) -> dict[str, str]:
    """Expression -> identifier, as long as the longest text the expression may render to:
    an option with a list of values (``{{ cookiecutter.dataset }}``) its longest value, the
    rest 40 characters (the longest slug pre_gen_project.py accepts), so that a line that
    fits here fits in every bake and exploded imports keep their magic trailing comma. The
    slug is placeholder 0 (its folder stands beside the rendering: isort's first-party)."""
    expressions = sorted(set(EXPRESSION.findall(text)), key=lambda e: (e != SLUG, e))
    names = {}
    for index, expr in enumerate(expressions):
        option = CHOICE.fullmatch(expr)
        values = defaults().get(option.group(1)) if option else None
        if isinstance(values, list):
            names[expr] = f"jp{index}".ljust(max(map(len, values)), "x")
        else:
            names[expr] = f"jinja_placeholder_{index}".ljust(40, "x")
    return names


def project_copy(folder: Path, relative: Path, answers: dict[str, str], text: str) -> Path:
    """Where the rendering ``text`` of the generated project's file ``relative`` is written:
    in a folder laid out like a bake, with the bake's pyproject.toml (its ruff settings,
    per-file ignores included) and empty stand-ins for the top-level scripts and the
    package modules ``text`` names, so that ruff sorts ``import train`` and the package's
    imports as a bake's ruff does (it takes a module for first-party only when its file
    exists)."""
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(render(PYPROJECT.read_text(), answers))
    slug = placeholders(SLUG)[SLUG]
    for module in PROJECT.glob("*.py"):
        (folder / module.name).touch()
    for module in (PROJECT / SLUG).rglob("*.py"):
        parts = module.relative_to(PROJECT / SLUG).with_suffix("").parts
        dotted = ".".join([slug, *parts]).removesuffix(".__init__")
        if dotted in text:
            stand_in = folder.joinpath(slug, *module.relative_to(PROJECT / SLUG).parts)
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.touch()
    copy = folder.joinpath(*(slug if part == SLUG else part for part in relative.parts))
    copy.parent.mkdir(parents=True, exist_ok=True)
    return copy


def ruff(copies: list[Path], config: Path | None) -> None:
    """ruff's fixes and formatting; lint errors it cannot fix are left to ``ruff check`` in
    a bake (here they would name placeholders, not the project)."""
    settings = ["--config", str(config)] if config else []
    for args in (["check", "--fix", "--quiet", "--exit-zero"], ["format", "--quiet"]):
        subprocess.run(
            [str(RUFF), *args, *settings, *map(str, copies)], check=False, capture_output=True
        )


def project_relative(path: Path) -> Path | None:
    """Where ``path`` lands in a bake: the generated project's files, and the template's
    checks of a bake (tests/project_checks/, added to a bake's tests/ by the template's
    suite); None for the template repository's own files (hooks/...)."""
    path = path.resolve()
    if path.is_relative_to(PROJECT):
        return path.relative_to(PROJECT)
    if path.is_relative_to(PROJECT_CHECKS):
        return Path("tests", path.name)
    return None


def format_text(text: str, path: Path) -> tuple[str, list[str]]:
    """``text`` (the template file at ``path``) formatted, and the notes on what must be
    fixed by hand."""
    names = placeholders(text)
    for expr, placeholder in names.items():
        text = text.replace(expr, placeholder)
    relative = project_relative(path)
    notes: list[str] = []
    for _ in range(PASSES):
        renders = [(answers, render_with_origins(text, answers)) for answers in answer_sets(text)]
        with tempfile.TemporaryDirectory() as tmp:
            copies = []
            for index, (answers, rendered) in enumerate(renders):
                folder = Path(tmp) / str(index)
                if relative is not None:
                    copy = project_copy(folder, relative, answers, "\n".join(rendered.lines))
                else:
                    copy = folder / path.name
                    folder.mkdir()
                copy.write_text("\n".join(rendered.lines))
                copies.append(copy)
            ruff(copies, None if relative is not None else ROOT / "ruff.toml")
            rewritten = [copy.read_text().split("\n") for copy in copies]
        proposals, notes = [], []
        for (_, rendered), lines in zip(renders, rewritten, strict=True):
            edits, by_hand = carry_back(rendered, lines)
            proposals.append((rendered, edits))
            notes += by_hand
        accepted, disputed = agreed(proposals)
        notes += [
            f"lines {edit.start + 1}-{edit.end}: only some answers want them as "
            f"{' / '.join(line.strip() for line in edit.lines)[:120]!r}"
            for edit in disputed
        ]
        if not accepted:
            break
        text = "\n".join(apply(text.split("\n"), accepted))
    for expr, placeholder in names.items():
        text = text.replace(placeholder, expr)
    counted = Counter(notes)
    return text, [
        f"{note} ({count} of {len(renders)} renderings)" for note, count in counted.items()
    ]


def format_file(path: Path) -> list[str]:
    original = path.read_text()
    result, notes = format_text(original, path)
    if result != original:
        path.write_text(result)
        print(f"formatted {path}")
    for note in notes:
        print(f"fix by hand: {path} {note}")
    return notes


if __name__ == "__main__":
    sys.exit(1 if [note for name in sys.argv[1:] for note in format_file(Path(name))] else 0)
