"""Probes for load balancers and orchestrators, and the signed-in "hello" the benchmarks measure pages
against. Each answers one word and reveals nothing else: no version, no database name, no reason beyond
ready or not, no name of the person signed in."""

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from accounts.access import public, role_required
from accounts.models import Role

# Once this process has seen its migrations applied they stay applied: later probes only ask the
# database whether it answers, instead of loading every migration file again.
migrations_seen_applied = False


def plain(text, status=200):
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


@public
@require_safe
@never_cache
def healthz(request):
    """The process is up and answering (no database involved): restart it when this fails."""
    return plain("ok")


def migrations_applied(connection):
    global migrations_seen_applied
    if not migrations_seen_applied:
        executor = MigrationExecutor(connection)
        migrations_seen_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return migrations_seen_applied


@public
@require_safe
@never_cache
def readyz(request):
    """The database answers and every migration this code knows is applied: send traffic here."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ready = migrations_applied(connection)
    except DatabaseError:
        ready = False
    if not ready:
        response = plain("not ready", status=503)
        response["Retry-After"] = "5"
        return response
    return plain("ready")


@role_required(*Role)
@require_safe
@never_cache
def hello(request):
    """A signed-in page that does nothing: every middleware a page goes through (session, second factor,
    session limits, access declaration), then one word. What the framework costs a page before the page's
    own work; the benchmarks give each page as a ratio to it (docs/benchmarks.md). Not audited: it shows
    nothing of anybody."""
    return plain("hello")


@public
@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon among the static files
    (its hashed name under manifest storage, served by WhiteNoise) instead of a 404 in every log."""
    return HttpResponseRedirect(static("img/favicon.ico"))
