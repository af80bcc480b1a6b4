"""Map a rendered template file's lines back to the template's lines, so that a tool that
rewrites the rendered file (ruff, a hand edit in a bake) can rewrite the template.

Used by scripts/format_template.py and scripts/sync_from_bake.py. The approach, chosen
because it never writes a broken template:
- The file is rendered twice with the same answers: once as it is, once with every plain
  non-blank line (one with no ``{%`` and no ``%}``) swapped for a marker naming its line
  number. Jinja treats both alike (a marker keeps the line's leading and trailing
  whitespace, which ``{%-``/``-%}`` strip), so rendered line k of the first came from the
  template line whose marker is line k of the second, or from a Jinja statement's text.
- A rewrite of the rendered file (difflib hunks) is carried back only where every
  rewritten line came, unchanged, from consecutive plain template lines. A hunk that
  touches a line Jinja made (an inline ``{% if %}``, a line whose neighbour was joined
  onto it) is reported for a hand fix, never guessed.
- A file with ``{% if cookiecutter.x %}`` is rendered for every value of each option it
  tests, so lines that only some answers keep are covered too; two answers that want the
  same template lines written differently are reported, not applied.
"""

import difflib
import functools
import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
EXPRESSION = re.compile(r"\{\{.*?\}\}")
STATEMENT = re.compile(r"\{%.*?%\}", re.DOTALL)
OPTION = re.compile(r"cookiecutter\.(\w+)")
MARKER = re.compile(r"\s*\x00(\d+)\x00\s*")
EDGES = re.compile(r"(\s*)(.*?)(\s*)")


def has_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text


def options_tested(text: str) -> list[str]:
    """The options (with a list of values in cookiecutter.json) that ``{% %}`` tags test."""
    choices = {key for key, value in defaults().items() if isinstance(value, list)}
    used = {name for tag in STATEMENT.findall(text) for name in OPTION.findall(tag)}
    return sorted(used & choices)


def defaults() -> dict:
    return json.loads((TEMPLATE / "cookiecutter.json").read_text())


