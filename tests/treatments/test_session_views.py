import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from consent.models import Region
from tests.factories import (
    NeedlingSessionFactory,
    PatientFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlePoint, NeedlingSession, SideEffect
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db


def point_post(**overrides):
    data = {
        "muscle": muscle("Gluteus medius").pk,
        "side": "R",
        "segment": "",
        "needle_size": needle("0.30", 60).pk,
        "depth_mm": "40",
        "insertions": "2",
        "technique": "pistoning",
        "twitch_response": "single",
        "patient_response": "familiar",
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def physio_client(client, draft):
    client.force_login(draft.clinician)
    return client


def test_the_session_page_shows_flags_and_consent_by_region_and_is_audited(physio_client, draft):
    ScreeningFactory(patient=draft.patient, bleeding_risk=True)
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    page = physio_client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert "Bleeding disorder or anticoagulants" in page
    assert "Neck (cervical): Declined" in page and "Mid back (thoracic, chest wall): Accepted" in page
    assert 'class="body-chart"' in page
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(draft.pk)).exists()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER])
def test_front_desk_and_manager_get_403_on_the_session_and_its_pdf(client_for, draft, role):
    client = client_for(role)
    assert client.get(reverse("treatments:session", args=[draft.pk])).status_code == 403
    assert client.get(reverse("treatments:pdf", args=[draft.pk])).status_code == 403
    assert client.post(reverse("treatments:point_add", args=[draft.pk]), point_post()).status_code == 403
    assert not NeedlePoint.objects.exists()


def test_the_administrator_may_view_but_not_write(client_for, draft):
    client = client_for(Role.ADMIN)
    assert client.get(reverse("treatments:session", args=[draft.pk])).status_code == 200
    assert client.post(reverse("treatments:point_add", args=[draft.pk]), point_post()).status_code == 403
    assert client.post(reverse("treatments:sign", args=[draft.pk])).status_code == 403


