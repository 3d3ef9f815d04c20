"""Each field of the session screen's forms is written by crispy-forms once per distinct content, then
served from memory (treatments/rendered.py; issue 17: crispy's field template was half of the page once
the widgets were written in Python).

`treatments/_field.html` is the forms' crispy field template (FormHelper.field_template, and the template
of their layout Fields); its `{% crispy_field_once %}` renders crispy's own `bootstrap5/field.html` for a
field whose content it has not seen. The content is everything that template reads: the widget as
written (its value, choices and attributes), label, help text, whether required, ids, and the layout's
classes; so a changed value, a new muscle in the catalogue or a carried-over needle is rendered afresh.
A field with errors is always rendered afresh (a refused form is rare and its errors are the point).
"""

from django import template
from django.template.loader import get_template
from django.utils import translation

from ..rendered import RenderedOnce

register = template.Library()

CRISPY_FIELD = "bootstrap5/field.html"
# What crispy's field template (and the templates it includes) reads from its context besides the field.
CONTEXT_READ = (
    "tag", "form_class", "label_class", "field_class", "wrapper_class", "form_show_labels",
    "form_show_errors", "bootstrap_checkbox_offsets", "help_text_inline", "error_text_inline",
)  # fmt: skip
FIELDS = RenderedOnce(size=512)


def field_content(field, context):
    """Everything crispy's field template reads of `field` and of its context."""
    widget = type(field.field.widget)
    return [
        CRISPY_FIELD,
        f"{widget.__module__}.{widget.__qualname__}",
        str(field),  # the widget as written: name, value, choices, attributes
        field.html_name,
        field.auto_id or "",
        field.id_for_label or "",
        str(field.label or ""),
        str(field.help_text or ""),
        field.field.required,
        field.css_classes(),
        field.use_fieldset,
        field.aria_describedby or "",
        field.is_hidden,
        *(repr(context.get(name)) for name in CONTEXT_READ),
    ]


def forget_rendered_fields():
    """Empty this process's memory of rendered fields (tests)."""
    FIELDS.clear()


@register.simple_tag(takes_context=True)
def crispy_field_once(context):
    field = context["field"]

    def render():
        return get_template(CRISPY_FIELD).template.render(context)

    if field.errors:
        return render()
    return FIELDS.get(field_content(field, context), render)


FORMS = RenderedOnce(size=256)
CRISPY_FORM = template.Template("{% load crispy_forms_tags %}{% crispy crispy_once_form %}")


@register.simple_tag(takes_context=True)
def crispy_once(context, form):
    """`{% crispy form %}`, written once per distinct content of its fields, for the screen's forms whose
    layout is fixed by their class (their __init__ builds the same layout every time). A form with errors
    is always written afresh, and so is one whose helper writes a CSRF token (disable_csrf unset): the
    token belongs to one request, and a kept one fails the next POST (the page's <form> has its own)."""

    def render():
        with context.push(crispy_once_form=form):
            return CRISPY_FORM.render(context)

    if form.errors or not form.helper.disable_csrf:
        # A CSRF token is the request's own: markup holding one is never kept for another request.
        return render()
    form_class = type(form)
    fields = unbound_content(form) if not form.is_bound else [field_content(field, {}) for field in form]
    return FORMS.get(
        ["crispy_once", f"{form_class.__module__}.{form_class.__qualname__}", form.prefix, fields], render
    )


def unbound_content(form):
    """What an unbound form's fields are written from, without writing them (writing each widget to compare
    it was most of the time of a remembered form): the language (dates and numbers are written in its
    format), the ids, and of each field its value, label, help text, whether required or disabled, and its
    widget's class, attributes, format and choices as text. The rest of what crispy writes is fixed by the
    form's class (the forms given to crispy_once build the same fields and layout every time)."""
    content = [translation.get_language(), form.auto_id, form.use_required_attribute]
    for field in form:
        widget = field.field.widget
        choices = getattr(widget, "choices", None)
        content.append(
            (
                field.name,
                f"{type(widget).__module__}.{type(widget).__qualname__}",
                repr(field.value()),
                str(field.label or ""),
                str(field.help_text or ""),
                field.field.required,
                field.field.disabled,
                field.field.show_hidden_initial,
                sorted((str(name), repr(value)) for name, value in widget.attrs.items()),
                getattr(widget, "format", None),
                None if choices is None else _choices_as_text(choices),
            )
        )
    return content


def _choices_as_text(choices):
    return [
        (
            str(value),
            _choices_as_text(label) if isinstance(label, list | tuple) else str(label),
            type(label).__name__,
        )
        for value, label in choices
    ]


@register.simple_tag
def fields_once(template_name, form):
    """`template_name` written with `form` as point_form (the point form's block of crispy fields), once
    per distinct content of an unbound form's fields (unbound_content: the catalogue's choices, the
    carried-over needle's help text and the side chosen on the body chart included), and afresh for a
    bound form (a refused point shows what was typed, and its errors)."""

    def render():
        return get_template(template_name).render({"point_form": form})

    if form.is_bound:
        return render()
    form_class = type(form)
    return FORMS.get(
        ["fields_once", template_name, f"{form_class.__module__}.{form_class.__qualname__}", form.prefix]
        + unbound_content(form),
        render,
    )
