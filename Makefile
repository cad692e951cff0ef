# Two entry points (see README): `make demo` and `make test`. Both install what they need.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install demo test lint browser bench clean

install: $(VENV)/.installed
	@# nidb match --engine spark (and its tests) need a Java runtime; Debian's is enough
	@command -v java >/dev/null 2>&1 || { \
	  echo "java not found: installing default-jre-headless"; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y --no-install-recommends default-jre-headless \
	  || { $$SUDO apt-get update && \
	       $$SUDO apt-get install -y --no-install-recommends default-jre-headless; }; }
	@# nidb report embeds DejaVu Sans in its PDFs: the built-in PDF fonts have no Vietnamese
	@[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || { \
	  echo "DejaVu Sans not found: installing fonts-dejavu-core"; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y --no-install-recommends fonts-dejavu-core \
	  || { $$SUDO apt-get update && \
	       $$SUDO apt-get install -y --no-install-recommends fonts-dejavu-core; }; }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: install
	$(BIN)/nidb demo

lint: install
	$(BIN)/ruff check nidb tests bench
	$(BIN)/mypy
	@# imports point one way (pyproject.toml [tool.importlinter]; docs/architecture.md)
	$(BIN)/lint-imports --no-cache

browser:
	@# end-to-end tests drive Debian's chromium through Playwright (never a downloaded browser)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "chromium not found: installing Debian's chromium"; \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y --no-install-recommends chromium \
	  || { $$SUDO apt-get update && \
	       $$SUDO apt-get install -y --no-install-recommends chromium; }; }

# PYTEST_ARGS: two workers by default (pytest-xdist; Spark tests share one worker); serial with
# `make test PYTEST_ARGS=`, or add e.g. "--durations=60"; the suite's budget, its shared fixtures
# and how to measure it: docs/testing.md
PYTEST_ARGS ?= -n 2 --dist loadgroup

test: lint browser
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/import_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
