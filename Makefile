# Two commands on a fresh machine:
#   make demo   bake the default project into build/ and train it
#   make test   run the template's tests (every option baked, generated suites run)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: demo test bench lint clean

$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	rm -rf build/my_pytorch_project
	$(BIN)/cookiecutter --no-input --output-dir build .
	cd build/my_pytorch_project && ../../$(BIN)/python train.py

# --dist loadgroup hands out one test at a time, from the first: the two longest (marked
# `first`, collected first) start on different workers. (--dist load sends each worker a
# run of consecutive tests, both on the same one.)
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check hooks tests benchmarks scripts local_extensions.py
	$(BIN)/ruff format --check hooks tests benchmarks scripts local_extensions.py

clean:
	rm -rf build .pytest_cache
