# Every target sets itself up: a virtualenv in .venv with the project and its test extras.
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
HOST     ?= 127.0.0.1
PORT     ?= 8000
SCENARIO ?= default
WORKERS  ?= 1
THREADS  ?= 8
CONFIG   ?= demo/connector.yaml
# two pytest-xdist workers (the machines have 2 cores): the suite in about half the time; PYTEST_ARGS= for one
PYTEST_ARGS ?= -n 2
# demo, bench and cassettes pin the (otherwise moving) clock so every run is the same; simulate does not
PINNED_NOW ?= 2026-11-25T00:00:00Z

.PHONY: install browser simulate demo test fuzz bench chaos cassettes docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# the console's browser test drives Debian's chromium (playwright's own browser download is not reachable here)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  echo "installing Debian's chromium for the console's browser test"; \
	  $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
	  { echo "could not install chromium with apt-get: install it (or playwright's chromium) and rerun"; exit 2; }; }

## simulate: serve a scenario with gunicorn (SCENARIO=default|large|qa-...|path.yaml, HOST, PORT, WORKERS, THREADS);
##           the clock follows the wall clock (pin it with PISIM_NOW=..., speed it up with PISIM_CLOCK_SPEED=N)
simulate: install
	$(BIN)/pi-sim serve --scenario $(SCENARIO) --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

## demo: the main job: simulator + connector into ./lakehouse, then a summary of what landed
demo: install
	PISIM_NOW=$(PINNED_NOW) $(BIN)/python -m demo.run --config $(CONFIG)

## test: flake8 and mypy (settings in setup.cfg), then the whole suite (starts its own simulators on free
## loopback ports), with connector/'s branch coverage printed (and held at 90 %, settings in setup.cfg)
test: install browser
	$(BIN)/python -m flake8 connector simulator picommon bench tests demo chaos
	$(BIN)/python -m mypy connector simulator picommon
	$(BIN)/python -m pytest -q --cov --cov-report=term $(PYTEST_ARGS)

## fuzz: schemathesis CLI against the simulator under gunicorn (longer than the in-suite run)
fuzz: install
	$(BIN)/python -m tests.fuzz

## bench: throughput figures for the simulator and the connector
bench: install
	PISIM_NOW=$(PINNED_NOW) $(BIN)/python -m bench.run

## chaos: the soak: a living, faulty simulator, the connector killed at seeded points, then every value compared
CHAOS_ARGS ?=
chaos: install
	$(BIN)/python -m chaos.run $(CHAOS_ARGS)

## cassettes: re-record the vcrpy cassettes from the simulator
cassettes: install
	PISIM_NOW=$(PINNED_NOW) $(BIN)/python -m pytest -q tests/connector/test_cassettes.py --record-mode=rewrite

clean:
	rm -rf $(VENV) lakehouse .pytest_cache .hypothesis .bench

## docs: regenerate docs/tables.md from the table declarations
docs: install
	$(BIN)/python -c "from connector.tables import markdown; print('# Bronze tables\n\nGenerated from the table declarations in \`connector/tables/\` (\`make docs\` rewrites it; a test checks it is current).\n'); print(markdown(2))" > docs/tables.md
