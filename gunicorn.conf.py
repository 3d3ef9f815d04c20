"""gunicorn's settings for IMS Clinic (README "Deploying"): `gunicorn -c gunicorn.conf.py clinic.wsgi`.

Every value comes from the environment, with defaults fit for one app server of a clinic; the command
line overrides any of them (`--workers 1`). Servers keep no state of their own (sessions and files live in
PostgreSQL), so any number of them can run behind a load balancer on one database (docs/architecture.md,
"Growing past one machine").
"""

import os

# Where to listen: the reverse proxy (or load balancer) talks to this address.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")

# Sync workers: one request at a time each, the model Django's database connections (CONN_MAX_AGE, one
# connection per worker) and WeasyPrint were written for. Four suit a 2-core machine: pages wait on
# PostgreSQL about half of their time, so two per core keep the cores busy. More servers, not more
# threads, is how the app grows.
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "sync"

# A CSV export of ten million rows streams for about 20 s; an XLSX of 200,000 rows is built for about 10 s.
# A request taking longer than this is stuck, and its worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30

# Replace each worker after about a thousand requests (with jitter, so they do not all restart at once):
# a slow leak in a library (PDF rendering) cannot grow for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10

# Behind one proxy on the same machine: trust its X-Forwarded-* from loopback only (the app's own
# TRUSTED_PROXY_COUNT decides how much of X-Forwarded-For the audit trail believes).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Errors to standard error; the proxy keeps the access log ("-" to have gunicorn's too).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")

# Load the app once in the master, before forking: workers share its memory and start at once.
preload_app = True
