"""Dev helper: how far the template is from "one core, added parts" (issue 32).

Bakes a minimal and a full project with the same other answers (or takes two bakes you
made) and prints:
- the lines of the template package's ``.py`` sources that test ``cookiecutter.profile``
  (in total and per file);
- the package ``.py`` files both bakes share, and which of them differ;
- the code lines of package + top-level scripts of each bake;
- the files only the full bake has.

Code lines are counted with ``tokenize`` and ``ast``: a line counts when a token other than
a comment, a newline or an indent is on it (every line of a multi-line token counts), minus
the lines of docstrings (a string expression opening a module, class or function body).
Blank lines, comment-only lines and docstring lines do not count. Statements (logical
lines: a call wrapped over five lines counts once; docstrings left out) are printed too.

Usage (from the template's root):
    .venv/bin/python scripts/measure_core.py [dataset=image_folder] [key=value ...]
    .venv/bin/python scripts/measure_core.py --minimal MIN_PROJECT --full FULL_PROJECT
"""

import argparse
import ast
import io
import re
import sys
import tempfile
import tokenize
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
SLUG = "{{cookiecutter.project_slug}}"
TEMPLATE_PACKAGE = TEMPLATE / SLUG / SLUG
PROFILE_TEST = re.compile(r"cookiecutter\.profile")
# The package files where a full-only part may register itself (issue 32's contract), and
# how many lines testing the profile each of them may hold.
REGISTRATION_FILES = (
    "config/__init__.py",
    "data/__init__.py",
    "trainer/__init__.py",
    "logger/__init__.py",
    "run/__init__.py",
)
REGISTRATION_LINES = 2
NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}


def profile_lines(package: Path = TEMPLATE_PACKAGE) -> dict[str, int]:
    """Per template package ``.py`` file (relative to the package), its lines that test
    ``cookiecutter.profile``; files with none left out."""
    counts = {}
    for path in sorted(package.rglob("*.py")):
        count = sum(1 for line in path.read_text().splitlines() if PROFILE_TEST.search(line))
        if count:
            counts[path.relative_to(package).as_posix()] = count
    return counts


def docstrings(tree: ast.AST) -> list[ast.Expr]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                found.append(first)
    return found


def docstring_lines(tree: ast.AST) -> set[int]:
    return {n for doc in docstrings(tree) for n in range(doc.lineno, doc.end_lineno + 1)}


def code_lines(source: str) -> int:
    """Lines holding code: see the module's docstring for what counts."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in NOT_CODE:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstring_lines(ast.parse(source)))


def statements(source: str) -> int:
    """Logical lines (a statement split over lines counts once), docstrings not counted: a
    second measure, blind to how a formatter wraps lines."""
    ends = sum(
        1
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.NEWLINE
    )
    return ends - len(docstrings(ast.parse(source)))


def package_name(project: Path) -> str:
    """The bake's package: the one folder beside train.py holding an __init__.py."""
    (package,) = [p.parent.name for p in project.glob("*/__init__.py") if p.parent.name != "tests"]
    return package


def package_files(project: Path) -> dict[str, Path]:
    package = project / package_name(project)
    return {
        p.relative_to(package).as_posix(): p
        for p in sorted(package.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def all_files(project: Path) -> set[str]:
    return {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def project_sources(project: Path) -> list[Path]:
    """The package's ``.py`` files and the top-level scripts (train.py, evaluate.py, ...)."""
    return [*package_files(project).values(), *sorted(project.glob("*.py"))]


def project_code_lines(project: Path) -> int:
    return sum(code_lines(path.read_text()) for path in project_sources(project))


def project_statements(project: Path) -> int:
    return sum(statements(path.read_text()) for path in project_sources(project))


def shared_and_differing(minimal: Path, full: Path) -> tuple[list[str], list[str]]:
    """The package ``.py`` files both bakes have, and those of them whose text differs."""
    small, large = package_files(minimal), package_files(full)
    shared = sorted(small.keys() & large.keys())
    differing = [name for name in shared if small[name].read_text() != large[name].read_text()]
    return shared, differing


def bake(output: Path, answers: dict[str, str]) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output), extra_context=answers)
    )


def report(minimal: Path, full: Path) -> None:
    counts = profile_lines()
    print(f"lines testing cookiecutter.profile in the template package: {sum(counts.values())}")
    print(f"  in {len(counts)} files:")
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:4d}  {name}")
    shared, differing = shared_and_differing(minimal, full)
    print(f"package .py files both bakes share: {len(shared)}; differing: {len(differing)}")
    for name in differing:
        print(f"  {name}")
    print("code lines (package + top-level scripts; no blank, comment or docstring lines):")
    print(f"  minimal {project_code_lines(minimal)}")
    print(f"  full    {project_code_lines(full)}")
    print("statements (logical lines of the same files, docstrings not counted):")
    print(f"  minimal {project_statements(minimal)}")
    print(f"  full    {project_statements(full)}")
    full_only = sorted(all_files(full) - all_files(minimal))
    full_only_py = [name for name in full_only if name.endswith(".py")]
    print(f"files only the full bake has: {len(full_only)} ({len(full_only_py)} .py)")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minimal", type=Path, help="a minimal bake's project folder")
    parser.add_argument("--full", type=Path, help="a full bake's project folder")
    parser.add_argument("answers", nargs="*", help="key=value answers for both bakes")
    args = parser.parse_args(argv)
    if (args.minimal is None) != (args.full is None):
        parser.error("give both --minimal and --full, or neither (then both are baked)")
    if args.minimal is not None:
        report(args.minimal, args.full)
        return
    answers = {"dataset": "image_folder"}
    for item in args.answers:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"answer {item!r} is not key=value")
        answers[key] = value
    answers.pop("profile", None)
    print("answers: " + " ".join(f"{k}={v}" for k, v in answers.items()))
    with tempfile.TemporaryDirectory() as tmp:
        minimal = bake(Path(tmp) / "minimal", {**answers, "profile": "minimal"})
        full = bake(Path(tmp) / "full", {**answers, "profile": "full"})
        report(minimal, full)


if __name__ == "__main__":
    main(sys.argv[1:])
