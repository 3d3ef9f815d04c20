"""Every free-text field has a length limit in the form, in model validation and in the database: an
addendum of 100 kB, or any note past its limit, is refused with a message and nothing is saved."""

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.urls import reverse

from clinic.fields import LimitedTextField
from tests.factories import (
    AppointmentFactory,
    NeedlingSessionFactory,
    complete_session,
)

OUR_APPS = {"accounts", "audit", "patients", "consent", "appointments", "treatments", "reports", "interop"}
# Text the application writes itself, never typed by a person: a name normalised for search, the audit
# trail's detail (bounded by what writes it) and Django's encoded session data.
NOT_TYPED = {
    ("patients", "patient", "search_name"),
    ("audit", "auditevent", "detail"),
    ("accounts", "staffsession", "session_data"),
    # the import's own reasons for refusing a staged row (written by interop/imports.py, from cells already
    # bounded by the file's limits; kept only while the batch waits)
    ("interop", "stagedpatient", "refusal"),
}


def text_fields():
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.TextField):
                yield model, field


def test_every_free_text_field_is_limited_and_the_database_holds_the_limit():
    checked = 0
    for model, field in text_fields():
        key = (model._meta.app_label, model._meta.model_name, field.name)
        if key in NOT_TYPED:
            continue
        assert isinstance(field, LimitedTextField), f"{model.__name__}.{field.name} has no length limit"
        names = {constraint.name for constraint in model._meta.constraints}
        expected = f"{model._meta.app_label}_{model._meta.model_name}_{field.name}_length"
        assert expected in {name % {"app_label": key[0], "class": key[1]} for name in names}, expected
        checked += 1
    assert checked >= 15


def test_every_text_field_is_limited_in_its_form():
    from django import forms

    for model, field in text_fields():
        if isinstance(field, LimitedTextField):
            form_field = field.formfield()
            assert isinstance(form_field, forms.CharField) and form_field.max_length == field.max_length


@pytest.mark.django_db
def test_the_database_refuses_an_over_long_note_from_raw_updates():
    from treatments.models import CLINICAL_NOTE, NeedlingSession

    session = NeedlingSessionFactory()
    with pytest.raises(IntegrityError, match="needlingsession_plan_length"), transaction.atomic():
        NeedlingSession.objects.filter(pk=session.pk).update(plan="x" * (CLINICAL_NOTE + 1))
    NeedlingSession.objects.filter(pk=session.pk).update(plan="x" * CLINICAL_NOTE)


@pytest.mark.django_db
def test_booking_notes_over_the_limit_are_refused_by_the_database_and_full_clean():
    from django.core.exceptions import ValidationError

    from appointments.models import Appointment

    appointment = AppointmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(notes="n" * 2001)
    appointment.notes = "n" * 2001
    with pytest.raises(ValidationError, match="at most 2000 characters"):
        appointment.full_clean()


@pytest.mark.django_db
def test_an_addendum_of_100_kb_is_refused_with_a_message_and_nothing_saved(client_for):
    from accounts.models import Role
    from treatments.models import Addendum
    from treatments.services import sign_session

    client = client_for(Role.PHYSIO)
    session = complete_session(NeedlingSessionFactory(clinician=client.user))
    from tests.factories import PatientFactory, give_consent  # noqa: F401

    give_consent(session.patient)
    sign_session(session, by=client.user)
    response = client.post(
        reverse("treatments:addendum_add", args=[session.pk]), {"text": "a" * 100_000}, follow=True
    )
    assert response.status_code == 200
    assert "at most 10000 characters" in response.content.decode()
    assert not Addendum.objects.exists()


@pytest.mark.django_db
def test_an_over_long_assessment_is_a_form_error_and_nothing_saved(client_for):
    from accounts.models import Role
    from treatments.models import NeedlingSession

    client = client_for(Role.PHYSIO)
    session = NeedlingSessionFactory(clinician=client.user)
    response = client.post(
        reverse("treatments:save", args=[session.pk]),
        {"presenting_complaint": "p" * 10_001, "version": session.version},
    )
    assert response.status_code == 422
    assert "at most 10000 characters" in response.content.decode()
    assert NeedlingSession.objects.get(pk=session.pk).presenting_complaint == ""
