# Two commands set everything up on a fresh machine with Python 3.11:
#   make run   install, provision the model, build the sample index, start the chat
#              (make run CORPUS=path/to/folder: your own documents; stop with Ctrl-C)
#   make test  install, lint and type-check, then run every test (real-model and browser too)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
INDEX ?= index
SAMPLE := corpus/sample
CORPUS ?=

.PHONY: run test install index clean

# The chat builds the sample index itself on first start (once, with progress) when none exists;
# with CORPUS it serves that folder, indexed into index-<folder name>/ (built once, then updated).
run: install
	$(BIN)/python app.py $(if $(CORPUS),--corpus "$(CORPUS)")

test: install
	$(BIN)/ruff check rag tests eval bench app.py
	$(BIN)/mypy rag app.py
	$(BIN)/python -m pytest -m "slow or not slow"

install: $(VENV)/.installed

# torch is pinned and installed first: an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[app,dev]'
	touch $@

index: $(INDEX)/current

$(INDEX)/current:
	$(BIN)/rag build --corpus $(SAMPLE) --index $(INDEX)

clean:
	rm -rf $(VENV) $(INDEX)
