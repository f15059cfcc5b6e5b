# smsgate: `make run` starts a demo gateway, `make test` runs every check CI runs.
# Prefer the distribution's python3 when it is 3.11+ with venv: Debian builds it with PGO and LTO,
# which measured ~1.7x faster on the SMPP codec here than a plain source build (bench/RESULTS.md).
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
  $$p -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_DIR := tests/interop/node

.PHONY: run test lint typecheck unit deps interop-deps postgres-deps browser-deps dashboard-assets screenshots bench fuzz clean dist compose-check

$(STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

run: $(STAMP)
	$(BIN)/smsgate serve --demo

# Node peers for interop tests live in the repo's ignored files, installed from package.json.
interop-deps:
	@if [ -f $(NODE_DIR)/package.json ]; then \
	  command -v npm >/dev/null || { echo "npm is required for interop tests"; exit 1; }; \
	  [ -d $(NODE_DIR)/node_modules ] || npm install --prefix $(NODE_DIR) --no-audit --no-fund --silent; \
	fi

# The store's tests run against a throwaway PostgreSQL cluster; install the server if missing.
postgres-deps:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing PostgreSQL server binaries"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

# The dashboard's browser tests drive Debian's chromium through Playwright's Python library
# (the playwright package is in the dev extra; it never downloads a browser of its own).
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the dashboard's browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@[ -x $(CHROMIUM) ] || { echo "chromium is required at $(CHROMIUM) for the browser tests"; exit 1; }

# The README's dashboard pictures, taken by the browser tests into docs/screenshots/.
screenshots: $(STAMP) browser-deps
	SMSGATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/doors/dashboard

# The dashboard's vendored scripts (committed), refreshed from npm at pinned versions.
HTMX_VERSION := 2.0.4
CHARTJS_VERSION := 4.4.7
DASHBOARD_STATIC := src/smsgate/doors/dashboard/static
dashboard-assets:
	rm -rf .assets && mkdir -p .assets
	cd .assets && npm pack --silent htmx.org@$(HTMX_VERSION) chart.js@$(CHARTJS_VERSION) >/dev/null
	tar -xzf .assets/htmx.org-$(HTMX_VERSION).tgz -C .assets package/dist/htmx.min.js package/LICENSE
	cp .assets/package/dist/htmx.min.js $(DASHBOARD_STATIC)/htmx.min.js
	cp .assets/package/LICENSE $(DASHBOARD_STATIC)/htmx.LICENSE
	rm -rf .assets/package
	tar -xzf .assets/chart.js-$(CHARTJS_VERSION).tgz -C .assets package/dist/chart.umd.js package/LICENSE.md
	cp .assets/package/dist/chart.umd.js $(DASHBOARD_STATIC)/chart.umd.js
	cp .assets/package/LICENSE.md $(DASHBOARD_STATIC)/chart.LICENSE.md
	rm -rf .assets

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP) interop-deps postgres-deps browser-deps
	$(BIN)/pytest -q

test: lint typecheck unit

# The wheel and sdist a release would publish, in dist/ (`pip install dist/smsgate-*.whl` gives
# the SDK and the `sms` command; add [server] for the gateway).
dist: $(STAMP)
	$(BIN)/python -m pip install -q build
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	@ls dist

# deploy/compose.yaml without Docker: PostgreSQL, the simulator and two nodes as local processes.
compose-check: $(STAMP) postgres-deps
	$(BIN)/python deploy/compose_check.py

bench: $(STAMP)
	@echo "see bench/RESULTS.md for each benchmark's command"

# A million mutated PDUs through the SMPP codec and session (bench/RELIABILITY.md); a few
# thousand of them run in `make test` (tests/smpp/test_fuzz.py).
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_smpp.py --inputs $${FUZZ_INPUTS:-1000000}

clean:
	rm -rf $(VENV) var dist .pytest_cache .mypy_cache .ruff_cache
