"""No silent default in a clinical field (issue 11, part 4): the side is chosen for each point, a needle
size carried over from the last point is shown as such, and the muscle list gives each muscle over the
lung fields its published advisory depth, or the lung-field prompt where no source gives one."""

import pytest
from django.urls import reverse

from tests.factories import muscle, needle
from treatments.forms import PointForm
from treatments.models import NeedlePoint
from treatments.services import add_point

pytestmark = pytest.mark.django_db


def test_the_side_has_no_default_and_is_required(client, consented_draft, clinician):
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[consented_draft.pk])).content.decode()
    side_select = page[page.index('name="side"') : page.index("</select>", page.index('name="side"'))]
    assert (
        "selected" not in side_select.split('value="L"')[1]
        and '<option value="" selected>Choose side' in side_select
    )
    response = client.post(
        reverse("treatments:point_add", args=[consented_draft.pk]),
        {"muscle": muscle("Gluteus medius").pk, "side": "", "needle_size": needle("0.30", 60).pk,
         "depth_mm": "40", "insertions": "1", "technique": "pistoning", "twitch_response": "none",
         "patient_response": "none"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert "Choose the side of this point." in response.content.decode()
    assert not NeedlePoint.objects.exists()


def test_after_a_point_the_next_form_asks_for_the_side_again(
    client, consented_draft, clinician, point_fields
):
    add_point(consented_draft, by=clinician, **point_fields)  # right
    form = PointForm(carried_needle=needle("0.30", 60))
    assert form["side"].value() is None


def test_a_click_on_one_side_of_the_body_chart_chooses_that_side(client, consented_draft, clinician):
    client.force_login(clinician)
    page = client.get(
        reverse("treatments:point_form", args=[consented_draft.pk]), {"region": "calf", "side": "L"}
    ).content.decode()
    assert '<option value="L" selected>Left</option>' in page


def test_the_needle_size_carried_over_says_so(client, consented_draft, clinician, point_fields):
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[consented_draft.pk])).content.decode()
    assert "Carried over from your last point" not in page  # nothing to carry yet
    add_point(consented_draft, by=clinician, **{**point_fields, "needle_size": needle("0.25", 50)})
    page = client.get(reverse("treatments:session", args=[consented_draft.pk])).content.decode()
    assert "Carried over from your last point (0.25 x 50 mm): check it is the needle in your hand." in page


def test_the_muscle_list_gives_published_depths_and_the_lung_field_prompt_otherwise():
    field = PointForm().fields["muscle"]
    names = ["Rhomboid major", "Rhomboid minor", "Upper trapezius", "Gluteus medius"]
    labels = {muscle(name).pk: field.label_from_instance(muscle(name)) for name in names}
    assert labels[muscle("Rhomboid major").pk] == "Rhomboid major (risk: mid) · advisory max 19 mm"
    assert (
        labels[muscle("Rhomboid minor").pk]
        == "Rhomboid minor (risk: mid) · lung field: angle away, bracket the rib"
    )
    assert labels[muscle("Upper trapezius").pk].endswith("lung field: angle away, bracket the rib")
    assert labels[muscle("Gluteus medius").pk] == "Gluteus medius"


def test_every_catalogue_depth_cites_its_source_and_none_is_invented():
    from treatments.catalogue import DEPTH_SOURCES
    from treatments.models import Muscle

    with_depth = Muscle.objects.filter(advisory_max_depth_mm__isnull=False)
    assert {m.name for m in with_depth} == set(DEPTH_SOURCES)
    assert all(m.advisory_depth_source == DEPTH_SOURCES[m.name] for m in with_depth)
    assert "Valera-Calero" in DEPTH_SOURCES["Rhomboid major"]
