import pytest

from treatments.models import Muscle, NeedleSize

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_at_least_60_muscles():
    assert Muscle.objects.filter(active=True).count() >= 60


def test_paraspinals_and_multifidus_are_catalogued_by_region_with_segments():
    for name, region in [
        ("Multifidus (cervical)", "neck"),
        ("Multifidus (thoracic)", "mid_back"),
        ("Thoracic paraspinals / erector spinae", "mid_back"),
        ("Cervical paraspinals", "neck"),
    ]:
        found = Muscle.objects.get(name=name)
        assert found.risk_region == region and found.segment_applies


def test_upper_trapezius_is_in_the_neck_risk_region_and_rhomboid_major_advises_19_mm():
    assert Muscle.objects.get(name="Upper trapezius").risk_region == "neck"
    assert Muscle.objects.get(name="Rhomboid major").advisory_max_depth_mm == 19


def test_needle_sizes_read_as_gauge_by_length():
    labels = {str(size) for size in NeedleSize.objects.all()}
    assert {"0.16 x 15 mm", "0.25 x 40 mm", "0.30 x 75 mm"} <= labels


def test_the_administrator_edits_the_catalogue_in_the_admin(client_for):
    client = client_for("administrator")
    response = client.post(
        "/admin/treatments/muscle/add/",
        {"name": "Flexor hallucis longus", "body_region": "calf", "risk_region": "none", "active": "on"},
    )
    assert response.status_code == 302
    assert Muscle.objects.filter(name="Flexor hallucis longus").exists()


def test_muscles_cannot_be_deleted_in_the_admin(client_for):
    client = client_for("administrator")
    upper_trap = Muscle.objects.get(name="Upper trapezius")
    response = client.post(f"/admin/treatments/muscle/{upper_trap.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Muscle.objects.filter(pk=upper_trap.pk).exists()
