# FlowPilot developer commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CW_PORT ?= 8930
DEMO_ENV := DEBUG=$${DEBUG:-true}

.PHONY: demo install migrate run worker beat test test-fast lint format bench cw-simulator clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(DEMO_ENV) $(PY) manage.py migrate --noinput

# The ConnectWise simulator runs beside daphne (the demo's second account is connected to it)
# and is stopped with it on Ctrl+C.
demo: migrate
	CW_SIMULATOR_SITE=127.0.0.1:$(CW_PORT) $(DEMO_ENV) $(PY) manage.py seed_demo --port $(PORT)
	@echo "Starting FlowPilot at http://127.0.0.1:$(PORT) and the ConnectWise simulator at http://127.0.0.1:$(CW_PORT)  (Ctrl+C to stop)"
	@$(DEMO_ENV) $(PY) manage.py run_cw_simulator --port $(CW_PORT) --seed demo & sim=$$!; \
	trap 'kill $$sim 2>/dev/null; wait $$sim 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) flowpilot.asgi:application

cw-simulator: install
	$(DEMO_ENV) $(PY) manage.py run_cw_simulator --port $(CW_PORT) --seed demo

run: install
	$(DEMO_ENV) $(VENV)/bin/daphne -b 127.0.0.1 -p $(PORT) flowpilot.asgi:application

worker: install
	$(DEMO_ENV) $(VENV)/bin/celery -A flowpilot worker --loglevel=INFO --concurrency=2

beat: install
	$(DEMO_ENV) $(VENV)/bin/celery -A flowpilot beat --loglevel=INFO

# The whole suite. Uses PostgreSQL and Redis on 127.0.0.1 when reachable (or DATABASE_URL /
# REDIS_URL); otherwise SQLite, with service-only tests skipped loudly. Under CI=true nothing is
# skipped for a missing service.
# Coverage is measured on every run and must not fall below fail_under (pyproject.toml), which
# only ever goes up.
test: install
	$(PY) -m pytest -n 2 --dist loadfile $(if $(filter true,$(CI)),--create-db) --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -n 2 --dist loadfile -m "not browser" $(PYTEST_ARGS)

# The pre-commit hooks (.pre-commit-config.yaml) on every file: ruff, ruff format, django-upgrade,
# djade (templates), mypy, import-linter.
lint: install
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 test_db*.sqlite3 .pytest_cache .mypy_cache .ruff_cache
