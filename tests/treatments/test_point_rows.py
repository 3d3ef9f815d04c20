"""The points table's rows are written in Python (treatments/templatetags/point_rows.py), not by the
template per point: what each row shows, its actions for the own draft only (with the page's CSRF token,
so Remove works), a removed point struck through with its reason, and every value escaped."""

import re

import pytest
from django.urls import reverse

from tests.factories import PhysioFactory, muscle, needle
from tests.markup import page_text
from treatments.services import add_point, remove_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def points(consented_draft, clinician):
    """A gluteus point removed with a hostile reason, an upper trapezius point (a risk region, segment C4,
    a twitch), and a rhomboid major point beyond its advisory depth, confirmed."""
    size = needle("0.30", 60)
    removed = add_point(consented_draft, by=clinician, muscle=muscle("Gluteus medius"), side="R",
                        needle_size=size, depth_mm=20.5, insertions=2)  # fmt: skip
    add_point(consented_draft, by=clinician, muscle=muscle("Upper trapezius"), side="L", needle_size=size,
              depth_mm=12, segment="C4", twitch_response="single", patient_response="familiar")  # fmt: skip
    add_point(consented_draft, by=clinician, muscle=muscle("Rhomboid major"), side="R", needle_size=size,
              depth_mm=25, depth_confirmed=True)  # fmt: skip
    remove_point(removed, by=clinician, reason="<b>wrong</b> side & 'x'")
    return consented_draft


def rows(page, testid):
    return re.findall(rf'<tr[^>]*data-testid="{testid}".*?</tr>', page, re.S)


def remove_forms(page):
    return re.findall(r'<form method="post" action="[^"]*/remove/".*?</form>', page, re.S)


def screen(client, user, session):
    client.force_login(user)
    response = client.get(reverse("treatments:session", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_each_row_shows_its_point(client, points, clinician):
    page = screen(client, clinician, points)
    needled = [page_text(row) for row in rows(page, "point-row")]
    assert len(needled) == 2
    trapezius, rhomboid = needled
    for shown in ("Upper trapezius", "Left", "C4", "0.30 x 60 mm", "12 mm", "Single", "Familiar"):
        assert shown in trapezius
    assert "Rhomboid major" in rhomboid and "25 mm (confirmed)" in rhomboid and "—" in rhomboid
    # Both muscles lie over a risk region: each row says which.
    assert all('<span class="badge text-bg-warning">' in row for row in rows(page, "point-row"))


def test_a_removed_point_is_struck_through_with_its_reason_escaped(client, points, clinician):
    page = screen(client, clinician, points)
    [removed] = rows(page, "removed-point-row")
    assert "Gluteus medius, right, 0.30 x 60 mm at 20.5 mm" in page_text(removed)
    assert "<b>wrong</b> side & 'x'" in page_text(removed)  # shown as text
    assert "<b>" not in removed
    assert f"by {clinician}" in page_text(removed)


def test_only_the_own_draft_has_the_actions_and_they_carry_the_csrf_token(client, points, clinician):
    own = screen(client, clinician, points)
    forms = remove_forms(own)
    assert len(forms) == 2
    for form in forms:
        assert 'name="csrfmiddlewaretoken"' in form and "/remove/" in form
    assert f"/sessions/{points.pk}/points/" in own and "/edit/" in own
    colleague = screen(client, PhysioFactory(), points)
    assert remove_forms(colleague) == [] and "/edit/" not in colleague
    assert len(rows(colleague, "point-row")) == 2


def test_removing_a_point_from_its_row_works(client, points, clinician):
    page = screen(client, clinician, points)
    form = remove_forms(page)[0]
    action = form.split('action="', 1)[1].split('"', 1)[0]
    client.post(action, {"reason": "entered twice"})
    assert len(rows(screen(client, clinician, points), "removed-point-row")) == 2
