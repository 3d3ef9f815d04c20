"""Obtaining consent (issue 3 item 6): the page, the form POST and the service, and the bad input each
refuses with a message and nothing saved."""

import base64
import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from audit.models import Action, AuditEvent
from consent.errors import ConsentRefused, DuplicateSubmission
from consent.models import ConsentRecord, Region
from consent.selectors import allowed_regions
from consent.services.obtaining import obtain_consent
from tests.factories import SIGNATURE, ConsentFormFactory, FrontDeskFactory, PatientFactory, PhysioFactory
from tests.markup import tags

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_data(consent_form, patient, physio):
    """What the physiotherapist sends: every risk decided (mid back declined), signed."""

    def build(**changes):
        data = {
            "explained_by": physio.pk,
            "signer_name": patient.full_name,
            "signer_relationship": "patient",
            "signature": SIGNATURE,
            "submission_key": str(uuid.uuid4()),
            "form_version": consent_form.pk,
        }
        for risk in consent_form.risks.all():
            data[f"risk_{risk.pk}"] = "decline" if risk.region == Region.MID_BACK else "accept"
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}

    return build


def obtain_url(patient):
    return reverse("consent:obtain", args=[patient.pk])


def test_the_page_shows_the_current_version_with_no_decision_chosen(
    client_for, physio, consent_form, patient
):
    response = client_for(physio).get(obtain_url(patient))
    assert response.status_code == 200
    html = response.content.decode()
    assert consent_form.body in html
    for risk in consent_form.risks.all():
        assert risk.title in html
    risk_fields = {f"risk_{risk.pk}" for risk in consent_form.risks.all()}
    decisions = [radio for radio in tags(html, "input", type="radio") if radio["name"] in risk_fields]
    assert sorted(radio["value"] for radio in decisions) == sorted(["accept", "decline"] * len(risk_fields))
    assert not [radio for radio in decisions if "checked" in radio]
    assert f'<option value="{physio.pk}" selected>' in html  # explained by defaults to the user


def test_a_physio_obtains_consent_by_form_post(client_for, physio, patient, post_data):
    response = client_for(physio).post(obtain_url(patient), post_data())
    consent = ConsentRecord.objects.get(patient=patient)
    assert response.status_code == 302 and response.url == reverse("consent:detail", args=[consent.pk])
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK}
    assert consent.explained_by == physio and consent.signature == SIGNATURE
    event = AuditEvent.objects.get(action=Action.SIGN)
    assert (event.actor, event.patient_id, event.object_id) == (physio, patient.pk, str(consent.pk))
    assert event.detail == f"consent on version {consent.form.version}"  # no decision: front desk sees it


