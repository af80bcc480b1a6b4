"""Dev helper: run ``ruff check --fix`` and ``ruff format`` on template Python files that
hold Jinja expressions, by swapping each ``{{ ... }}`` for a placeholder identifier.

Files with Jinja statements (``{%``) are skipped (fix those by hand). Usage:
    .venv/bin/python scripts/format_template.py FILE [FILE ...]
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

RUFF = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "ruff"
CONFIG = Path(__file__).resolve().parents[1] / "scripts" / "ruff_template.toml"
EXPRESSION = re.compile(r"\{\{.*?\}\}")


def format_file(path: Path) -> None:
    text = path.read_text()
    if "{%" in text:
        print(f"skipped (has Jinja statements): {path}")
        return
    expressions = sorted(set(EXPRESSION.findall(text)))
    # 40 characters: the longest slug pre_gen_project.py accepts, so lines that fit here
    # fit for every slug, and exploded imports keep their magic trailing comma.
    placeholders = {
        expr: f"jinja_placeholder_{i}".ljust(40, "x") for i, expr in enumerate(expressions)
    }
    for expr, name in placeholders.items():
        text = text.replace(expr, name)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(text)
        for args in (["check", "--fix", "--quiet"], ["format", "--quiet"]):
            subprocess.run([str(RUFF), *args, "--config", str(CONFIG), str(copy)], check=False)
        result = copy.read_text()
    for expr, name in placeholders.items():
        result = result.replace(name, expr)
    if result != path.read_text():
        path.write_text(result)
        print(f"formatted {path}")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        format_file(Path(name))
