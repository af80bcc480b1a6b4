"""Dev helper: carry changes made in a baked project's ``.py`` files (ruff's formatting, a
fix tried in the bake) back into the template, Jinja and all.

Each template file is rendered with the bake's answers and compared with the baked file;
a changed line goes back to the template line it came from (scripts/jinja_lines.py). A
line holding ``{{ ... }}`` goes back with the expression put back where its value stands,
when rendering the result gives the baked line again. A change on a line Jinja made (an
inline ``{% if %}``) is listed for a hand fix. Give the answers the bake was made with
(those left out are the defaults). Usage:
    python scripts/sync_from_bake.py /tmp/bake/my_pytorch_project my_pytorch_project \
        [profile=minimal dataset=image_folder ...]
"""

import re
import sys
from pathlib import Path

from jinja_lines import EXPRESSION, Edit, apply, carry_back, render, render_with_origins

TEMPLATE = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
SLUG = "{{cookiecutter.project_slug}}"


def restore_expressions(edit: Edit, template: list[str], answers: dict[str, str]) -> Edit | None:
    """``edit`` (baked text) with the template lines' ``{{ }}`` expressions put back where
    their values stand, or None when that does not render to the baked lines again."""
    expressions = set(EXPRESSION.findall("\n".join(template[edit.start : edit.end])))
    if not expressions:
        return edit
    text = "\n".join(edit.lines)
    for expr in sorted(expressions, key=lambda e: -len(render(e, answers))):
        value = render(expr, answers)
        if value:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", lambda _, e=expr: e, text)
    if render(text, answers) != "\n".join(edit.lines):
        return None
    return Edit(edit.start, edit.end, tuple(text.split("\n")))


def sync_file(target: Path, baked: Path, answers: dict[str, str]) -> list[str]:
    """Carry ``baked``'s changes into the template file ``target``; notes for a hand fix."""
    text = target.read_text()
    rendered = render_with_origins(text, answers)
    edits, notes = carry_back(rendered, baked.read_text().split("\n"))
    template = text.split("\n")
    kept = []
    for edit in edits:
        restored = restore_expressions(edit, template, answers)
        if restored is None:
            notes.append(f"lines {edit.start + 1}-{edit.end}: expressions could not be put back")
        else:
            kept.append(restored)
    result = "\n".join(apply(template, kept))
    if result != text:
        target.write_text(result)
    return notes


def main(baked: str, slug: str, *answer_args: str) -> int:
    answers = dict(arg.split("=", 1) for arg in answer_args)
    baked_root = Path(baked)
    hand_fixes = 0
    for path in sorted(baked_root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative = path.relative_to(baked_root)
        target = TEMPLATE.joinpath(*(SLUG if part == slug else part for part in relative.parts))
        if not target.exists():
            continue
        before = target.read_text()
        notes = sync_file(target, path, answers)
        if target.read_text() != before:
            print(f"updated {relative}")
        for note in notes:
            print(f"fix by hand: {relative} {note}")
        hand_fixes += len(notes)
    return 1 if hand_fixes else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
