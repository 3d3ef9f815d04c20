"""The consent app's refusals, each with a message meant for the user: the services (consent/services/)
raise ConsentRefused and DuplicateSubmission, the consent gate (consent/selectors.py) NeedlingNotAllowed;
views turn them into form errors."""

from django.core.exceptions import ValidationError


class NeedlingNotAllowed(ValidationError):
    """A point for a patient whose consent does not cover it now: the general risks of needling are not
    accepted (no consent, declined, withdrawn, re-consent needed), or the point's risk region is not."""


class ConsentRefused(ValidationError):
    """A consent, withdrawal or publication that cannot be saved, with a message for the user."""


class DuplicateSubmission(ValidationError):
    """The same consent page was submitted twice; .existing is the record the first submission saved."""

    def __init__(self, existing):
        self.existing = existing
        super().__init__("This consent was already saved (the form was submitted twice).", code="duplicate")
