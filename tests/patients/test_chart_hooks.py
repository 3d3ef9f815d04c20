"""The chart collectors other apps plug into (patients/chart.py)."""

import pytest
from django.apps import apps
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from patients.chart import chart_panels, patient_badges
from tests.factories import PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db


def clinical_panel(request, patient):
    return {"template": "x.html", "context": {"name": "clinical"}, "order": 20, "clinical": True}


def desk_panel(request, patient):
    return {"template": "x.html", "context": {"name": "desk"}, "order": 10, "clinical": False}


def no_panel(request, patient):
    return None


def consent_badges(patients):
    return {p.pk: [{"label": "No consent on file", "level": "secondary"}] for p in patients}


@pytest.fixture
def hooks(monkeypatch):
    config = apps.get_app_config("patients")
    monkeypatch.setattr(
        config,
        "chart_panels",
        [f"{__name__}.clinical_panel", f"{__name__}.desk_panel", f"{__name__}.no_panel"],
        raising=False,
    )
    monkeypatch.setattr(config, "patient_badges", [f"{__name__}.consent_badges"], raising=False)


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_panels_come_in_order_and_clinical_ones_only_for_clinicians(hooks, physio, front_desk):
    patient = PatientFactory()
    physio_names = [p["context"].get("name") for p in chart_panels(request_for(physio), patient)]
    desk_names = [p["context"].get("name") for p in chart_panels(request_for(front_desk), patient)]
    assert [name for name in physio_names if name in ("desk", "clinical")] == ["desk", "clinical"]
    assert "clinical" not in desk_names and "desk" in desk_names


def test_badges_merge_screening_flags_due_and_other_apps(hooks):
    flagged = ScreeningFactory(
        pregnancy=True, infection_at_site=True, infection_at_site_site=["calf"]
    ).patient
    unscreened = PatientFactory()
    badges = patient_badges([flagged, unscreened])
    # A precaution in amber, a contraindication in red, each saying where it applies.
    assert {"label": "Pregnancy", "level": "warning", "title": "Precaution: every point"} in badges[
        flagged.pk
    ]
    assert {
        "label": "Infection at the site",
        "level": "danger",
        "title": "Contraindication: at the site: calf",
    } in badges[flagged.pk]
    assert {"label": "No consent on file", "level": "secondary"} in badges[flagged.pk]
    assert any("Screening due" in b["label"] for b in badges[unscreened.pk])
    assert not any("Screening due" in b["label"] for b in badges[flagged.pk])


def test_badges_take_the_same_queries_for_1_or_40_patients(hooks):
    one = [ScreeningFactory(diabetes=True).patient]
    many = [ScreeningFactory(epilepsy=True).patient for _ in range(40)]
    with CaptureQueriesContext(connection) as for_one:
        patient_badges(one)
    with CaptureQueriesContext(connection) as for_many:
        badges = patient_badges(many)
    assert len(for_one) == len(for_many) >= 1
    assert all(
        {"label": "Epilepsy", "level": "warning", "title": "Precaution: every point"} in badges[p.pk]
        for p in many
    )
