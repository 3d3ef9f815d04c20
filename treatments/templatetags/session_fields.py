"""Each field of the session screen's forms is written by crispy-forms once per distinct content, then
served from memory (issue 17: crispy's field template was half of the page once the widgets were fast).

`treatments/_field.html` is the forms' crispy field template (FormHelper.field_template, and the template
of their layout Fields); its `{% crispy_field_once %}` renders crispy's own `bootstrap5/field.html` for a
field it has not seen. A field is "seen" only with the very same markup in: the key is everything that
template reads (the widget as written, with its value, choices and attributes; label; help text; whether
required; ids; the layout's classes), so a changed value, a new muscle in the catalogue or a carried-over
needle is a different key and is rendered afresh: nothing shown can be stale. A field with errors is
always rendered afresh (a refused form is rare and its errors are the point). The memory is a bounded
LRU per process; keys are digests, so a field's content is held once, as the rendered HTML.
"""

import hashlib
import threading
from collections import OrderedDict

from django import template
from django.template.loader import get_template

register = template.Library()

CRISPY_FIELD = "bootstrap5/field.html"
# What crispy's field template (and the templates it includes) reads from its context besides the field.
CONTEXT_READ = (
    "tag", "form_class", "label_class", "field_class", "wrapper_class", "form_show_labels",
    "form_show_errors", "bootstrap_checkbox_offsets", "help_text_inline", "error_text_inline",
)  # fmt: skip
SIZE = 512

_rendered = OrderedDict()
_lock = threading.Lock()


def field_key(field, context):
    """A digest of everything crispy's field template reads, or None when the field has errors."""
    if field.errors:
        return None
    parts = [
        type(field.field.widget).__module__,
        type(field.field.widget).__qualname__,
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
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()


def forget_rendered_fields():
    """Empty this process's memory of rendered fields (tests)."""
    with _lock:
        _rendered.clear()


@register.simple_tag(takes_context=True)
def crispy_field_once(context):
    field = context["field"]
    key = field_key(field, context)
    if key is not None:
        with _lock:
            html = _rendered.get(key)
            if html is not None:
                _rendered.move_to_end(key)
                return html
    html = get_template(CRISPY_FIELD).template.render(context)
    if key is not None:
        with _lock:
            _rendered[key] = html
            while len(_rendered) > SIZE:
                _rendered.popitem(last=False)
    return html
