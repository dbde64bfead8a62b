# `make run` (install, load the taxonomy, a bounded live crawl, build, serve), `make demo` (the same
# path offline, on the captures in tests/captures), `make test` (every test) and `make check` (the
# tests that need neither the model nor a browser: the loop to run every few minutes).
VENV := .venv
BIN := $(VENV)/bin
SKILLSTACK_HOME ?= $(CURDIR)/data
RUN_LIMIT ?= 300
DEMO_HOME ?= $(CURDIR)/data/demo
export SKILLSTACK_HOME

.PHONY: install run demo test check lint clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	# torch first, pinned to the CPU build: a range admitting a newer torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

# The demo is the same path on the captures, in a home of its own so captured data never mixes with
# a live crawl's. A failed source is reported by name and does not stop the run: build and serve
# what there is (offline, the sources whose course pages were never captured fail).
demo: export SKILLSTACK_HOME := $(DEMO_HOME)
demo: export SKILLSTACK_MIRROR := $(CURDIR)/tests/captures
# The first build embeds ESCO's texts of the taxonomy and defers O*NET's (59 % of the taxonomy's text)
# so the dashboard serves sooner; a second build embeds them in the background at low priority and
# publishes over the first, and the dashboard reads the new catalogue from its next answer on.
# bench/first_run.py times these same steps (`skillstack bench first-run`).
run demo: install
	$(BIN)/skillstack taxonomy load --if-missing
	-$(BIN)/skillstack crawl --limit $(RUN_LIMIT)
	-$(BIN)/skillstack build --defer-onet
	nice -n 10 $(BIN)/skillstack build --if-deferred >> $(SKILLSTACK_HOME)/deferred-build.log 2>&1 &
	$(BIN)/skillstack serve

test: install
	$(BIN)/python -m pytest

check: install
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) build *.egg-info
