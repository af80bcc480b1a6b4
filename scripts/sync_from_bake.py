"""Dev helper: copy ruff-formatted files from a baked default project back into the template.

Only files without Jinja markup are copied; files with markup are listed (fix those by hand).
Usage: python scripts/sync_from_bake.py /tmp/bake/my_pytorch_project my_pytorch_project
"""

import re
import shutil
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
JINJA = re.compile(r"\{\{|\{%")


def main(baked: str, slug: str) -> None:
    baked_root = Path(baked)
    for path in sorted(baked_root.rglob("*.py")):
        rel = str(path.relative_to(baked_root)).replace(slug, "{{cookiecutter.project_slug}}")
        target = TEMPLATE / rel
        if not target.exists():
            continue
        if JINJA.search(target.read_text()):
            if target.read_text() != path.read_text():
                print(f"has Jinja, check by hand: {rel}")
            continue
        if target.read_text() != path.read_text():
            shutil.copyfile(path, target)
            print(f"updated {rel}")


if __name__ == "__main__":
    main(*sys.argv[1:])
