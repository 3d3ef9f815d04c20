"""Signed, expiring links for patients, who never log in to the staff app (issue 15): every patient page is
reached from a public booking page or from a link like these, sent by e-mail.

A token names one object for one purpose: make_token("aftercare", session.pk). It is signed with the
SECRET_KEY and a salt per purpose, so a token made for one purpose (an aftercare handout) is refused for
another (a follow-up questionnaire) even for the same id, and it carries the time it was made: read_token
refuses it after PATIENT_LINK_DAYS days. Nothing is stored: the link cannot be revoked one by one (rotating
SECRET_KEY revokes them all), which is why a page behind it shows only what was meant for the patient's
eyes and nothing a guessed id could reach."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.shortcuts import render


class LinkRefused(Exception):
    """The token is not one we made for this purpose (tampered, truncated, another purpose's)."""


class LinkExpired(LinkRefused):
    """The token was ours but is older than PATIENT_LINK_DAYS."""


def _signer(purpose):
    return signing.TimestampSigner(salt=f"clinic.patient_links:{purpose}")


def make_token(purpose, object_id):
    """A URL-safe token naming `object_id` (an integer) for `purpose`, valid PATIENT_LINK_DAYS days."""
    return _signer(purpose).sign(str(int(object_id)))


def read_token(purpose, token):
    """The object id a token for `purpose` names. Refuses (LinkExpired) a token older than
    PATIENT_LINK_DAYS and (LinkRefused) anything else that is not a token we made for this purpose."""
    try:
        value = _signer(purpose).unsign(token, max_age=timedelta(days=settings.PATIENT_LINK_DAYS))
    except signing.SignatureExpired as error:
        raise LinkExpired(str(error)) from error
    except signing.BadSignature as error:
        raise LinkRefused(str(error)) from error
    if not value.isdigit():
        raise LinkRefused("The token names no object.")
    return int(value)


def patient_page(request, template, context=None, status=200):
    """A page for a patient (public: no login): the clinic's name and phone in its context, never cached."""
    context = {"clinic_phone": settings.CLINIC_PHONE, "clinic_name": settings.CLINIC_NAME, **(context or {})}
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def refused_response(request):
    """The one page every patient link answers when refused, expired or naming nothing (410, not cached):
    it says to call the clinic for a new link and nothing of whether the patient or the object exists."""
    return patient_page(request, "patient_link_refused.html", {"link_days": settings.PATIENT_LINK_DAYS}, 410)
