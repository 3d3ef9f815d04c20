"""Consent form versions are drafted in the app (issue 14 part 4): a new draft copies the current version's
text and risks, is edited with messages for bad input, previewed exactly as the patient reads it, compared
with the version before, and published through publish_form; a published version is never edited, by
these pages, the admin or a direct save."""

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from consent.errors import ConsentRefused
from consent.models import ConsentForm, Region, RiskItem, SignedRecordError
from consent.services.drafting import RiskText, draft_from_current, save_draft, version_changes
from tests.factories import AdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db


def draft_post(draft, risks, **fields):
    """The edit page's POST: the draft's fields, then the risks formset."""
    data = {
        "title": draft.title,
        "version": draft.version,
        "effective_date": draft.effective_date.isoformat(),
        "body": draft.body,
        **fields,
        "risks-TOTAL_FORMS": str(len(risks)),
        "risks-INITIAL_FORMS": "0",
        "risks-MIN_NUM_FORMS": "0",
        "risks-MAX_NUM_FORMS": "50",
    }
    for n, risk in enumerate(risks):
        for key, value in risk.items():
            data[f"risks-{n}-{key}"] = value
    return data


GENERAL = {
    "order": "0",
    "region": "general",
    "title": "Soreness",
    "description": "Soreness for a day or two.",
}
NECK = {"order": "1", "region": "neck", "title": "Collapsed lung", "description": "Rare: a collapsed lung."}


def test_a_new_draft_copies_the_current_text_and_every_risk(consent_form, client_for):
    client = client_for(Role.ADMIN)
    response = client.post(reverse("consent:new_draft"))
    draft = ConsentForm.objects.get(published_at__isnull=True)
    assert response.status_code == 302 and response["Location"] == reverse("consent:version", args=[draft.pk])
    assert draft.body == consent_form.body and draft.title == consent_form.title
    assert draft.version != consent_form.version
    copied = [(r.region, r.title, r.description, r.order) for r in draft.risks.all()]
    assert copied == [(r.region, r.title, r.description, r.order) for r in consent_form.risks.all()]
    assert consent_form.risks.count() == 3  # the published version keeps its own risks
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="consent.consentform")
    assert f"from version {consent_form.version}" in event.detail


def test_the_next_version_number_follows_the_current_one(db):
    from tests.factories import ConsentFormFactory

    ConsentFormFactory(version="2026.2")
    assert draft_from_current(by=AdminFactory()).version == "2026.3"


