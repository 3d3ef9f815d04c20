# IMS Clinic: `make run` and `make test` set everything up on a fresh clone (see README).
# With no DATABASE_URL they start a project-local PostgreSQL under var/ (scripts/localdb.py).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCALDB := $(PY) scripts/localdb.py run --
HOST ?= 127.0.0.1
PORT ?= 8000
# Test workers: pytest-xdist processes (2 cores here). Set PYTEST_WORKERS=0 to run in one process.
PYTEST_WORKERS ?= 2
# Awkward instants (clinic time) for `make test-clock`: a Sunday night; just after midnight; a minute
# before the working day's last appointment (15:30, an hour) ends at 16:30. README "Testing".
CLOCK_INSTANTS ?= 2026-12-06T23:40 2026-12-08T00:01 2026-12-09T16:29

.PHONY: run test test-clock lint venv db-start db-stop seed migrate bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(LOCALDB) sh -c 'DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput && \
		DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo && \
		DEBUG=$${DEBUG:-1} $(PY) manage.py demo_logins --url http://$(HOST):$(PORT)/ && \
		DEBUG=$${DEBUG:-1} exec $(PY) manage.py runserver --noreload $(HOST):$(PORT)'

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv lint
	$(LOCALDB) $(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The tests marked `clock` once at each of CLOCK_INSTANTS (one session: the test database is built once).
test-clock: venv
	CLINIC_TEST_NOW="$(CLOCK_INSTANTS)" $(LOCALDB) $(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m clock $(PYTEST_ARGS)

db-start: venv
	@$(PY) scripts/localdb.py start

db-stop: venv
	@$(PY) scripts/localdb.py stop

bench: venv
	$(LOCALDB) $(PY) bench/run.py $(BENCH_ARGS)

clean: db-stop
	rm -rf var $(VENV)
