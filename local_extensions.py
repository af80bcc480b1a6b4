"""Jinja filters that quote a free-text answer for the file it lands in, and the
torch/torchvision pair the generated install lines pin (``{{ torch_pins }}``).

Each format has its own rules: a JSON escape such as ``\\ud83d\\ude80`` (a surrogate
pair) is valid JSON but not valid TOML, and PyYAML decodes it into two broken halves.
So the text is written as itself (UTF-8), and only what the format forbids is escaped.
cookiecutter loads this module through ``_extensions`` in cookiecutter.json.
"""

from pathlib import Path

from jinja2.ext import Extension


def _double_quoted(text: str, must_escape) -> str:
    """``"text"`` with ``"`` and ``\\`` escaped, and every character for which
    ``must_escape`` is true written as ``\\uXXXX`` (a form TOML and YAML both read)."""
    out = []
    for char in str(text):
        if char in '"\\':
            out.append("\\" + char)
        elif must_escape(ord(char)):
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_string(text: str) -> str:
    """A TOML basic string: control characters (U+0000-U+001F, U+007F) must be escaped."""
    return _double_quoted(text, lambda code: code < 0x20 or code == 0x7F)


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar: escape what YAML 1.1 does not print as itself
    (C0/C1 controls, DEL, line and paragraph separators, the byte-order mark)."""
    return _double_quoted(
        text,
        lambda code: code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF),
    )


def torch_pins() -> str:
    """``torch==X torchvision==Y``: the pair requirements-dev.txt pins, the one place it is
    written (the template's tests and make demo install it)."""
    requirements = Path(__file__).with_name("requirements-dev.txt").read_text()
    pins = [
        line for line in requirements.splitlines() if line.startswith(("torch==", "torchvision=="))
    ]
    return " ".join(sorted(pins))


class QuotingExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["toml_string"] = toml_string
        environment.filters["yaml_string"] = yaml_string
        environment.globals["torch_pins"] = torch_pins()
