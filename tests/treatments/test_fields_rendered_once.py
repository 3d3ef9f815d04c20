"""Each field of the session screen's forms is written by crispy once per distinct content and then
served from memory (treatments/templatetags/session_fields.py, issue 17). What it serves must be what
crispy writes, whether rendered now or remembered, and a change to anything shown (a value, the muscle
catalogue, the carried-over needle, an error) must show at once."""

from datetime import date

import pytest
from django.template import Context, Template

import treatments.forms as session_forms
import treatments.templatetags.session_fields as session_fields
from tests.factories import NeedlingSessionFactory, complete_session, needle
from treatments.forms import AddendumForm, AssessmentForm, PointForm, SideEffectForm
from treatments.models import Muscle
from treatments.templatetags.session_fields import forget_rendered_fields

pytestmark = pytest.mark.django_db

CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
# The session screen writes its assessment, side effect and addendum forms whole through crispy_once.
ONCE = Template("{% load session_fields %}{% crispy_once form %}")
POINT_FIELDS = Template(
    "{% load crispy_forms_tags %}{% for field in form %}{{ field|as_crispy_field }}{% endfor %}"
)


@pytest.fixture(autouse=True)
def nothing_remembered():
    forget_rendered_fields()
    yield
    forget_rendered_fields()


def written(make_form, template=CRISPY):
    return template.render(Context({"form": make_form()}))


def written_by_crispy_alone(monkeypatch, make_form, template=CRISPY):
    """The form as crispy writes it without the session screen's field template."""
    with monkeypatch.context() as patched:
        patched.setattr(session_forms, "FIELD_ONCE", None)
        return written(make_form, template)


def assert_as_crispy_writes_it(monkeypatch, make_form, template=CRISPY):
    crispy = written_by_crispy_alone(monkeypatch, make_form, template)
    first, remembered = written(make_form, template), written(make_form, template)
    assert first == crispy and remembered == crispy
    return remembered


def test_the_forms_write_their_fields_through_the_remembering_template():
    assert PointForm().helper.field_template == session_forms.FIELD_ONCE
    assert SideEffectForm().helper.field_template == session_forms.FIELD_ONCE
    assert AssessmentForm(instance=None).helper.field_template == session_forms.FIELD_ONCE


def test_every_form_of_the_screen_is_written_as_crispy_writes_it(monkeypatch, draft):
    carried = needle("0.30", 50)
    assert_as_crispy_writes_it(monkeypatch, lambda: PointForm(carried_needle=carried), POINT_FIELDS)
    assert_as_crispy_writes_it(monkeypatch, lambda: PointForm(region="neck"), POINT_FIELDS)
    assert_as_crispy_writes_it(monkeypatch, SideEffectForm)
    assert_as_crispy_writes_it(monkeypatch, AddendumForm)
    page = assert_as_crispy_writes_it(monkeypatch, lambda: AssessmentForm(instance=draft))
    assert 'id="div_id_presenting_complaint"' in page and "Sharps disposed" in page


def test_a_refused_form_shows_its_errors_and_the_next_blank_form_shows_none(monkeypatch):
    refused = {"depth_mm": "-3", "insertions": "two", "notes": "kept <b>"}
    page = assert_as_crispy_writes_it(monkeypatch, lambda: PointForm(refused), POINT_FIELDS)
    assert "is-invalid" in page and "kept &lt;b&gt;" in page
    assert "is-invalid" not in written(PointForm, POINT_FIELDS)
    page = assert_as_crispy_writes_it(monkeypatch, lambda: SideEffectForm({"severity": "nope"}))
    assert "Choose the severity" in page or "Select a valid choice" in page


def test_a_changed_value_is_shown_at_once(draft):
    complete_session(draft, presenting_complaint="Left neck pain", pain_before=6)
    draft.refresh_from_db()
    assert "Left neck pain" in written(lambda: AssessmentForm(instance=draft))
    complete_session(draft, presenting_complaint="Right shoulder pain", pain_before=4)
    draft.refresh_from_db()
    page = written(lambda: AssessmentForm(instance=draft))
    assert "Right shoulder pain" in page and "Left neck pain" not in page
    assert 'value="4"' in page and 'value="6"' not in page