def answer_sets(text: str, fixed: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Every combination of the values of the options the file's tags test (the other
    answers at their defaults, or as ``fixed`` says)."""
    fixed = fixed or {}
    tested = [name for name in options_tested(text) if name not in fixed]
    values = [defaults()[name] for name in tested]
    for combination in itertools.product(*values):
        yield {**fixed, **dict(zip(tested, combination, strict=True))}


@functools.cache
def environment(answers: tuple[tuple[str, str], ...]):
    """cookiecutter's Jinja environment and its ``cookiecutter`` values for these answers
    (the rest at their defaults, as ``--no-input`` takes them)."""
    from cookiecutter.environment import StrictEnvironment
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    if str(TEMPLATE) not in sys.path:  # local_extensions, as cookiecutter.json names it
        sys.path.insert(0, str(TEMPLATE))
    context = generate_context(str(TEMPLATE / "cookiecutter.json"), extra_context=dict(answers))
    values = prompt_for_config(context, no_input=True)
    values["_extensions"] = context["cookiecutter"].get("_extensions", [])
    return StrictEnvironment(context={"cookiecutter": values}, keep_trailing_newline=True), values


def render(text: str, answers: dict[str, str]) -> str:
    """``text`` rendered as cookiecutter renders a file with these answers."""
    env, values = environment(tuple(sorted(answers.items())))
    return env.from_string(text).render(cookiecutter=values)


def is_plain(line: str) -> bool:
    return bool(line.strip()) and "{%" not in line and "%}" not in line


@dataclass
class Rendered:
    """One rendering of a template file: its lines, and for each the template line it is
    (None where Jinja made or changed it)."""

    lines: list[str]
    origins: list[int | None]
    template: list[str] = field(repr=False)


def render_with_origins(text: str, answers: dict[str, str]) -> Rendered:
    template = text.split("\n")
    tagged = []
    for number, line in enumerate(template):
        if is_plain(line):
            before, _, after = EDGES.fullmatch(line).groups()
            tagged.append(f"{before}\x00{number}\x00{after}")
        else:
            tagged.append(line)
    lines = render(text, answers).split("\n")
    marks = render("\n".join(tagged), answers).split("\n")
    if len(lines) != len(marks):
        return Rendered(lines, [None] * len(lines), template)
    origins: list[int | None] = []
    for line, mark in zip(lines, marks, strict=True):
        found = MARKER.fullmatch(mark)
        origin = int(found.group(1)) if found else None
        if origin is not None and line != template[origin]:
            # a line with ``{{ }}`` is its own when it renders, alone, to what stands here
            alone = render(template[origin], answers) if "{{" in template[origin] else None
            origin = origin if alone == line else None
        origins.append(origin)
    # Blank lines carry no marker: a run of them between two known lines is theirs when
    # the template has exactly that run of blank lines there.
    index = 0
    while index < len(lines):
        if lines[index].strip() or origins[index] is not None:
            index += 1
            continue
        end = index
        while end < len(lines) and not lines[end].strip() and origins[end] is None:
            end += 1
        before = origins[index - 1] if index > 0 else -1
        after = origins[end] if end < len(lines) else len(template)
        run = template[before + 1 : after] if before is not None and after is not None else None
        if run is not None and len(run) == end - index and not any(s.strip() for s in run):
            origins[index:end] = range(before + 1, after)
        index = end
    return Rendered(lines, origins, template)


@dataclass(frozen=True)
class Edit:
    """Template lines [start, end) become ``lines``."""

    start: int
    end: int
    lines: tuple[str, ...]


def carry_back(rendered: Rendered, rewritten: list[str]) -> tuple[list[Edit], list[str]]:
    """The template edits that make ``rendered`` read as ``rewritten``, and a note for
    each change that cannot be carried back (lines Jinja made)."""
    edits, by_hand = [], []
    matcher = difflib.SequenceMatcher(None, rendered.lines, rewritten, autojunk=False)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            # line for line: each goes back (or is reported) on its own, so one line Jinja
            # made does not hold back the ruff fixes of its neighbours
            hunks += [(i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1)]
        elif tag != "equal":
            hunks.append((i1, i2, j1, j2))
    for i1, i2, j1, j2 in hunks:
        if i1 == i2:  # an insertion: anchor it on the unchanged line after (or before) it
            if i2 < len(rendered.lines):
                i2, j2 = i2 + 1, j2 + 1
            else:
                i1, j1 = i1 - 1, j1 - 1
        span = rendered.origins[i1:i2]
        if span and None not in span and span == list(range(span[0], span[0] + len(span))):
            edits.append(Edit(span[0], span[-1] + 1, tuple(rewritten[j1:j2])))
        else:
            near = next((o for o in reversed(rendered.origins[:i1]) if o is not None), -1)
            wanted = " / ".join(line.strip() for line in rewritten[j1:j2]) or "(lines removed)"
            by_hand.append(f"after line {near + 1}: wants {wanted[:120]!r}")
    return edits, by_hand


def agreed(proposals: list[tuple[Rendered, list[Edit]]]) -> tuple[list[Edit], list[Edit]]:
    """The edits every rendering that holds their lines asks for, and the rest (one
    answer wants lines written differently, or removed, where another keeps them: ruff
    drops an import that only some answers use)."""
    wanted = [set(edits) for _, edits in proposals]
    covered = [{o for o in rendered.origins if o is not None} for rendered, _ in proposals]
    accepted, disputed = set(), set()
    for edits in wanted:
        for edit in edits:
            lines = set(range(edit.start, edit.end))
            holders = [i for i, lines_held in enumerate(covered) if lines & lines_held]
            if all(edit in wanted[i] for i in holders):
                accepted.add(edit)
            else:
                disputed.add(edit)
    for first, second in itertools.combinations(sorted(accepted, key=astuple), 2):
        if first.start < second.end and second.start < first.end:
            disputed.update((first, second))
    return sorted(accepted - disputed, key=astuple), sorted(disputed, key=astuple)


def apply(template: list[str], edits: list[Edit]) -> list[str]:
    """``template`` with the (non-overlapping) edits applied."""
    result = list(template)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        result[edit.start : edit.end] = edit.lines
    return result
