"""The point form's catalogue is read with fixed SQL (treatments/selectors.py point_catalogue): each of its
three parts must give what its ORM definition gives, whatever the fixtures, in one query, and the form
built from it must offer what the form reading the catalogue itself offers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import NeedlingSessionFactory, PhysioFactory, muscle, needle
from treatments.forms import PointForm
from treatments.models import BodyRegion, Muscle, NeedleSize
from treatments.selectors import point_catalogue
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
