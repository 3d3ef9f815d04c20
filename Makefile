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

.PHONY: run test lint venv db-start db-stop seed migrate bench clean lock audit-deps

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

db-start: venv
	@$(PY) scripts/localdb.py start

db-stop: venv
	@$(PY) scripts/localdb.py stop

bench: venv
	$(LOCALDB) $(PY) bench/run.py $(BENCH_ARGS)

clean: db-stop
	rm -rf var $(VENV)
