"""The session screen's forms write their widgets in Python (treatments/widgets.py, issue 17): the markup
must be Django's own, byte for byte, for every widget of every form of the screen, blank, filled and
refused, and for values a template would escape."""

from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from patients.models import Patient
from tests.factories import complete_session, muscle, needle
from treatments.forms import AddendumForm, AssessmentForm, PointForm, SideEffectForm, SignForm
from treatments.models import NeedleSize
from treatments.widgets import RENDERER, WidgetRenderer

pytestmark = pytest.mark.django_db

DJANGO = DjangoTemplates()


def widgets_of(form):
    """Each field's widget as the page writes it, with the crispy class a field gets on the screen."""
    return {name: form[name].as_widget(attrs={"class": "form-control is-invalid"}) for name in form.fields}


def assert_same_as_django(make_form):
    ours, django = make_form(), make_form()
    assert ours.renderer is RENDERER
    django.renderer = DJANGO
    assert widgets_of(ours) == widgets_of(django)
    return widgets_of(ours)


def test_the_forms_of_the_screen_use_the_python_widgets():
    for form in (PointForm(), SideEffectForm(), AddendumForm(), SignForm(patient=Patient())):
        assert form.renderer is RENDERER


def test_a_blank_point_form_is_written_as_django_writes_it(clinician):
    carried = needle("0.30", 50)
    written = assert_same_as_django(lambda: PointForm(carried_needle=carried))
    assert "Upper trapezius (risk: neck)" in written["muscle"]
    assert f'<option value="{carried.pk}" selected>' in written["needle_size"]
    assert 'value="" selected>Choose side</option>' in written["side"]
    assert_same_as_django(lambda: PointForm(region="neck", initial={"side": "L"}))


def test_a_refused_point_form_keeps_what_was_typed(clinician):
    data = {
        "muscle": muscle("Soleus").pk,
        "side": "R",
        "needle_size": NeedleSize.objects.first().pk,
        "depth_mm": "-3",
        "insertions": "two",
        "notes": '"quoted" <b>&amp; tagged</b>',
        "depth_confirmed": "on",
    }
    written = assert_same_as_django(lambda: PointForm(data))
    assert "&quot;quoted&quot; &lt;b&gt;&amp;amp; tagged&lt;/b&gt;" in written["notes"]
    assert " checked" in written["depth_confirmed"]


def test_the_assessment_of_a_filled_draft_is_written_as_django_writes_it(draft):
    complete_session(draft, presenting_complaint="Neck & shoulder <left>\nworse at night")
    draft.refresh_from_db()
    written = assert_same_as_django(lambda: AssessmentForm(instance=draft))
    assert "Neck &amp; shoulder &lt;left&gt;\nworse at night</textarea>" in written["presenting_complaint"]
    assert_same_as_django(lambda: AssessmentForm({"version": "x", "pain_before": "11"}, instance=draft))


def test_the_side_effect_and_addendum_forms_are_written_as_django_writes_them():
    assert_same_as_django(SideEffectForm)
    assert_same_as_django(
        lambda: SideEffectForm({"type": "bruising", "severity": "nope", "duration": "<1 h"})
    )
    assert_same_as_django(AddendumForm)
    assert_same_as_django(lambda: AddendumForm({"text": "Soreness & bruising, <settled>"}))


class Odd(forms.Form):
    """Values a template treats specially: safe strings, numbers, empty and boolean attributes, groups."""

    number = forms.DecimalField(initial=Decimal("1234.50"), widget=forms.NumberInput(attrs={"step": 0.5}))
    safe = forms.CharField(
        initial=mark_safe("<em>kept</em>"), widget=forms.TextInput(attrs={"data-x": '"q"'})
    )
    hidden = forms.CharField(
        initial="", widget=forms.HiddenInput(attrs={"disabled": True, "readonly": False})
    )
    note = forms.CharField(initial="", widget=forms.Textarea)
    grouped = forms.ChoiceField(
        initial="b",
        choices=[("", "—"), ("Front & back", [("a", "A <1>"), ("b", mark_safe("<b>B</b>"))]), (3, 3)],
    )
    many = forms.MultipleChoiceField(initial=["x", "y"], choices=[("x", "X"), ("y", "Y"), ("z", "Z")])
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    tick = forms.BooleanField(initial=True)


def test_values_a_template_would_escape_or_keep_are_written_as_django_writes_them():
    def odd(data=None):
        form = Odd(data, renderer=WidgetRenderer())
        return form

    ours, django = odd(), Odd(renderer=DJANGO)
    assert widgets_of(ours) == widgets_of(django)
    data = {"number": "1e400", "safe": "<x>", "note": "a\n<b>", "grouped": "zz", "date": "2026-13-40"}
    assert widgets_of(odd(data)) == widgets_of(Odd(data, renderer=DJANGO))


def test_radio_buttons_and_checkboxes_are_written_as_django_writes_them():
    class Choices(forms.Form):
        choice = forms.ChoiceField(choices=[("a", "A & <b>"), ("b", "B")], widget=forms.RadioSelect)
        grouped = forms.ChoiceField(
            choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")],
            widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        )
        many = forms.MultipleChoiceField(
            choices=[("p", "P"), ("q", mark_safe("<i>Q</i>"))], widget=forms.CheckboxSelectMultiple
        )

    for data in (None, {"choice": "b", "grouped": "y", "many": ["p", "q"]}, {"choice": "<nope>"}):
        ours, django = Choices(data, renderer=WidgetRenderer()), Choices(data, renderer=DJANGO)
        assert widgets_of(ours) == widgets_of(django)
        for name in ("choice", "grouped", "many"):
            assert str(ours[name]) == str(django[name])
            # Each button alone, as a template writes it with {{ choice.tag }}.
            assert [c.tag() for c in ours[name]] == [c.tag() for c in django[name]]
            assert [c.tag(wrap_label=True) for c in ours[name]] == [
                c.tag(wrap_label=True) for c in django[name]
            ]


def test_the_sign_form_is_written_as_django_writes_it(patient):
    ours, django = SignForm(patient=patient), SignForm(patient=patient, renderer=DJANGO)
    assert ours.renderer is RENDERER
    assert str(ours["handout"]) == str(django["handout"])
    assert [c.tag() for c in ours["handout"]] == [c.tag() for c in django["handout"]]
    assert " checked" in str(ours["handout"])


def test_a_widget_the_renderer_does_not_write_goes_to_django():
    class Dates(forms.Form):
        day = forms.DateField(widget=forms.SelectDateWidget(years=[2026]))

    assert str(Dates(renderer=RENDERER)["day"]) == str(Dates(renderer=DJANGO)["day"])
