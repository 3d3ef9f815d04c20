"""Requests carrying a NUL character are refused before anything reads them.

PostgreSQL cannot store or even compare text containing NUL: a query with one raises DataError, so a NUL
in a path, a query string, a form field, a cookie or a header that reaches a lookup, a filter (the admin's
too) or the audit trail would answer 500. No browser sends one; the answer is a plain 400.
"""

from django.http import HttpResponseBadRequest

NUL = "\x00"
MESSAGE = "Bad request: it contains a NUL character, which no field here accepts.\n"


def texts(request):
    """Every piece of text of a request that a view could hand to the database."""
    yield request.path
    yield request.path_info
    # request.POST is parsed only for form submissions (urlencoded or multipart); a malformed multipart
    # body raises here as it would in the view, and Django answers 400 for it.
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            yield key
            yield from values
    for key, value in request.COOKIES.items():
        yield key
        yield value
    yield from (value for name, value in request.META.items() if name.startswith("HTTP_"))


def refuse_nul_bytes(get_response):
    def middleware(request):
        if any(NUL in text for text in texts(request)):
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
