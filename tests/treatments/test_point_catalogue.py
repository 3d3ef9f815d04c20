"""The point form's catalogue is read with fixed SQL (treatments/selectors.py point_catalogue): each of its
three parts must give what its ORM definition gives, whatever the fixtures, in one query, and the form
built from it must offer what the form reading the catalogue itself offers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import NeedlingSessionFactory, PhysioFactory, muscle, needle
from treatments.forms import PointForm
from treatments.models import BodyRegion, Muscle, NeedleSize
from treatments.selectors import forget_kept_catalogue, point_catalogue
from treatments.services import add_point, last_needle_size, remove_point

pytestmark = pytest.mark.django_db

MUSCLE_FIELDS = [f.attname for f in Muscle._meta.concrete_fields]
NEEDLE_FIELDS = [f.attname for f in NeedleSize._meta.concrete_fields]


def values(instances, fields):
    return [tuple(getattr(one, name) for name in fields) for one in instances]


def by_the_orm(region=None):
    muscles = Muscle.objects.filter(active=True)
    if region:
        muscles = muscles.filter(body_region=region)
    return (
        values(muscles.order_by("name"), MUSCLE_FIELDS),
        values(NeedleSize.objects.filter(active=True), NEEDLE_FIELDS),
    )


@pytest.fixture
def retired():
    """A muscle and a needle size taken out of use."""
    muscle("Soleus")  # the seeded catalogue
    Muscle.objects.filter(name="Gluteus medius").update(active=False)
    NeedleSize.objects.filter(gauge_mm="0.25", length_mm=30).update(active=False)


@pytest.mark.parametrize("region", [None, *BodyRegion.values])
def test_the_muscles_and_needle_sizes_are_the_orms(retired, region):
    catalogue = point_catalogue(region=region)
    muscles, needle_sizes = by_the_orm(region)
    assert values(catalogue.muscles, MUSCLE_FIELDS) == muscles
    assert values(catalogue.needle_sizes, NEEDLE_FIELDS) == needle_sizes
    assert muscles and needle_sizes
    assert catalogue.last_needle_size is None  # no clinician named


def test_the_last_needle_size_is_the_one_last_needled_not_removed_by_this_clinician(
    consented_draft, clinician
):
    def both_agree():
        expected = last_needle_size(clinician)
        found = point_catalogue(clinician_id=clinician.pk).last_needle_size
        assert (found and found.pk) == (expected and expected.pk)
        return found

    assert both_agree() is None
    fields = {"side": "R", "depth_mm": 20, "muscle": muscle("Gluteus medius")}
    add_point(consented_draft, by=clinician, needle_size=needle("0.30", 60), **fields)
    last = add_point(consented_draft, by=clinician, needle_size=needle("0.25", 30), **fields)
    assert str(both_agree()) == "0.25 x 30 mm"
    # Taken out of use since: still the one last used, and said so.
    NeedleSize.objects.filter(pk=last.needle_size_id).update(active=False)
    assert both_agree().active is False
    # A point removed as entered in error was not needled.
    remove_point(last, by=clinician, reason="wrong side")
    assert str(both_agree()) == "0.30 x 60 mm"
    # Another clinician's later session does not count; this clinician's earlier session comes before.
    colleague = PhysioFactory()
    later = NeedlingSessionFactory(patient=consented_draft.patient, clinician=colleague)
    add_point(later, by=colleague, needle_size=needle("0.25", 50), **fields)
    earlier = NeedlingSessionFactory(
        patient=consented_draft.patient, clinician=clinician, started_at=timezone.now() - timedelta(days=30)
    )
    add_point(earlier, by=clinician, needle_size=needle("0.16", 25), **fields)
    assert str(both_agree()) == "0.30 x 60 mm"


def test_it_is_one_query(consented_draft, clinician, django_assert_num_queries):
    with django_assert_num_queries(1):
        point_catalogue(region=BodyRegion.values[0], clinician_id=clinician.pk)


@pytest.mark.parametrize("region", [None, "neck_posterior"])
def test_the_form_offers_what_its_querysets_hold(retired, region):
    """The choices shown (from the one query) are those of the querysets a posted point is checked
    against, with the same labels."""
    form = PointForm(region=region, catalogue=point_catalogue(region=region))
    for name in ("muscle", "needle_size"):
        field = form.fields[name]
        shown = [(str(value), label) for value, label in field.widget.choices]
        assert shown == [("", field.empty_label)] + [
            (str(o.pk), field.label_from_instance(o)) for o in field.queryset
        ]
        assert len(shown) > 1


def test_unchanged_rows_are_kept_and_not_built_again(retired):
    forget_kept_catalogue()
    first = point_catalogue(region="neck_posterior")
    again = point_catalogue(region="neck_posterior")
    assert again.muscles is first.muscles and again.needle_sizes is first.needle_sizes
    assert again.muscles_digest == first.muscles_digest and len(again.muscles_digest) == 64
    # Each region is kept under its own digest, beside the whole list.
    everything = point_catalogue()
    assert everything.muscles_digest != first.muscles_digest
    assert point_catalogue(region="neck_posterior").muscles is first.muscles
    assert values(everything.muscles, MUSCLE_FIELDS) == by_the_orm()[0]


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE treatments_muscle SET name = 'Soleus (deep)' WHERE name = 'Soleus'",
        "UPDATE treatments_muscle SET segment_applies = NOT segment_applies WHERE name = 'Soleus'",
        "UPDATE treatments_muscle SET active = false WHERE name = 'Soleus'",
        "UPDATE treatments_muscle SET active = true WHERE name = 'Gluteus medius'",
        "INSERT INTO treatments_muscle (name, body_region, risk_region, advisory_depth_source,"
        " segment_applies, active) VALUES ('Plantaris', 'calf', 'none', '', false, true)",
        "UPDATE treatments_needlesize SET length_mm = 35 WHERE gauge_mm = 0.30 AND length_mm = 50",
        "UPDATE treatments_needlesize SET active = true WHERE gauge_mm = 0.25 AND length_mm = 30",
        "INSERT INTO treatments_needlesize (gauge_mm, length_mm, active) VALUES (0.18, 13, true)",
    ],
)
@pytest.mark.parametrize("region", [None, "calf"])
def test_a_change_made_by_raw_sql_is_read_on_the_next_call(retired, change, region):
    """The kept rows are never stale: any change to the catalogue's rows, by any door, changes their
    digest, and the next call reads them again."""
    needle("0.30", 50)
    kept = point_catalogue(region=region)
    assert point_catalogue(region=region).muscles is kept.muscles  # kept from here on
    with connection.cursor() as cursor:
        cursor.execute(change)
    catalogue = point_catalogue(region=region)
    muscles, needle_sizes = by_the_orm(region)
    assert values(catalogue.muscles, MUSCLE_FIELDS) == muscles
    assert values(catalogue.needle_sizes, NEEDLE_FIELDS) == needle_sizes
    if region is None:  # every change shows in the whole list: what was kept is no longer what is offered
        assert (values(kept.muscles, MUSCLE_FIELDS), values(kept.needle_sizes, NEEDLE_FIELDS)) != (
            muscles,
            needle_sizes,
        )


def test_a_muscle_added_or_renamed_through_the_orm_is_offered_at_once(retired):
    form = PointForm(catalogue=point_catalogue())
    assert "Plantaris" not in str(form["muscle"])
    added = Muscle.objects.create(name="Plantaris", body_region="calf")
    form = PointForm(catalogue=point_catalogue())
    assert f'<option value="{added.pk}">Plantaris</option>' in str(form["muscle"])
    added.name = "Plantaris (medial)"
    added.save()
    written = str(PointForm(catalogue=point_catalogue())["muscle"])
    assert ">Plantaris (medial)</option>" in written and ">Plantaris</option>" not in written
