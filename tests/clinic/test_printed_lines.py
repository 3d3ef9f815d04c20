"""{% printed_lines %} (clinic/templatetags/pdf.py): a PDF template's own line breaks are spaces, <br> ends
a printed line, and what a person typed stays escaped."""

from django.template import engines

TEMPLATE = (
    "{% load pdf %}{% printed_lines %}"
    "<p>One\n    two<br>\nthree: {{ note|linebreaksbr }}</p>"
    "{% endprinted_lines %}"
)


def render(**context):
    return engines["django"].from_string(TEMPLATE).render(context)


def test_a_line_break_of_the_template_is_a_space_and_br_ends_a_line():
    assert render(note="") == "<p>One two\n three: </p>"


def test_typed_line_breaks_print_and_typed_markup_stays_text():
    assert (
        render(note="left calf\r\nworse at night <br>")
        == "<p>One two\n three: left calf\nworse at night &lt;br&gt;</p>"
    )
