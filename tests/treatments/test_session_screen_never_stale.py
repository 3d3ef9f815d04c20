"""The session screen remembers rendered markup (its form fields and body chart, treatments/rendered.py,
issue 17). Whatever it remembers, the screen shows the session as it now is: after a point is added,
corrected or removed, after the assessment is saved, and after consent is withdrawn or obtained."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from consent.models import ConsentRecord, Region
from consent.services.obtaining import withdraw_consent
from tests.factories import give_consent, muscle, needle
from treatments.bodychart import CHARTS
from treatments.models import Muscle
from treatments.rendered import RenderedOnce
from treatments.services import add_point, remove_point, save_draft, update_point
from treatments.templatetags.session_fields import FIELDS, FORMS

pytestmark = pytest.mark.django_db


@pytest.fixture
def screen(client, consented_draft):
    client.force_login(consented_draft.clinician)
    url = reverse("treatments:session", args=[consented_draft.pk])

    def get():
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    return get


def points_table(page):
    return page[page.index('data-testid="points-table"') : page.index("</table>", page.index("points-table"))]


def body_chart(page):
    start = page.index('id="body-chart"')
    return page[start : page.index("</svg>", start)]


def without_tokens(page):
    """The page without its per-request CSRF tokens."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", page)  # htmx's header (base.html)


def test_the_screen_remembers_its_fields_forms_and_chart(screen):
    screen()
    remembered = len(FIELDS), len(FORMS), len(CHARTS)
    screen()
    assert remembered[0] > 10 and remembered[1] >= 2 and remembered[2] >= 1
    assert (len(FIELDS), len(FORMS), len(CHARTS)) == remembered  # the second view rendered nothing new


def test_the_screen_remembered_is_the_screen_rendered_afresh(screen, consented_draft, monkeypatch):
    draft = consented_draft
    add_point(
        draft,
        by=draft.clinician,
        muscle=muscle("Soleus"),
        side="L",
        needle_size=needle("0.25", 30),
        depth_mm=20,
    )
    with monkeypatch.context() as nothing_remembered:
        nothing_remembered.setattr(RenderedOnce, "get", lambda self, parts, render: render())
        afresh = without_tokens(screen())
    assert without_tokens(screen()) == afresh  # rendered now, and remembered
    assert without_tokens(screen()) == afresh  # served from memory


def test_a_point_added_corrected_or_removed_shows_at_once(screen, consented_draft):
    draft, clinician = consented_draft, consented_draft.clinician
    before = screen()
    assert "No points yet." in before and "Carried over from your last point" not in before
    point = add_point(
        draft, by=clinician, muscle=muscle("Soleus"), side="L", needle_size=needle("0.25", 30), depth_mm=20
    )
    page = screen()
    assert "Soleus" in points_table(page) and "No points yet." not in page
    for name in ("treatments:point_edit", "treatments:point_remove"):  # each row's links
        assert f'"{reverse(name, args=[draft.pk, point.pk])}"' in points_table(page)
    assert body_chart(page) != body_chart(before)  # the dot of point 1 is drawn
    assert f"Carried over from your last point ({needle('0.25', 30)})" in page
    update_point(
        point,
        by=clinician,
        muscle=muscle("Gluteus medius"),
        side="R",
        needle_size=needle("0.30", 60),
        depth_mm=40,
    )
    corrected = screen()
    assert "Gluteus medius" in points_table(corrected) and "Soleus" not in points_table(corrected)
    assert body_chart(corrected) != body_chart(page)
    assert f"Carried over from your last point ({needle('0.30', 60)})" in corrected
    remove_point(point, by=clinician, reason="Entered on the wrong patient")
    removed = screen()
    assert 'data-testid="removed-point-row"' in removed and "Entered on the wrong patient" in removed
    assert body_chart(removed) == body_chart(before)  # no dot once the point is struck through


def test_a_saved_assessment_shows_at_once(screen, consented_draft):
    draft = consented_draft
    assert "Right hip pain since March" not in screen()
    save_draft(
        draft,
        {"presenting_complaint": "Right hip pain since March", "pain_before": 7},
        expected_version=draft.version,
        by=draft.clinician,
    )
    page = screen()
    assert "Right hip pain since March</textarea>" in page
    assert 'name="pain_before" value="7"' in page


def test_consent_withdrawn_or_obtained_shows_at_once(screen, consented_draft):
    patient, clinician = consented_draft.patient, consented_draft.clinician
    page = screen()
    assert 'data-testid="no-needling-consent"' not in page and 'data-testid="points-need-consent"' not in page
    for record in ConsentRecord.objects.filter(patient=patient, withdrawn_at__isnull=True):
        withdraw_consent(record, by=clinician, reason="Changed her mind")
    page = screen()
    assert 'data-testid="no-needling-consent"' in page and 'data-testid="points-need-consent"' in page
    give_consent(patient, accepted=(Region.GENERAL,), declined=(Region.NECK,))
    page = screen()
    assert 'data-testid="no-needling-consent"' not in page
    assert f'data-region="{Region.NECK}" data-state="declined"' in page


def test_every_csrf_token_on_a_remembered_screen_is_the_viewers_own(consented_draft):
    """Markup kept for the next request must hold no CSRF token: a token belongs to one browser, and a
    kept one made the next physiotherapist's Save fail with 403 (found by the browser tests)."""
    from django.middleware.csrf import _unmask_cipher_token

    from tests.conftest import Client

    url = reverse("treatments:session", args=[consented_draft.pk])
    pages = []
    for _ in range(2):  # two browsers of the same physiotherapist: two CSRF secrets
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(consented_draft.clinician)
        response = browser.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        secret = browser.cookies["csrftoken"].value  # this browser's secret
        assert tokens and {_unmask_cipher_token(token) for token in tokens} == {secret}
        pages.append(page)
        data = dict(re.findall(r'name="(csrfmiddlewaretoken)" value="([^"]+)"', page))
        saved = browser.post(reverse("treatments:save", args=[consented_draft.pk]), data)
        assert saved.status_code != 403
    assert len(FORMS) >= 2  # the second browser's forms came from memory


def test_a_muscle_or_needle_size_changed_by_any_door_shows_on_the_next_view(screen):
    """The point form's catalogue is kept under the digest of its rows (treatments.selectors): a row added,
    renamed or retired through the ORM (as the admin saves it) or raw SQL shows on the next view."""
    page = screen()
    assert ">Soleus</option>" in page and "Plantaris" not in page and "0.18 x 13 mm" not in page
    with connection.cursor() as cursor:
        cursor.execute("UPDATE treatments_muscle SET name = 'Soleus (deep)' WHERE name = 'Soleus'")
        cursor.execute(
            "INSERT INTO treatments_needlesize (gauge_mm, length_mm, active) VALUES (0.18, 13, true)"
        )
    page = screen()
    assert ">Soleus (deep)</option>" in page and ">Soleus</option>" not in page and "0.18 x 13 mm" in page
    Muscle.objects.create(name="Plantaris", body_region="calf")
    Muscle.objects.filter(name="Soleus (deep)").update(active=False)
    page = screen()
    assert ">Plantaris</option>" in page and "Soleus" not in page
