"""A database that cannot be reached answers 503 with Retry-After and a plain page, not a 500.

Django turns an exception into a response inside whichever middleware raised it, so the outermost
middleware never sees the exception itself; the got_request_exception signal, sent before that, does.
It marks the request when the exception is a lost or refused database connection (not a query that
failed on a working one), and the middleware swaps the error response for the 503. Nothing else is
needed to recover: the next request opens a new connection (CONN_HEALTH_CHECKS) once the server is back.
"""

import sys

from django.core.signals import got_request_exception
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30


def database_unreachable(error):
    """True when `error` came from a connection that could not be made or has broken."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    raw = connections[DEFAULT_DB_ALIAS].connection
    return raw is None or raw.closed or raw.broken


@receiver(got_request_exception)
def note_unreachable_database(sender, request=None, **kwargs):
    if request is not None and database_unreachable(sys.exc_info()[1]):
        request.database_unreachable = True


def unavailable_response():
    # Rendered without the request: the page must not need the database (no context processors).
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "database_unreachable", False):
            return unavailable_response()
        return response
