# ketju: `make run` sets up, builds and serves; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup build run test lint bench clean browser

# The browser tests drive Debian's Chromium (no browser download at test time).
CHROMIUM := /usr/bin/chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

$(CHROMIUM):
	apt-get install -y -q chromium chromium-driver || \
	  (apt-get update -q && apt-get install -y -q chromium chromium-driver)

browser: $(CHROMIUM)

build: setup
	$(BIN)/ketju build

run: setup
	$(BIN)/ketju build --if-needed
	$(BIN)/ketju status
	$(BIN)/ketju serve --no-build

test: setup browser
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

clean:
	rm -rf $(VENV) var
