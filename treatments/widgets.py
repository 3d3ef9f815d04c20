"""The session screen's forms render their plain widgets (inputs, text areas, selects) in Python (issue 17).

Django renders each widget through its templates: a select of the 78 muscles is two template includes per
option, and the session screen's forms hold about forty fields, so the widgets alone took about a third of
the page. `WidgetRenderer` writes the very markup of Django's own templates (django/forms/widgets/*.html,
byte for byte: tests/treatments/test_widget_renderer.py compares every widget of the screen's forms with
Django's renderer), radio buttons and checkboxes included, and hands any other template (a widget's own
template) to Django.
"""

import html

from django import forms
from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, mark_safe

from .rendered import RenderedOnce

WIDGETS = "django/forms/widgets/"
INPUTS = {
    f"{WIDGETS}{name}.html"
    for name in (
        "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time",
        "checkbox", "search", "tel", "color",
    )
}  # fmt: skip
SELECT, OPTION, TEXTAREA = f"{WIDGETS}select.html", f"{WIDGETS}select_option.html", f"{WIDGETS}textarea.html"
# Radio buttons and checkboxes (multiple_input.html), each option an input_option.html.
MULTIPLE_INPUTS = {f"{WIDGETS}radio.html", f"{WIDGETS}checkbox_select.html"}
INPUT_OPTIONS = {f"{WIDGETS}radio_option.html", f"{WIDGETS}checkbox_option.html"}
# What `{{ value }}` goes through in a template: local time, localized numbers, autoescaping.
_AS_TEMPLATE = Context(autoescape=True)


def _shown(value):
    """`{{ value }}` as the widget templates write it."""
    if type(value) is str:  # the common case, and what it comes to: a plain string is escaped
        return html.escape(value)
    return render_value_in_context(value, _AS_TEMPLATE)


def _as_string(value):
    """`{{ value|stringformat:'s' }}`: the filter keeps a safe string safe; anything else is escaped."""
    text = str(value)  # what "%s" makes of it (stringformat's tuples are made strings first, as here)
    return text if isinstance(value, SafeData) else html.escape(text)


def _attrs(attrs):
    """django/forms/widgets/attrs.html: False leaves an attribute out, True writes its bare name."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_shown(name)}" if value is True else f' {_shown(name)}="{_as_string(value)}"')
    return "".join(parts)


def _input(widget):
    value = f' value="{_as_string(widget["value"])}"' if widget["value"] is not None else ""
    name = f'type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
    return f"<input {name}{value}{_attrs(widget['attrs'])}>"


def _textarea(widget):
    value = _shown(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget):
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{_as_string(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_shown(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input_option(option):
    """radio_option.html (or checkbox_option.html) including input_option.html including input.html, with
    the newline each of those files ends with."""
    markup = _input(option) + "\n"
    if option["wrap_label"]:
        label_id = option["attrs"].get("id")
        label_for = f' for="{_shown(label_id)}"' if label_id else ""
        markup = f"<label{label_for}>{markup} {_shown(option['label'])}</label>"
    return markup + "\n\n"


def _multiple_input(widget):
    """radio.html and checkbox_select.html: multiple_input.html, less the newlines the renderer strips."""
    attrs = widget["attrs"]
    widget_id, widget_class = attrs.get("id"), attrs.get("class")
    parts = [
        "<div",
        f' id="{_shown(widget_id)}"' if widget_id else "",
        f' class="{_shown(widget_class)}"' if widget_class else "",
        ">",
    ]
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{_shown(group_name)}</label>")
        parts.extend(f"<div>\n    {_input_option(option)}</div>" for option in options)
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


class WidgetRenderer(DjangoTemplates):
    """Django's template renderer, with inputs, text areas and selects written in Python."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if len(context) == 1 else None
        html = None
        if widget is None:
            pass
        elif template_name in INPUTS:
            html = _input(widget)
        elif template_name == TEXTAREA:
            html = _textarea(widget)
        elif template_name == SELECT and all(
            option["template_name"] == OPTION
            for _group, options, _index in widget["optgroups"]
            for option in options
        ):
            html = _select(widget)
        elif template_name in MULTIPLE_INPUTS and all(
            option["template_name"] in INPUT_OPTIONS
            for _group, options, _index in widget["optgroups"]
            for option in options
        ):
            html = _multiple_input(widget)
        elif template_name in INPUT_OPTIONS:  # one radio button alone ({{ choice.tag }})
            html = _input_option(widget).strip()  # stripped as Django's renderer strips what it renders
        if html is None:
            return super().render(template_name, context, request=request)
        # Every value in it went through escape() or was already safe, as in the templates it stands for.
        return mark_safe(html)  # noqa: S308


# One renderer for every form that uses it: its template engine (for what it hands to Django) is made once.
RENDERER = WidgetRenderer()


SELECTS = RenderedOnce(size=256)


def _choice_content(choices):
    """The choices as the select writes them: each value and label as text, with whether it is already
    safe (escaped or not), groups kept as groups. None when a label is not text (a number or a date is
    written localized: the active language would be content too), so the select is written afresh."""
    content = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            inner = _choice_content(label)
            if inner is None:
                return None
            content.append((str(value), isinstance(value, SafeData), inner))
        elif isinstance(label, str):
            content.append((str(value), isinstance(value, SafeData), label, isinstance(label, SafeData)))
        else:
            return None
    return content


class Select(forms.Select):
    """A select written once per distinct content, then served from this process's memory (issue 17: the
    point form's select of the 78 muscles was written on every session screen, and written again to
    find its crispy field in memory). The content is everything Select.render() reads: the name, the
    value, the attributes (its own and those the form adds: id, required, aria), the choices' values and
    labels, the templates and the renderer; a new, renamed or retired muscle or needle size is a
    different content and is written afresh. tests/treatments/test_remembered_select.py holds it to
    Django's Select. Named Select as Django's is: crispy-forms writes the widget's class name, lowercased,
    into the markup's class ("select form-select")."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = _choice_content(self.choices)
        if choices is None:
            return super().render(name, value, attrs, renderer)
        renderer_class = type(renderer)
        content = [
            f"{type(self).__module__}.{type(self).__qualname__}",
            self.template_name,
            self.option_template_name,
            self.option_inherits_attrs,
            self.allow_multiple_selected,
            self.is_required,
            f"{renderer_class.__module__}.{renderer_class.__qualname__}",
            name,
            self.format_value(value),
            sorted((str(key), repr(item)) for key, item in self.build_attrs(self.attrs, attrs).items()),
            choices,
        ]
        return SELECTS.get(content, lambda: super(Select, self).render(name, value, attrs, renderer))