def test_the_carried_needle_and_the_catalogue_are_shown_as_they_now_are():
    first, second = needle("0.30", 50), needle("0.25", 30)
    page = written(lambda: PointForm(carried_needle=first), POINT_FIELDS)
    assert f"Carried over from your last point ({first})" in page
    page = written(lambda: PointForm(carried_needle=second), POINT_FIELDS)
    assert f"Carried over from your last point ({second})" in page and f"({first})" not in page
    soleus = Muscle.objects.get(name="Soleus")
    soleus.active = False
    soleus.save(update_fields=["active"])
    page = written(PointForm, POINT_FIELDS)
    assert ">Soleus" not in page
    Muscle.objects.filter(pk=soleus.pk).update(active=True, name="Soleus (deep)")
    assert ">Soleus (deep)" in written(PointForm, POINT_FIELDS)


def test_two_drafts_each_show_their_own_assessment(monkeypatch, draft, clinician):
    """An unbound form is found in memory by its fields' values, labels, attributes and choices, without
    writing its widgets: each draft's values, dates and escaped text still come out as crispy writes them."""
    other = NeedlingSessionFactory(patient=draft.patient, clinician=clinician)
    complete_session(draft, presenting_complaint='Neck "stiff" <since> March', pain_before=6)
    complete_session(other, presenting_complaint="Right shoulder", pain_before=3, review_on=date(2027, 1, 5))
    for session in (draft, other, draft, other):
        session.refresh_from_db()
        page = assert_as_crispy_writes_it(monkeypatch, lambda s=session: AssessmentForm(instance=s), ONCE)
        assert f'name="version" value="{session.version}"' in page
    assert "Neck &quot;stiff&quot; &lt;since&gt; March" in written(
        lambda: AssessmentForm(instance=draft), ONCE
    )
    assert 'value="2027-01-05"' in written(lambda: AssessmentForm(instance=other), ONCE)


def test_a_remembered_unbound_form_is_found_without_writing_its_widgets(monkeypatch, draft):
    first = written(lambda: AssessmentForm(instance=draft), ONCE), written(SideEffectForm, ONCE)

    def refuse(*args):
        raise AssertionError("a remembered unbound form wrote its widgets to find itself")

    monkeypatch.setattr(session_fields, "field_content", refuse)
    again = written(lambda: AssessmentForm(instance=draft), ONCE), written(SideEffectForm, ONCE)
    assert again == first and "Presenting complaint" in again[0] and "Choose severity" in again[1]


POINT_BLOCK = Template('{% load session_fields %}{% fields_once "treatments/_point_fields.html" form %}')
POINT_BLOCK_AFRESH = Template('{% include "treatments/_point_fields.html" with point_form=form %}')


@pytest.mark.parametrize(
    "make_form",
    [
        lambda: PointForm(),
        lambda: PointForm(carried_needle=needle("0.30", 50)),
        lambda: PointForm(carried_needle=needle("0.25", 30), initial={"side": "L"}),
        lambda: PointForm(region="neck_posterior", initial={"side": "R"}),
        lambda: PointForm({"depth_mm": "-3", "insertions": "two", "notes": "kept <b>"}),
    ],
)
def test_the_point_forms_fields_are_written_as_crispy_writes_them(monkeypatch, make_form):
    crispy = written_by_crispy_alone(monkeypatch, make_form, POINT_BLOCK_AFRESH)
    assert written(make_form, POINT_BLOCK) == crispy and written(make_form, POINT_BLOCK) == crispy


def test_the_point_forms_fields_show_the_catalogue_and_carried_needle_as_they_now_are():
    first, second = needle("0.30", 50), needle("0.25", 30)
    page = written(lambda: PointForm(carried_needle=first), POINT_BLOCK)
    assert f"Carried over from your last point ({first})" in page
    assert f'<option value="{first.pk}" selected>' in page
    page = written(lambda: PointForm(carried_needle=second), POINT_BLOCK)
    assert f"Carried over from your last point ({second})" in page and f"({first})" not in page
    Muscle.objects.filter(name="Soleus").update(name="Soleus (deep)")
    page = written(lambda: PointForm(carried_needle=second), POINT_BLOCK)
    assert ">Soleus (deep)</option>" in page and ">Soleus</option>" not in page
    refused = written(lambda: PointForm({"depth_mm": "-3"}), POINT_BLOCK)
    assert "is-invalid" in refused and "is-invalid" not in written(PointForm, POINT_BLOCK)
