# Zorgsleutel: `make run` and `make test` are the two commands (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# As root: apt-get install what a goal needs; otherwise print the one line to run (never fails).
SYSTEM_PACKAGES := scripts/system-packages

.PHONY: run test lint format bench messages clean vendor-css vendor-css-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(SYSTEM_PACKAGES) run
	DEBUG=$${DEBUG:-1} $(BIN)/zorgsleutel run

test: $(STAMP)
	$(SYSTEM_PACKAGES) test
	DEBUG=1 $(BIN)/python -m pytest tests/vault -p no:cacheprovider --ds=zorgsleutel.vault.settings $(PYTEST_ARGS)
	DEBUG=1 $(BIN)/python -m pytest tests --ignore=tests/vault -p no:cacheprovider --ds=zorgsleutel.settings $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python scripts/layers
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

messages: $(STAMP)
	$(SYSTEM_PACKAGES) messages
	cd src/zorgsleutel && DEBUG=1 ../../$(BIN)/zorgsleutel makemessages -l nl --no-obsolete && DEBUG=1 ../../$(BIN)/zorgsleutel compilemessages

# The NL Design System stylesheet, font and licences under web/static (committed; no Node at run time):
# install the pinned packages of frontend/package-lock.json, then build (scripts/vendor-css).
vendor-css:
	cd frontend && npm ci --no-audit --no-fund
	$(PYTHON) scripts/vendor-css

# Fails when the committed files differ from what the pinned packages build (CI runs this).
vendor-css-check:
	cd frontend && npm ci --no-audit --no-fund
	$(PYTHON) scripts/vendor-css --check

bench: $(STAMP)
	$(BIN)/python bench/vault_verify.py

clean:
	rm -rf $(VENV) var .pytest_cache
