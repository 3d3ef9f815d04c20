"""The session screen's selects are written once per distinct content and then served from memory
(treatments.widgets.Select, issue 17). What they serve must be Django's Select, byte for byte, whether
written now or remembered, and anything that changes the markup (a value, a label, an attribute, a new
or retired catalogue row) must show at once."""

from datetime import date

import pytest
from django import forms
from django.utils.safestring import mark_safe

from tests.factories import needle
from treatments.forms import PointForm, SideEffectForm
from treatments.models import Muscle
from treatments.widgets import RENDERER, SELECTS, Select

pytestmark = pytest.mark.django_db

CHOICES = [("", "Choose"), ("a", "Alpha & <b>"), ("b", mark_safe("<i>Beta</i>")), (3, "Three")]
GROUPED = [("", "---------"), ("Front", [("n1", "Neck one"), ("n2", "Neck two")]), ("x", "Other")]


@pytest.fixture(autouse=True)
def nothing_remembered():
    SELECTS.clear()
    yield
    SELECTS.clear()


def both(choices, name, value, attrs=None, renderer=RENDERER, **widget):
    """The remembered select (written now, then from memory) and Django's, for the same input."""
    ours, django = Select(choices=choices, **widget), forms.Select(choices=choices, **widget)
    first = ours.render(name, value, attrs, renderer)
    remembered = Select(choices=choices, **widget).render(name, value, attrs, renderer)
    return first, remembered, django.render(name, value, attrs, renderer)


@pytest.mark.parametrize("renderer", [RENDERER, None])
@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        (CHOICES, None, None),
        (CHOICES, "a", {"id": "id_x", "required": True}),
        (CHOICES, 3, {"id": "id_x", "aria-describedby": "id_x_helptext", "class": "form-select"}),
        (CHOICES, "missing", {"disabled": True, "data-x": False}),
        (GROUPED, "n2", {"id": "id_g"}),
    ],
)
def test_it_writes_what_djangos_select_writes(choices, value, attrs, renderer):
    first, remembered, django = both(choices, "field", value, attrs, renderer)
    assert first == django and remembered == django


def test_a_changed_value_label_or_attribute_is_written_afresh():
    first = Select(choices=CHOICES).render("field", "a", {"id": "id_x"})
    assert '<option value="a" selected>' in first
    moved = Select(choices=CHOICES).render("field", "b", {"id": "id_x"})
    assert '<option value="b" selected>' in moved and '<option value="a" selected>' not in moved
    renamed = Select(choices=[*CHOICES[:1], ("a", "Alpha renamed")]).render("field", "a", {"id": "id_x"})
    assert "Alpha renamed" in renamed and "Alpha &amp;" not in renamed
    required = Select(choices=CHOICES).render("field", "a", {"required": True, "id": "id_y"})
    assert 'required id="id_y"' in required
    # An escaped and a safe label of the same text are different content.
    escaped = Select(choices=[("b", "<i>Beta</i>")]).render("field", None)
    assert "&lt;i&gt;Beta" in escaped
    assert "<i>Beta</i>" in Select(choices=[("b", mark_safe("<i>Beta</i>"))]).render("field", None)
    assert "&lt;i&gt;Beta" in Select(choices=[("b", "<i>Beta</i>")]).render("field", None)


def test_a_label_that_is_not_text_is_written_afresh_each_time():
    choices = [("d", date(2026, 3, 4)), ("n", 7)]
    first, remembered, django = both(choices, "field", "d")
    assert first == django and remembered == django
    assert len(SELECTS) == 0


def test_the_point_and_side_effect_forms_use_it_for_every_select():
    point, effect = PointForm(), SideEffectForm()
    selects = [f for f in (*point, *effect) if isinstance(f.field.widget, forms.Select)]
    assert {f.name for f in selects} >= {
        "muscle",
        "needle_size",
        "side",
        "segment",
        "type",
        "severity",
        "onset",
    }
    assert all(type(f.field.widget) is Select for f in selects)


def test_the_muscle_select_shows_the_catalogue_as_it_now_is(clinician):
    carried = needle("0.30", 50)
    page = str(PointForm(carried_needle=carried)["muscle"])
    assert ">Soleus</option>" in page
    Muscle.objects.filter(name="Soleus").update(name="Soleus (deep)")
    page = str(PointForm(carried_needle=carried)["muscle"])
    assert ">Soleus (deep)</option>" in page and ">Soleus</option>" not in page
    Muscle.objects.filter(name="Soleus (deep)").update(active=False)
    assert "Soleus" not in str(PointForm(carried_needle=carried)["muscle"])
    other = needle("0.25", 30)
    written = str(PointForm(carried_needle=other)["needle_size"])
    assert f'<option value="{other.pk}" selected>' in written
    assert f'<option value="{carried.pk}" selected>' not in written
