# Everyday targets. `make serve` and `make test` each work on a fresh checkout by themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install serve demo test pytest lint fmt typecheck contracts contracts-check bench migration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The embedded sandbox: SQLite file, in-process jobs, local Telegram and TON emulators.
serve: install
	$(BIN)/chainfluence serve

# One whole deal played and told step by step on a throwaway sandbox (exit 1 if a step fails).
demo: install
	$(BIN)/chainfluence demo

# The whole suite, as CI runs it: lint, types, the contract artifact, and pytest on SQLite and
# PostgreSQL (127.0.0.1:5432) with Redis (127.0.0.1:6379). Missing services fail the run.
test: install lint typecheck contracts-check pytest

# Three workers on two cores: the suite waits on I/O (emulators, databases) as much as it computes.
pytest: install
	$(BIN)/pytest -q -n 3

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

fmt: install
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

typecheck: install
	$(BIN)/mypy

contracts:
	cd contracts && npm ci --no-audit --no-fund && node build.mjs

contracts-check:
	cd contracts && npm ci --no-audit --no-fund && node build.mjs --check

# Benchmarks print figures; they are scripts, not tests.
bench: install
	$(BIN)/python -m benchmarks

# Autogenerate the next migration from the models: make migration m="add something"
migration: install
	$(BIN)/chainfluence db revision "$(m)"
	$(BIN)/ruff format src/chainfluence/migrations/versions

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
