# Two commands on a fresh machine:
#   make demo   bake the default project into build/ and train it
#   make test   run the template's tests (every option baked, generated suites run)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: demo test bench lint clean

# Without an NVIDIA GPU (no nvidia-smi), torch comes from PyTorch's CPU index first: the
# default PyPI wheel is the CUDA build with gigabytes of CUDA libraries. TORCH_INDEX= (empty)
# keeps PyPI's. The torch/torchvision pair is requirements-dev.txt's (pinned there, once), so
# the CPU wheels then satisfy it. Where that index cannot be reached (a closed network:
# checked first, 10 s at most), a note says so before anything else and the default
# index's build is installed with the rest; pip's own errors would mislead.
TORCH_INDEX ?= $(if $(shell command -v nvidia-smi 2>/dev/null),,https://download.pytorch.org/whl/cpu)
TORCH_PINS := $(shell grep -E '^torch(vision)?==' requirements-dev.txt)
REACHABLE := import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)
TORCH_NOTE := note: $(TORCH_INDEX) cannot be reached; torch comes from the default index (requirements-dev.txt)

$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),if $(BIN)/python -c '$(REACHABLE)' $(TORCH_INDEX) 2>/dev/null; then $(BIN)/pip install --quiet --disable-pip-version-check --retries 0 --timeout 15 $(TORCH_PINS) --index-url $(TORCH_INDEX) || echo "note: pip could not install $(TORCH_PINS) from $(TORCH_INDEX) (above); torch comes from the default index"; else echo "$(TORCH_NOTE)"; fi)
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