def test_explained_by_may_be_another_physio(client_for, physio, patient, post_data):
    colleague = PhysioFactory()
    client_for(physio).post(obtain_url(patient), post_data(explained_by=colleague.pk))
    assert ConsentRecord.objects.get(patient=patient).explained_by == colleague


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"signature": ""}, "signature", "has not signed"),
        ({"signature": None}, "signature", "has not signed"),
        ({"signer_name": "  "}, "signer_name", "required"),
        ({"signer_relationship": "neighbour"}, "signer_relationship", "valid choice"),
        ({"signature": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}, "signature", "SVG or PNG"),
        ({"signature": "javascript:alert(1)"}, "signature", "SVG or PNG"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(
    client_for, physio, patient, post_data, changes, field, message
):
    response = client_for(physio).post(obtain_url(patient), post_data(**changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not ConsentRecord.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.SIGN).exists()


def test_a_risk_without_a_decision_is_refused(client_for, physio, consent_form, patient, post_data, risk_of):
    neck = risk_of(Region.NECK)
    response = client_for(physio).post(obtain_url(patient), post_data(**{f"risk_{neck.pk}": None}))
    assert response.status_code == 200
    assert response.context["form"].errors[f"risk_{neck.pk}"] == ["Accept or decline this risk."]
    assert "Accept or decline this risk." in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_a_decision_that_is_neither_accept_nor_decline_is_refused(
    client_for, physio, patient, post_data, risk_of
):
    neck = risk_of(Region.NECK)
    response = client_for(physio).post(obtain_url(patient), post_data(**{f"risk_{neck.pk}": "maybe"}))
    assert f"risk_{neck.pk}" in response.context["form"].errors
    assert not ConsentRecord.objects.exists()


def test_a_tampered_risk_id_from_another_version_is_refused(client_for, physio, patient, post_data, risk_of):
    from consent.models import ConsentForm

    neck = risk_of(Region.NECK)
    other = ConsentFormFactory(published_at=None)  # a draft: the current version stays the same
    foreign = other.risks.get(region=Region.NECK)
    data = post_data(**{f"risk_{neck.pk}": None, f"risk_{foreign.pk}": "accept"})
    response = client_for(physio).post(obtain_url(patient), data)
    assert response.status_code == 200
    assert f"risk_{neck.pk}" in response.context["form"].errors
    assert not ConsentRecord.objects.exists()
    assert ConsentForm.objects.count() == 2


def test_the_service_refuses_a_risk_of_another_version(consent_form, patient, physio, risk_of):
    other = ConsentFormFactory(published_at=None)
    decisions = {risk: True for risk in consent_form.risks.all()}
    decisions[other.risks.first()] = True
    with pytest.raises(ConsentRefused, match="not on this version"):
        obtain_consent(
            patient, decisions=decisions, explained_by=physio, signer_name="A", signature=SIGNATURE
        )
    assert not ConsentRecord.objects.exists()


def test_the_service_refuses_missing_decisions_and_names_them(consent_form, patient, physio, risk_of):
    with pytest.raises(ConsentRefused) as refused:
        obtain_consent(
            patient,
            decisions={risk_of(Region.GENERAL): True},
            explained_by=physio,
            signer_name="A",
            signature=SIGNATURE,
        )
    assert "Accept or decline every risk" in refused.value.message_dict["decisions"][0]
    assert risk_of(Region.NECK).title in refused.value.message_dict["decisions"][0]
    assert not ConsentRecord.objects.exists()


def test_the_service_refuses_an_explainer_who_is_not_a_physio(consent_form, patient, risk_of):
    with pytest.raises(ConsentRefused) as refused:
        obtain_consent(
            patient,
            decisions={risk: True for risk in consent_form.risks.all()},
            explained_by=FrontDeskFactory(),
            signer_name="A",
            signature=SIGNATURE,
        )
    assert "explained_by" in refused.value.message_dict


def test_consent_for_an_archived_patient_is_refused(client_for, physio, post_data, consent_form):
    from django.utils import timezone

    archived = PatientFactory(archived_at=timezone.now())
    page = client_for(physio).get(obtain_url(archived))
    assert "This patient is archived" in page.content.decode()
    response = client_for(physio).post(obtain_url(archived), post_data())
    assert response.status_code == 200
    assert "archived" in " ".join(response.context["form"].non_field_errors())
    assert not ConsentRecord.objects.exists()


def test_a_double_submission_saves_one_consent(client_for, physio, patient, post_data):
    client = client_for(physio)
    data = post_data()
    first = client.post(obtain_url(patient), data)
    second = client.post(obtain_url(patient), data)
    consent = ConsentRecord.objects.get(patient=patient)
    assert first.url == second.url == reverse("consent:detail", args=[consent.pk])
    assert AuditEvent.objects.filter(action=Action.SIGN).count() == 1


def test_the_service_reports_a_double_submission(consent_form, patient, physio):
    key = uuid.uuid4()
    arguments = {
        "decisions": {risk: True for risk in consent_form.risks.all()},
        "explained_by": physio,
        "signer_name": "A",
        "signature": SIGNATURE,
        "submission_key": key,
    }
    first = obtain_consent(patient, **arguments)
    with pytest.raises(DuplicateSubmission) as duplicate:
        obtain_consent(patient, **arguments)
    assert duplicate.value.existing == first
    assert ConsentRecord.objects.count() == 1


def test_a_version_published_while_the_page_was_open_is_not_signed(client_for, physio, patient, post_data):
    data = post_data()
    ConsentFormFactory()  # the administrator publishes a newer version
    response = client_for(physio).post(obtain_url(patient), data)
    assert response.status_code == 200
    assert "changed to version" in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_the_service_refuses_a_version_that_is_not_current(consent_form, patient, physio):
    ConsentFormFactory()
    with pytest.raises(ConsentRefused, match="no longer the current form"):
        obtain_consent(
            patient,
            form=consent_form,
            decisions={risk: True for risk in consent_form.risks.all()},
            explained_by=physio,
            signer_name="A",
            signature=SIGNATURE,
        )


def test_without_a_published_version_the_physio_is_sent_back_with_a_message(client_for, physio, patient):
    from django.contrib.messages import get_messages

    response = client_for(physio).get(obtain_url(patient))
    assert response.status_code == 302 and response.url == reverse("patients:chart", args=[patient.pk])
    assert "No consent form version is published yet" in str(list(get_messages(response.wsgi_request))[0])


def test_the_administrator_may_view_the_page_but_not_sign(client_for, consent_form, patient, post_data):
    client = client_for(Role.ADMIN)
    page = client.get(obtain_url(patient))
    assert page.status_code == 200 and "Save signed consent" not in page.content.decode()
    assert client.post(obtain_url(patient), post_data()).status_code == 403
    assert not ConsentRecord.objects.exists()


def test_a_png_signature_is_accepted(consent_form, patient, physio):
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (200, 60), (0, 0, 0, 0))
    ImageDraw.Draw(image).line((10, 30, 190, 35), fill=(0, 0, 0, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    png = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    consent = obtain_consent(
        patient,
        decisions={risk: True for risk in consent_form.risks.all()},
        explained_by=physio,
        signer_name="A",
        signature=png,
    )
    assert consent.signature == png


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    signer_name=st.text(max_size=200),
    relationship=st.sampled_from(["patient", "parent_or_guardian", "substitute_decision_maker", "", "boss"]),
    answers=st.lists(st.sampled_from(["accept", "decline"] * 4 + ["", "yes", None]), min_size=3, max_size=3),
    signature=st.sampled_from([SIGNATURE] * 3 + ["", "data:image/svg+xml;base64,!!!", "x" * 50]),
    explained_by=st.sampled_from(["physio"] * 4 + ["desk", "", "999999", "abc"]),
)
def test_any_input_is_saved_whole_or_refused_with_a_message_never_a_500(
    client_for, physio, consent_form, patient, signer_name, relationship, answers, signature, explained_by
):
    client = client_for(physio)
    desk = FrontDeskFactory()
    risks = list(consent_form.risks.all())
    data = {
        "explained_by": {"physio": physio.pk, "desk": desk.pk}.get(explained_by, explained_by),
        "signer_name": signer_name.replace("\x00", ""),
        "signer_relationship": relationship,
        "signature": signature,
        "submission_key": str(uuid.uuid4()),
        "form_version": consent_form.pk,
    }
    for risk, answer in zip(risks, answers, strict=True):
        if answer is not None:
            data[f"risk_{risk.pk}"] = answer
    before = ConsentRecord.objects.count()
    response = client.post(obtain_url(patient), data)
    valid = (
        signer_name.replace("\x00", "").strip()
        and relationship in ("patient", "parent_or_guardian", "substitute_decision_maker")
        and all(answer in ("accept", "decline") for answer in answers)
        and signature == SIGNATURE
        and explained_by == "physio"
    )
    if valid:
        assert response.status_code == 302
        consent = ConsentRecord.objects.order_by("-id").first()
        assert [d.accepted for d in consent.decisions.order_by("risk_item__order")] == [
            a == "accept" for a in answers
        ]
    else:
        assert response.status_code == 200
        assert response.context["form"].errors
        assert ConsentRecord.objects.count() == before
