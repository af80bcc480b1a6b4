"""Validate the answers before anything is written.

Cookiecutter renders this file with Jinja, so values are read through ``tojson``
into a raw string and parsed: quotes or backslashes in a name cannot inject code.
A non-zero exit makes cookiecutter remove the half-made project directory.
"""

import json
import keyword
import re
import sys
import unicodedata

SLUG = json.loads(r'''{{ cookiecutter.project_slug | tojson }}''')
NAME = json.loads(r'''{{ cookiecutter.project_name | tojson }}''')
PROFILE = json.loads(r'''{{ cookiecutter.profile | tojson }}''')
LOGGER = json.loads(r'''{{ cookiecutter.logger | tojson }}''')
# Trackers profile=minimal keeps (it leaves W&B and MLflow out). An explicit tracker choice is
# refused rather than swapped silently: the user asked for something minimal does not have.
MINIMAL_LOGGERS = ("tensorboard", "none")
# Free-text answers and the longest each may be: they land in one line of README.md,
# LICENSE and pyproject.toml.
TEXT = {
    "project_name": (NAME, 200),
    "author_name": (json.loads(r'''{{ cookiecutter.author_name | tojson }}'''), 200),
    "author_email": (json.loads(r'''{{ cookiecutter.author_email | tojson }}'''), 200),
    "description": (json.loads(r'''{{ cookiecutter.description | tojson }}'''), 500),
}
# pip checks authors' e-mail addresses (PEP 621 metadata): something@somewhere.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

# Longer slugs would push generated import lines past the 100-column lint limit.
MAX_LENGTH = 40

# Packages the generated project imports: a slug with one of these names would shadow it.
DEPENDENCIES = {
    "torch",
    "torchvision",
    "numpy",
    "omegaconf",
    "tqdm",
    "matplotlib",
    "sklearn",
    "scikit_learn",
    "tensorboard",
    "wandb",
    "yaml",
    "PIL",
    "pytest",
    "ruff",
    "tests",
    "configs",
    "data",
    "runs",
    "train",
    "evaluate",
    "predict",
}


def problems(slug: str) -> list[str]:
    """Return every rule the slug breaks (empty when it is valid)."""
    found = []
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", slug):
        found.append(
            "it must be a lowercase Python identifier: start with a letter or _, "
            "then only a-z, 0-9 and _"
        )
    if len(slug) > MAX_LENGTH:
        found.append(f"it is {len(slug)} characters long; at most {MAX_LENGTH} are allowed")
    if keyword.iskeyword(slug) or keyword.issoftkeyword(slug):
        found.append("it is a Python keyword")
    if slug in sys.stdlib_module_names:
        found.append(f"it shadows the standard-library module '{slug}'")
    if slug.lower() in {d.lower() for d in DEPENDENCIES}:
        found.append(f"it shadows '{slug}', which the generated project imports or uses")
    return found


def text_problems(key: str, value: str, max_length: int) -> list[str]:
    """What makes a free-text answer unusable in a one-line field (empty when fine)."""
    found = []
    if len(value) > max_length:
        found.append(f"{key} is {len(value)} characters long; at most {max_length} are allowed")
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):  # controls, broken UTF-8, line breaks
            found.append(
                f"{key} holds {char!r} at position {position}: answers must be one line of "
                "printable text (no line breaks, tabs or control characters)"
            )
            break
    if key == "author_email" and not EMAIL.fullmatch(value):
        found.append(f"author_email {value!r} is not an e-mail address (name@example.com)")
    return found


def profile_problem(profile: str, logger: str) -> str | None:
    """One line when the answers ask minimal for a tracker it leaves out."""
    if profile == "minimal" and logger not in MINIMAL_LOGGERS:
        return (
            f"ERROR: profile=minimal has no logger={logger}: choose logger="
            f"{' or logger='.join(MINIMAL_LOGGERS)}, or profile=full for {logger}"
        )
    return None


def main() -> int:
    profile_error = profile_problem(PROFILE, LOGGER)
    if profile_error:
        print(profile_error, file=sys.stderr)
        return 1
    text_errors = [
        e for key, (value, limit) in TEXT.items() for e in text_problems(key, value, limit)
    ]
    if text_errors:
        print("ERROR: these answers cannot be baked into a project:", file=sys.stderr)
        for error in text_errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    errors = problems(SLUG)
    if not errors:
        return 0
    print(f"ERROR: invalid project_slug {SLUG!r} (from project_name {NAME!r}):", file=sys.stderr)
    for error in errors:
        print(f"  - {error}", file=sys.stderr)
    print(
        "Choose another project_name, or set project_slug explicitly, e.g. "
        "cookiecutter <template> project_slug=my_project",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