def test_the_administrator_edits_a_draft_and_its_risks(consent_form, client_for):
    client = client_for(Role.ADMIN)
    draft = draft_from_current(by=AdminFactory())
    blank_row = {"order": "0", "region": "", "title": "", "description": ""}  # the page's empty row
    response = client.post(
        reverse("consent:version", args=[draft.pk]),
        draft_post(draft, [GENERAL, NECK, blank_row], body="New words for the patient."),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    draft.refresh_from_db()
    assert draft.body == "New words for the patient."
    assert [(r.region, r.title) for r in draft.risks.all()] == [
        ("general", "Soreness"),
        ("neck", "Collapsed lung"),
    ]
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(draft.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "risks", "message"),
    [
        ({"body": "  "}, [GENERAL], "Write the text the patient reads before the risks."),
        ({}, [NECK], "A consent form needs the general risks of needling"),
        (
            {"body": ""},
            [{**GENERAL, "DELETE": "on"}, NECK],
            "A consent form needs the general risks of needling",
        ),
        ({}, [], "A consent form needs the general risks of needling"),
        ({}, [{**GENERAL, "title": ""}], "This field is required."),
        ({}, [{**GENERAL, "region": "knee"}], "Select a valid choice."),
        ({"effective_date": "31/31/2026"}, [GENERAL], "Enter a valid date."),
        ({"version": "{current}"}, [GENERAL], "Another version already has this number"),
    ],
)
def test_bad_input_gives_a_message_and_saves_nothing(consent_form, client_for, fields, risks, message):
    client = client_for(Role.ADMIN)
    draft = draft_from_current(by=AdminFactory())
    before = (draft.body, draft.version, list(draft.risks.values_list("title", flat=True)))
    fields = {k: v.replace("{current}", consent_form.version) for k, v in fields.items()}
    response = client.post(reverse("consent:version", args=[draft.pk]), draft_post(draft, risks, **fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html and message in html
    draft.refresh_from_db()
    assert (draft.body, draft.version, list(draft.risks.values_list("title", flat=True))) == before


def test_the_service_refuses_a_draft_without_general_risk_or_text(consent_form):
    admin = AdminFactory()
    draft = draft_from_current(by=admin)
    with pytest.raises(ConsentRefused, match="general risks"):
        save_draft(draft, risks=[RiskText(region=Region.NECK, title="t", description="d")], by=admin)
    draft.body = ""
    with pytest.raises(ConsentRefused):
        save_draft(draft, risks=[RiskText(region=Region.GENERAL, title="t", description="d")], by=admin)


def test_only_an_administrator_drafts(consent_form):
    with pytest.raises(ConsentRefused, match="Only an administrator"):
        draft_from_current(by=ManagerFactory())
    draft = draft_from_current(by=AdminFactory())
    with pytest.raises(ConsentRefused, match="Only an administrator"):
        save_draft(draft, risks=[], by=ManagerFactory())


def test_the_preview_renders_the_patients_consent_page_text(consent_form, client_for):
    draft = draft_from_current(by=AdminFactory())
    draft.body = "Line one <script>alert(1)</script>\n\nLine two"
    draft.save()
    html = client_for(Role.ADMIN).get(reverse("consent:version_preview", args=[draft.pk])).content.decode()
    assert 'data-testid="consent-body"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert html.count('data-testid="risk"') == 3
    assert "Neck (cervical): Needling over the neck" in html
    assert "Save signed consent" not in html


def test_the_changes_page_shows_removed_and_added_lines_escaped(consent_form, client_for):
    admin = AdminFactory()
    draft = draft_from_current(by=admin)
    draft.body = "Entirely <b>new</b> words."
    save_draft(
        draft,
        risks=[RiskText(region=Region.GENERAL, title="Soreness", description="A day or two.")],
        by=admin,
    )
    changes = version_changes(draft, consent_form)
    assert ("added", "Entirely <b>new</b> words.") in changes
    assert ("removed", consent_form.body) in changes
    assert any(kind == "removed" and "Needling over the neck" in line for kind, line in changes)
    html = client_for(Role.ADMIN).get(reverse("consent:version_publish", args=[draft.pk])).content.decode()
    assert "Entirely &lt;b&gt;new&lt;/b&gt; words." in html
    assert f"Compared with version {consent_form.version}" in html
    assert 'data-change="removed"' in html and 'data-change="added"' in html


def test_publishing_goes_through_the_service_and_is_audited(consent_form, client_for):
    client = client_for(Role.ADMIN)
    draft = draft_from_current(by=AdminFactory())
    response = client.post(reverse("consent:version_publish", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by == client.user
    assert AuditEvent.objects.filter(action=Action.PUBLISH, object_id=str(draft.pk)).exists()


def test_publishing_a_draft_without_text_gives_a_message(consent_form, client_for):
    draft = ConsentForm.objects.create(title="T", version="empty", effective_date=consent_form.effective_date)
    response = client_for(Role.ADMIN).post(reverse("consent:version_publish", args=[draft.pk]))
    assert response.status_code == 400
    assert "needs its text before it is published" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published


def test_a_published_version_cannot_be_edited_through_the_page(consent_form, client_for):
    response = client_for(Role.ADMIN).post(
        reverse("consent:version", args=[consent_form.pk]),
        draft_post(consent_form, [GENERAL], body="Changed"),
    )
    assert response.status_code == 400
    assert "is published and can no longer be edited" in response.content.decode()
    consent_form.refresh_from_db()
    assert consent_form.body != "Changed" and consent_form.risks.count() == 3


def test_a_published_version_cannot_be_edited_by_the_service_or_a_direct_save(consent_form):
    admin = AdminFactory()
    consent_form.body = "Changed"
    with pytest.raises(ConsentRefused, match="is published"):
        save_draft(
            consent_form, risks=[RiskText(region=Region.GENERAL, title="t", description="d")], by=admin
        )
    with pytest.raises(SignedRecordError, match="is published"):
        consent_form.save()
    assert ConsentForm.objects.get(pk=consent_form.pk).body != "Changed"
    risk = consent_form.risks.get(region=Region.NECK)
    risk.description = "Nothing to worry about."
    with pytest.raises(SignedRecordError, match="published consent form version can never be edited"):
        risk.save()
    with pytest.raises(SignedRecordError, match="never be edited"):
        RiskItem(form=consent_form, region=Region.MID_BACK, title="New", description="New.").save()
    with pytest.raises(SignedRecordError, match="never be removed"):
        risk.delete()
    assert consent_form.risks.count() == 3
    assert consent_form.risks.get(region=Region.NECK).description != "Nothing to worry about."


def test_a_published_version_cannot_be_edited_in_the_admin(consent_form, client_for, rf):
    from django.contrib import admin

    client = client_for(Role.ADMIN)
    url = reverse("admin:consent_consentform_change", args=[consent_form.pk])
    page = client.get(url).content.decode()
    assert 'name="body"' not in page and 'name="version"' not in page  # shown read-only
    client.post(url, {"title": "x", "version": "x", "body": "Changed", "effective_date": "2026-01-01"})
    consent_form.refresh_from_db()
    assert consent_form.body != "Changed"
    # Its Save changes nothing rather than failing on the model's refusal.
    request = rf.post(url)
    request.user = client.user
    consent_form.body = "Changed"
    admin.site._registry[ConsentForm].save_model(request, consent_form, None, True)
    assert ConsentForm.objects.get(pk=consent_form.pk).body != "Changed"


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER])
def test_other_roles_get_403_on_every_version_page(consent_form, client_for, role):
    client = client_for(role)
    draft = draft_from_current(by=AdminFactory())
    for name, args in [
        ("consent:versions", []),
        ("consent:new_draft", []),
        ("consent:version", [draft.pk]),
        ("consent:version_preview", [draft.pk]),
        ("consent:version_publish", [draft.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403
        assert client.post(reverse(name, args=args)).status_code == 403
    draft.refresh_from_db()
    assert not draft.is_published and ConsentForm.objects.count() == 2


def test_the_list_queries_a_constant_number_of_times(consent_form, client_for, django_assert_max_num_queries):
    client = client_for(Role.ADMIN)
    admin = AdminFactory()
    for _ in range(5):
        draft_from_current(by=admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("consent:versions"))
    assert response.content.decode().count("<tr data-version=") == 6


@pytest.mark.parametrize("name", ["consent:version", "consent:version_preview", "consent:version_publish"])
def test_each_version_page_queries_a_constant_number_of_times(
    consent_form, client_for, django_assert_max_num_queries, name
):
    admin = AdminFactory()
    draft = draft_from_current(by=admin)
    many = [
        RiskText(region=Region.GENERAL, title=f"Risk {n}", description=f"About {n}.", order=n)
        for n in range(30)
    ]
    save_draft(draft, risks=many, by=admin)
    client = client_for(Role.ADMIN)
    with django_assert_max_num_queries(14):
        response = client.get(reverse(name, args=[draft.pk]))
    assert response.status_code == 200
    assert "Risk 29" in response.content.decode()
