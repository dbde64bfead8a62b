# The two commands: `make run` (install, load the taxonomy, a bounded crawl, build, serve) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
SKILLSTACK_HOME ?= $(CURDIR)/data
RUN_LIMIT ?= 300
export SKILLSTACK_HOME

.PHONY: install run test lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	# torch first, pinned to the CPU build: a range admitting a newer torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/skillstack taxonomy load --if-missing
	# A failed source is reported by name and does not stop the run: build and serve what there is.
	-$(BIN)/skillstack crawl --limit $(RUN_LIMIT)
	-$(BIN)/skillstack build
	$(BIN)/skillstack serve

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) build *.egg-info
