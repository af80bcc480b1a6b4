#!/usr/bin/env bash
# Dev helper: bake the template into DIR (replacing it), with optional key=value answers.
#   scripts/bake.sh /tmp/me/bake logger=wandb dataset=mnist
# The project lands in DIR/<slug> (my_pytorch_project by default).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"; shift
rm -rf "$out"; mkdir -p "$out"
"$here/.venv/bin/cookiecutter" --no-input --output-dir "$out" "$here" "$@"
