# Everyday targets. `make serve` and `make test` each work on a fresh checkout by themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CLIENT := clients/typescript
PAGES  := clients/pages
# The resolver that writes the lock files, pinned so a refresh is reproducible too.
UV_VERSION := 0.13.9
LOCK_VENV  := .venv-lock
UV_COMPILE := $(LOCK_VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" pyproject.toml requirements/build.in

.PHONY: install lock serve demo test pytest cluster lint fmt imports typecheck contracts contracts-check clients \
	clients-check pages pages-check bench bench-cpu bench-areas bench-probes \
	gas migration mutation clean

# Installs exactly the locked versions (every file checked against its hash), then the project
# itself and the sandbox distribution (packages/chainfluence-sandbox) without resolving anything.
# The image installs requirements/service.txt the same way, and the product alone.
# It also brings the TVM the sandbox and the tests run (node; contracts/package-lock.json), and
# the TypeScript client's tools (clients/typescript/package-lock.json; node is dev/CI only).
$(STAMP): pyproject.toml packages/chainfluence-sandbox/pyproject.toml requirements/dev.txt \
		contracts/package-lock.json $(CLIENT)/package-lock.json $(PAGES)/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e . -e packages/chainfluence-sandbox
	cd contracts && npm ci --no-audit --no-fund
	cd $(CLIENT) && npm ci --no-audit --no-fund
	cd $(PAGES) && npm ci --no-audit --no-fund
	@# The pages' browser test drives Debian's Chromium (never a browser a tool downloads).
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium chromium-driver; \
		else echo "note: apt-get install chromium chromium-driver (as root) for the browser test"; fi
	touch $(STAMP)

install: $(STAMP)

# Re-resolve the lock files from pyproject.toml's ranges (newest versions that fit): run it after
# changing a dependency, review the diff, run the tests, commit pyproject and both locks together.
# dev.txt is constrained by service.txt, so a package has the same version in both.
lock:
	test -x $(LOCK_VENV)/bin/uv || ($(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION))
	$(UV_COMPILE) -o requirements/service.txt
	$(UV_COMPILE) --extra dev -c requirements/service.txt -o requirements/dev.txt

# The embedded sandbox: SQLite file, in-process jobs, local Telegram and TON emulators.
serve: install
	$(BIN)/chainfluence serve

# One whole deal played and told step by step on a throwaway sandbox (exit 1 if a step fails).
demo: install
	$(BIN)/chainfluence demo

# The whole suite, as CI runs it: lint, types, the contract artifact, and pytest on SQLite and
# PostgreSQL (127.0.0.1:5432) with Redis (127.0.0.1:6379). Missing services fail the run.
# The cluster test runs alongside the suite: most of its wall time is deals waiting for their
# posting time and holds, so together they take about as long as the suite alone. Each one's
# output is printed whole when it ends; the run fails if either fails.
test: install lint imports typecheck contracts-check clients-check pages-check
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest cluster

# Three workers on two cores: the suite waits on I/O (emulators, databases) as much as it computes.
pytest: install
	$(BIN)/pytest -q -n 3 -m "not cluster"

# The production shape as processes (sandbox, api ×2, worker ×2, PostgreSQL, its own redis-server)
# playing deals while processes are killed; prints a table and its seed. About ten minutes.
cluster: install
	$(BIN)/pytest -q -s -p no:randomly -n 0 -m cluster tests/cluster

lint: install
	$(BIN)/ruff check src packages tests benchmarks
	$(BIN)/ruff format --check src packages tests benchmarks

fmt: install
	$(BIN)/ruff check --fix src packages tests benchmarks
	$(BIN)/ruff format src packages tests benchmarks

# The import contracts in pyproject's [tool.importlinter] (layers; the product never imports the
# sandbox; the chain layer imports no deal module). ARCHITECTURE.md describes them.
imports: install
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

contracts:
	cd contracts && npm ci --no-audit --no-fund && node build.mjs

contracts-check:
	cd contracts && npm ci --no-audit --no-fund && node build.mjs --check

# The TypeScript client (clients/typescript): the app's OpenAPI document, dumped without a
# server, and the types openapi-typescript generates from it. Commit both after an API change.
clients: install
	$(BIN)/chainfluence openapi --output $(CLIENT)/openapi.json
	cd $(CLIENT) && npx openapi-typescript openapi.json --output src/schema.d.ts && npx tsc --noEmit

# Fails when the committed client differs from what the API generates now, then type-checks it.
clients-check: install
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	$(BIN)/chainfluence openapi --output "$$scratch/openapi.json" && \
	(cd $(CLIENT) && npx openapi-typescript "$$scratch/openapi.json" --output "$$scratch/schema.d.ts" \
		>/dev/null) && \
	if ! diff -u $(CLIENT)/openapi.json "$$scratch/openapi.json" || \
		! diff -u $(CLIENT)/src/schema.d.ts "$$scratch/schema.d.ts"; then \
		echo "clients/typescript is out of date with the API: run 'make clients' and commit it"; \
		exit 1; \
	fi
	cd $(CLIENT) && npx tsc --noEmit

# Mutation testing of the rules that move money (mutmut; what and why in pyproject's
# [tool.mutmut]), function by function. CPU heavy, so it runs at the lowest priority and is not
# part of `make test` or CI. Its own venv: the dev lock plus mutmut, pinned.
MUTMUT_VERSION := 3.8.1
MUTATION_VENV  := .venv-mutation
MUTANTS := $(foreach f,x_check x_target_of x__stamp x_transition,"chainfluence.deals.state_machine.$(f)__*") \
	"chainfluence.deals.service.x_platform_fee__*" \
	$(foreach f,x_payout_nano x_op_value_nano,"chainfluence.ton.wallet.$(f)__*") \
	$(foreach f,x_split_amounts x_escrow_initial_data x_split_body x__op_body x_release_body \
		x_refund_body,"chainfluence.ton.escrow.$(f)__*") \
	"chainfluence.ton.ton_proof.x_verify_ton_proof__*"
MUTATION_STAMP := $(MUTATION_VENV)/.installed-stamp
$(MUTATION_STAMP): pyproject.toml packages/chainfluence-sandbox/pyproject.toml requirements/dev.txt
	test -x $(MUTATION_VENV)/bin/python || $(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements/dev.txt
	$(MUTATION_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps \
		--no-build-isolation -e . -e packages/chainfluence-sandbox
	$(MUTATION_VENV)/bin/pip install --quiet --disable-pip-version-check mutmut==$(MUTMUT_VERSION)
	touch $(MUTATION_STAMP)

mutation: install $(MUTATION_STAMP)
	rm -rf mutants
	CHAINFLUENCE_TEST_DATABASES=sqlite nice -n 19 $(MUTATION_VENV)/bin/mutmut run $(MUTANTS)
	$(MUTATION_VENV)/bin/mutmut results

# The pay and wallet pages (/app/pay/{dealId}, /app/wallet): clients/pages/src bundled with
# TON Connect's UI library by esbuild (both pinned in clients/pages/package-lock.json) into
# src/chainfluence/pages/static/pages.js. Commit the bundle; pages-check rebuilds and compares.
pages: install
	cd $(PAGES) && node build.mjs

pages-check: install
	cd $(PAGES) && node build.mjs --check

# Benchmarks print figures; they are scripts, not tests. `make bench`: the hot read paths against
# a bare baseline app in one run, driven by wrk (see benchmarks/speed.py); PostgreSQL on
# 127.0.0.1:5432 and Redis on 127.0.0.1:6379. The older per-area benchmarks: `make bench-areas`.
# `make bench-cpu`: the same cases as CPU time per request (server process and its PostgreSQL
# backends), the figure that stays comparable when the machine is busy.
bench: install
	$(BIN)/python -m benchmarks.speed

bench-cpu: install
	$(BIN)/python -m benchmarks.speed --cpu --connections 16

bench-areas: install
	$(BIN)/python -m benchmarks

# Telegram calls of the live-ad probes per day, MTProto against forward (a simulated day).
bench-probes: install
	$(BIN)/python -m benchmarks probes

# Escrow gas and fees per op, contract v1 (FunC) against v2 (Tolk), from the TVM (a few seconds).
gas: install
	$(BIN)/python -m benchmarks escrow_gas

# Autogenerate the next migration from the models: make migration m="add something"
migration: install
	$(BIN)/chainfluence db revision "$(m)"
	$(BIN)/ruff format src/chainfluence/migrations/versions

clean:
	rm -rf $(VENV) $(LOCK_VENV) $(MUTATION_VENV) mutants .mypy_cache .ruff_cache .pytest_cache var
