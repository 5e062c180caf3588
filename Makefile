# ketju: `make run` sets up, builds and serves; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup build run test quick lint bench clean browser virtuoso tools screenshots

SIZE ?= 1m
# The browser tests drive Debian's Chromium (no browser download at test time); the benchmarks
# use wrk as their load generator. Both come from the system packages.
CHROMIUM := /usr/bin/chromium
WRK := /usr/bin/wrk
# The remote-mode tests run against Virtuoso 7 too (Debian's virtuoso-opensource; the tests
# start their own on loopback ports, each with a database folder of its own).
VIRTUOSO := /usr/bin/virtuoso-t

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

setup: $(STAMP)

$(CHROMIUM):
	apt-get install -y -q chromium chromium-driver || \
	  (apt-get update -q && apt-get install -y -q chromium chromium-driver)

browser: $(CHROMIUM)

$(WRK):
	apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)

$(VIRTUOSO):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q virtuoso-opensource || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	   virtuoso-opensource)

virtuoso: $(VIRTUOSO)

tools: $(CHROMIUM) $(WRK) $(VIRTUOSO)

build: setup
	$(BIN)/ketju build

run: setup
	$(BIN)/ketju build --if-needed
	$(BIN)/ketju status
	$(BIN)/ketju serve --no-build

# Every test, the slow tier included (real servers, browser, npm clients, remote engines,
# the benchmark's quick run): what CI runs.
test: setup tools
	$(BIN)/ruff check src tests $(wildcard bench) $(wildcard tools)
	$(BIN)/python -m pytest

# Quick feedback while working (under a minute): the tests not marked slow, web tests in process.
quick: setup
	$(BIN)/python -m pytest -m "not slow"

# What the project enforces: ruff's rules (pyproject.toml) and the import layers (cli > web >
# domain > infra > core, [tool.importlinter]); the tree is not laid out by `ruff format`.
lint: setup
	$(BIN)/ruff check src tests $(wildcard bench) $(wildcard tools)
	$(BIN)/lint-imports --no-cache

bench: setup tools
	$(BIN)/python bench/run.py --size $(SIZE)

# A picture of each kind of page at desktop (1366x900) and phone (390x844) width in
# docs/screenshots/ (what the README shows), in headless Chromium; in Finnish, or
# SCREENSHOTS_LANG=sv or en. Builds the store when needed, serves it on a free port meanwhile.
SCREENSHOTS_LANG ?= fi
screenshots: setup $(CHROMIUM)
	$(BIN)/python tools/screenshots.py --lang $(SCREENSHOTS_LANG)

clean:
	rm -rf $(VENV) var
