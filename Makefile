# IMS Clinic: `make run` and `make test` set everything up on a fresh clone (see README).
# With no DATABASE_URL they start a project-local PostgreSQL under var/ (scripts/localdb.py): `make run` the
# durable cluster in var/postgres, `make test` and `make bench` the throwaway one in var/test/postgres.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCALDB := $(PY) scripts/localdb.py run --
LOCALDB_TEST := $(PY) scripts/localdb.py --test run --
HOST ?= 127.0.0.1
PORT ?= 8000
# Test workers: pytest-xdist processes (2 cores here). Set PYTEST_WORKERS=0 to run in one process.
# loadgroup keeps the tests marked xdist_group("scratch_clinic") on one worker, which builds that scratch
# cluster once (tests/clinic/conftest.py).
PYTEST_WORKERS ?= 2
# Awkward instants (clinic time) for `make test-clock`: a Sunday night; just after midnight; a minute
# before the working day's last appointment (15:30, an hour) ends at 16:30. README "Testing".
CLOCK_INSTANTS ?= 2026-12-06T23:40 2026-12-08T00:01 2026-12-09T16:29

# db-start / db-stop: CLUSTER=test for the test cluster.
CLUSTER ?= run
CLUSTER_FLAG := $(if $(filter test,$(CLUSTER)),--test,)

.PHONY: run test test-clock lint venv db-start db-stop seed migrate bench backup restore-drill restore clean lock audit-deps

# Dependencies come from requirements.lock: every package pinned, each file checked against its hash
# (docs/security.md). pyproject.toml keeps the compatible ranges; `make lock` re-pins within them.
$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

lock: venv
	$(VENV)/bin/pip-compile --quiet --generate-hashes --extra dev --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

# Known vulnerabilities in the pinned dependencies, from the Python Packaging Advisory Database through
# PyPI's JSON API: needs network access to it, and says so (exit 2) rather than passing when there is none;
# --strict fails the audit if any package could not be looked up.
audit-deps: venv
	@$(PY) -c "import urllib.request; urllib.request.urlopen('https://pypi.org/pypi/pip/24.0/json', timeout=15)" \
		2>/dev/null || { echo "make audit-deps: PyPI's advisory API (pypi.org/pypi/<name>/<version>/json) cannot" \
		"be reached from this machine, so NOTHING WAS CHECKED. Run it where there is network access."; exit 2; }
	$(VENV)/bin/pip-audit --strict --require-hashes --disable-pip --progress-spinner off -r requirements.lock

venv: $(VENV)/.installed

# migrate connects as the owner role (MIGRATION_DATABASE_URL); seed_demo, the server and the worker as the
# app role, and neither of those last two is even given the owner's URL. The server and the background
# worker (e-mails, scheduled reminders: docs/architecture.md "Background tasks") start and stop together
# (scripts/together.py): Ctrl-C stops both, and either one ending stops the other.
run: venv
	$(LOCALDB) sh -c 'DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput && \
		DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo && \
		DEBUG=$${DEBUG:-1} $(PY) manage.py demo_logins --url http://$(HOST):$(PORT)/ && \
		DEBUG=$${DEBUG:-1} exec env -u MIGRATION_DATABASE_URL $(PY) scripts/together.py \
			-- $(PY) manage.py runserver --noreload $(HOST):$(PORT) \
			-- $(PY) manage.py run_worker'

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv lint
	$(LOCALDB_TEST) $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The tests marked `clock` once at each of CLOCK_INSTANTS (one session: the test database is built once).
test-clock: venv
	CLINIC_TEST_NOW="$(CLOCK_INSTANTS)" $(LOCALDB_TEST) $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m clock $(PYTEST_ARGS)

db-start: venv
	@$(PY) scripts/localdb.py $(CLUSTER_FLAG) start

db-stop: venv
	@$(PY) scripts/localdb.py $(CLUSTER_FLAG) stop

# Benchmarks load their own databases as the superuser (some switch triggers off for the load).
bench: venv
	$(PY) scripts/localdb.py --test run --superuser -- $(PY) bench/run.py $(BENCH_ARGS)

# Backups of the local clinic database (var/postgres; scripts/backup.py, README "Backups").
# make backup [KEEP=14] / make restore-drill [BACKUP=name] / make restore BACKUP=name
backup: venv
	$(PY) scripts/backup.py backup --keep $(or $(KEEP),0)

restore-drill: venv
	$(PY) scripts/backup.py drill $(BACKUP)

restore: venv
	@test -n "$(BACKUP)" || { echo "make restore BACKUP=<name> (see: $(PY) scripts/backup.py list)"; exit 2; }
	$(PY) scripts/backup.py restore $(BACKUP)

clean: venv
	$(PY) scripts/localdb.py stop
	$(PY) scripts/localdb.py --test stop
	rm -rf var $(VENV)
