"""Remove what the chosen options don't use, so the project holds only live code.

Values are read through ``tojson`` (see pre_gen_project.py for why).
"""

import json
import shutil
from pathlib import Path

SLUG = json.loads(r'''{{ cookiecutter.project_slug | tojson }}''')
DATASET = json.loads(r'''{{ cookiecutter.dataset | tojson }}''')
LOGGER = json.loads(r'''{{ cookiecutter.logger | tojson }}''')
LICENSE = json.loads(r'''{{ cookiecutter.license | tojson }}''')
DOCKER = json.loads(r'''{{ cookiecutter.docker | tojson }}''')

PACKAGE = Path(SLUG)

UNUSED = {
    PACKAGE / "logger" / "tensorboard.py": LOGGER != "tensorboard",
    PACKAGE / "logger" / "figures.py": LOGGER == "none",
    PACKAGE / "logger" / "wandb.py": LOGGER != "wandb",
    PACKAGE / "logger" / "mlflow.py": LOGGER != "mlflow",
    PACKAGE / "data" / "digits.py": DATASET != "digits",
    Path("tests") / "test_tensorboard.py": LOGGER != "tensorboard",
    Path("tests") / "test_wandb.py": LOGGER != "wandb",
    Path("tests") / "test_mlflow.py": LOGGER != "mlflow",
    Path("tests") / "test_digits.py": DATASET != "digits",
    Path("LICENSE"): LICENSE == "none",
    Path("Dockerfile"): DOCKER != "yes",
    Path(".dockerignore"): DOCKER != "yes",
    Path(".devcontainer"): DOCKER != "yes",
}


def main() -> None:
    for path, unused in UNUSED.items():
        if unused and path.is_dir():
            shutil.rmtree(path)
        elif unused:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