def test_htmx_adds_a_point_row_and_returns_the_section_with_the_chart(physio_client, draft):
    response = physio_client.post(
        reverse("treatments:point_add", args=[draft.pk]), point_post(), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="point-row"') == 1 and "Gluteus medius" in page
    assert 'hx-swap-oob="true"' in page and 'class="chart-point"' in page
    assert NeedlePoint.objects.get().twitch_response == "single"


def test_the_next_point_form_defaults_to_the_last_needle_size(physio_client, draft):
    physio_client.post(
        reverse("treatments:point_add", args=[draft.pk]),
        point_post(needle_size=needle("0.25", 50).pk),
        HTTP_HX_REQUEST="true",
    )
    page = physio_client.get(reverse("treatments:point_form", args=[draft.pk])).content.decode()
    assert f'<option value="{needle("0.25", 50).pk}" selected>' in page


def test_a_chart_click_narrows_the_muscles_to_the_region(physio_client, draft):
    page = physio_client.get(
        reverse("treatments:point_form", args=[draft.pk]) + "?region=neck_posterior&side=L"
    ).content.decode()
    assert "Upper trapezius" in page and "Gluteus medius" not in page
    assert '<option value="L" selected>' in page


def test_a_neck_point_refused_by_consent_shows_the_message_and_saves_nothing(physio_client, draft):
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    response = physio_client.post(
        reverse("treatments:point_add", args=[draft.pk]),
        point_post(muscle=muscle("Upper trapezius").pk, depth_mm="15"),
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "declined" in page.lower() and 'data-testid="point-errors"' in page
    assert not NeedlePoint.objects.exists()


def test_a_point_refused_from_a_chart_region_comes_back_narrowed_with_its_all_muscles_link(
    physio_client, draft
):
    """Issue 14: the refused form kept the narrowed muscle list but lost the region and the link that
    widens it, so only a reload brought every muscle back."""
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    page = physio_client.post(
        reverse("treatments:point_add", args=[draft.pk]),
        point_post(muscle=muscle("Upper trapezius").pk, depth_mm="15", region="neck_posterior"),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="point-errors"' in page and not NeedlePoint.objects.exists()
    assert '<input type="hidden" name="region" value="neck_posterior">' in page
    assert ">all muscles</a>" in page and "Gluteus medius" not in page

    # Once a point is saved the next form is for every muscle again.
    page = physio_client.post(
        reverse("treatments:point_add", args=[draft.pk]), point_post(), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'name="region"' not in page and "all muscles" not in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"depth_mm": "0"}, "more than 0 mm"),
        ({"depth_mm": "-3"}, "more than 0 mm"),
        ({"depth_mm": "abc"}, "Enter a number"),
        ({"depth_mm": "70"}, "beyond the needle"),
        ({"insertions": "0"}, "at least one insertion"),
        ({"segment": "C9"}, "not one of the available choices"),
        ({"muscle": "999999"}, "not one of the available choices"),
        ({"side": ""}, "Choose the side of this point."),
    ],
)
def test_bad_point_input_shows_a_message_on_the_form_and_saves_nothing(physio_client, draft, change, message):
    response = physio_client.post(
        reverse("treatments:point_add", args=[draft.pk]), point_post(**change), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NeedlePoint.objects.exists()


def test_the_assessment_form_saves_and_refuses_pain_outside_0_to_10(physio_client, draft):
    url = reverse("treatments:save", args=[draft.pk])
    response = physio_client.post(
        url, {"version": 1, "presenting_complaint": "Neck pain", "pain_before": "11"}
    )
    assert response.status_code == 422 and "Pain is scored 0 to 10" in response.content.decode()
    draft.refresh_from_db()
    assert draft.presenting_complaint == "" and draft.version == 1
    response = physio_client.post(
        url, {"version": 1, "presenting_complaint": "Neck pain", "pain_before": "6"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.pain_before == 6 and draft.version == 2


def test_a_stale_form_gets_the_conflict_message_and_overwrites_nothing(physio_client, draft):
    url = reverse("treatments:save", args=[draft.pk])
    physio_client.post(url, {"version": 1, "impression": "First"})
    response = physio_client.post(url, {"version": 1, "impression": "Second"})
    assert "Your changes were not saved and nothing was overwritten" in response.content.decode()
    draft.refresh_from_db()
    assert draft.impression == "First"


def test_side_effect_via_htmx_and_without_severity(physio_client, draft):
    url = reverse("treatments:side_effect_add", args=[draft.pk])
    response = physio_client.post(
        url, {"type": "bruising", "severity": "", "onset": "during"}, HTTP_HX_REQUEST="true"
    )
    assert "Choose the severity" in response.content.decode()
    assert not SideEffect.objects.exists()
    response = physio_client.post(
        url, {"type": "bruising", "severity": "mild", "onset": "during"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-testid="side-effect-row"' in response.content.decode()
    assert SideEffect.objects.get().severity == "mild"


def test_signing_an_incomplete_session_by_post_lists_what_is_missing(physio_client, draft):
    response = physio_client.post(reverse("treatments:sign", args=[draft.pk]), follow=True)
    page = response.content.decode()
    assert "The session cannot be signed yet." in page and "Pain after (NRS) is missing." in page
    assert NeedlingSession.objects.get(pk=draft.pk).signed_at is None


def test_a_signed_session_page_is_read_only_and_posts_are_refused(physio_client, draft, clinician):
    add_point(
        draft,
        by=clinician,
        **{"muscle": muscle("Soleus"), "side": "L", "needle_size": needle("0.30", 50), "depth_mm": 30},
    )
    complete_session(draft)
    sign_session(draft, by=clinician)
    page = physio_client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert "Save draft" not in page and "Add point" not in page and "Sign session" not in page
    assert "Add addendum" in page
    response = physio_client.post(reverse("treatments:point_add", args=[draft.pk]), point_post(), follow=True)
    assert "signed and read-only" in response.content.decode()
    assert draft.points.count() == 1
    response = physio_client.post(
        reverse("treatments:save", args=[draft.pk]), {"version": 2, "plan": "new"}, follow=True
    )
    assert "signed and read-only" in response.content.decode()
    draft.refresh_from_db()
    assert draft.plan.startswith("IMS weekly")


def test_an_addendum_by_post(physio_client, draft, clinician):
    complete_session(draft)
    sign_session(draft, by=clinician)
    url = reverse("treatments:addendum_add", args=[draft.pk])
    page = physio_client.post(url, {"text": ""}, follow=True).content.decode()
    assert "Write the addendum" in page
    page = physio_client.post(url, {"text": "Soreness settled next day."}, follow=True).content.decode()
    assert "Soreness settled next day." in page
    assert AuditEvent.objects.filter(action=Action.ADDENDUM, object_id=str(draft.pk)).exists()


def test_the_session_page_takes_a_constant_number_of_queries(
    physio_client, draft, clinician, django_assert_max_num_queries
):
    url = reverse("treatments:session", args=[draft.pk])
    give_consent(draft.patient)
    for index in range(2):
        add_point(
            draft,
            by=clinician,
            muscle=muscle("Soleus"),
            side="L",
            needle_size=needle("0.30", 50),
            depth_mm=20 + index,
        )
    # 13: the signed-in session and user (2), the needling session, the audit event (4 in the test: its
    # savepoint, the lock and last hash in one round trip, the insert, the release; 2 when served, outside
    # any transaction: BEGIN with the lock and last hash, the insert with COMMIT), the points, the
    # screening, consent status, the side effects, the point form's catalogue with the last needle size.
    with django_assert_max_num_queries(13) as few:
        physio_client.get(url)
    for index in range(25):
        add_point(
            draft,
            by=clinician,
            muscle=muscle("Upper trapezius"),
            side="R",
            needle_size=needle("0.25", 30),
            depth_mm=10 + index % 10,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        physio_client.get(url)


def test_the_chart_panel_lists_sessions_newest_first_with_a_pain_chart(client_for, clinician):
    patient = PatientFactory()
    from datetime import timedelta

    from django.utils import timezone

    older = NeedlingSessionFactory(
        patient=patient, clinician=clinician, started_at=timezone.now() - timedelta(days=7)
    )
    newer = NeedlingSessionFactory(patient=patient, clinician=clinician)
    complete_session(older, pain_before=7, pain_after=4)
    page = client_for(clinician).get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert 'data-testid="sessions-panel"' in page and 'data-testid="pain-chart"' in page
    assert 'aria-label="Pain before and after each session (NRS 0 to 10)"' in page  # markup, not text
    assert page.index(f"/sessions/{newer.pk}/") < page.index(f"/sessions/{older.pk}/")
    assert f"/sessions/{older.pk}/visit-summary.pdf" in page
    front_desk_page = (
        client_for(Role.FRONT_DESK).get(reverse("patients:chart", args=[patient.pk])).content.decode()
    )
    assert "sessions-panel" not in front_desk_page


def test_the_chart_panel_takes_a_constant_number_of_queries(
    client_for, clinician, django_assert_max_num_queries
):
    patient = PatientFactory()
    NeedlingSessionFactory(patient=patient, clinician=clinician)
    client = client_for(clinician)
    url = reverse("patients:chart", args=[patient.pk])
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    NeedlingSessionFactory.create_batch(30, patient=patient, clinician=clinician)
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # +1: the total count past 20
        client.get(url)


def test_a_draft_point_is_corrected_in_place_through_the_same_rules(physio_client, draft, clinician):
    point = add_point(
        draft, by=clinician, muscle=muscle("Soleus"), side="L", needle_size=needle("0.30", 50), depth_mm=20
    )
    url = reverse("treatments:point_edit", args=[draft.pk, point.pk])
    form = physio_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Correct point 1" in form and 'value="20.0"' in form
    data = point_post(muscle=muscle("Soleus").pk, side="R", needle_size=needle("0.30", 50).pk, depth_mm="55")
    page = physio_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "beyond the needle" in page
    point.refresh_from_db()
    assert point.side == "L" and point.depth_mm == 20
    data["depth_mm"] = "25"
    page = physio_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    point.refresh_from_db()
    assert point.side == "R" and point.depth_mm == 25 and page.count('data-testid="point-row"') == 1


def test_a_signed_point_cannot_be_corrected(physio_client, draft, clinician):
    point = add_point(
        draft, by=clinician, muscle=muscle("Soleus"), side="L", needle_size=needle("0.30", 50), depth_mm=20
    )
    complete_session(draft)
    sign_session(draft, by=clinician)
    url = reverse("treatments:point_edit", args=[draft.pk, point.pk])
    data = point_post(muscle=muscle("Soleus").pk, needle_size=needle("0.30", 50).pk, depth_mm="25")
    page = physio_client.post(url, data, follow=True).content.decode()
    assert "signed and read-only" in page
    point.refresh_from_db()
    assert point.depth_mm == 20
