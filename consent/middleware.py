"""consent_status_once_per_request: the consent statuses a page shows are asked once per request
(consent.selectors.consent_status_on_page), however many parts of the page show them (issue 17)."""

from .selectors import statuses_kept_for_request


def consent_status_once_per_request(get_response):
    def middleware(request):
        with statuses_kept_for_request():
            return get_response(request)

    return middleware
