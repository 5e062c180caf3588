# ketju: `make run` sets up, builds and serves; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs into .venv: what serving needs (make run, make build), and on top of it the test
# and benchmark extras (make test, quick, lint, bench, screenshots). Each step says what it does.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-test

.PHONY: setup setup-run build run test quick lint bench clean browser virtuoso tools screenshots

SIZE ?= 1m
# The browser tests drive Debian's Chromium (no browser download at test time); the benchmarks
# use wrk as their load generator; the scale-out test puts nginx in front of two servers. All
# come from the system packages.
CHROMIUM := /usr/bin/chromium
WRK := /usr/bin/wrk
# The remote-mode tests run against Virtuoso 7 too (Debian's virtuoso-opensource; the tests
# start their own on loopback ports, each with a database folder of its own).
VIRTUOSO := /usr/bin/virtuoso-t
NGINX := /usr/sbin/nginx

$(BIN)/python:
	@echo "==> Creating the virtual environment $(VENV) with $(PYTHON) (3.11 or newer)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> Updating pip in $(VENV)"
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing ketju and what serving needs into $(VENV) (no test or benchmark tools)"
	$(BIN)/pip install --progress-bar off -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing ketju with the test and benchmark extras into $(VENV)"
	$(BIN)/pip install --progress-bar off -e '.[test,bench]'
	touch $(STAMP) $(RUN_STAMP)

setup: $(STAMP)

setup-run: $(RUN_STAMP)

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


# nginx-light (a few hundred kB): the test runs it as a process of its own on a free port.
# Debian's package also installs the system service, which its own start rules may start.
$(NGINX):
	apt-get install -y -q nginx-light || (apt-get update -q && apt-get install -y -q nginx-light)

tools: $(CHROMIUM) $(WRK) $(VIRTUOSO) $(NGINX)

build: $(RUN_STAMP)
	$(BIN)/ketju build

run: $(RUN_STAMP)
	@echo "==> Building the store from ontology/, shapes/ and data/ (skipped when nothing changed)"
	$(BIN)/ketju build --if-needed
	@echo "==> What the store holds"
	$(BIN)/ketju status
	@echo "==> Starting the server (Ctrl-C stops it)"
	$(BIN)/ketju serve --no-build

# Every test: the fast tier on every core (with every property-test example), then the slow
# tier (real servers, browser, npm clients, remote engines, the proxy in front of two
# servers, the benchmark's quick run), one at a time: what CI runs.
test: setup tools
	$(BIN)/ruff check src tests $(wildcard bench) $(wildcard tools)
	KETJU_EXAMPLES=all $(BIN)/python -m pytest -m "not slow" -n auto
	$(BIN)/python -m pytest -m slow

# Quick feedback while working (under a minute): the tests not marked slow, web tests in process.
quick: setup
	$(BIN)/python -m pytest -m "not slow" -n auto

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
# The workbook (docs/screenshots/workbook.png) is printed by LibreOffice, headless, and made a
# PNG by poppler's pdftoppm; both are installed here only.
SCREENSHOTS_LANG ?= fi
SOFFICE := /usr/bin/soffice
PDFTOPPM := /usr/bin/pdftoppm
$(SOFFICE) $(PDFTOPPM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	  libreoffice-calc-nogui poppler-utils || (apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	  libreoffice-calc-nogui poppler-utils)
screenshots: setup $(CHROMIUM) $(SOFFICE) $(PDFTOPPM)
	$(BIN)/python tools/screenshots.py --lang $(SCREENSHOTS_LANG)

clean:
	rm -rf $(VENV) var
