"""Tags for the PDF templates under templates/pdf/."""

import re

from django import template
from django.utils.safestring import mark_safe

register = template.Library()
SOURCE_BREAK = re.compile(r"[ \t]*\n\s*")  # a line break of the template, with the spaces around it
LINE_END = re.compile(r"<br\s*/?>")


@register.tag
def printed_lines(parser, token):
    """{% printed_lines %}...{% endprinted_lines %}: inside, a line break of the template is only a space
    (as HTML reads it) and each <br> (linebreaksbr's too) becomes a line break of the text, which a
    `white-space: pre-line` block prints. WeasyPrint lays out a block of text with its line breaks in it
    much faster than the same text split by <br> elements (about 1 ms more per <br>; docs/benchmarks.md),
    so a PDF template keeps its own lines short and its text blocks whole."""
    nodelist = parser.parse(("endprinted_lines",))
    parser.delete_first_token()
    return PrintedLinesNode(nodelist)


class PrintedLinesNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        html = SOURCE_BREAK.sub(" ", self.nodelist.render(context))
        # Only whitespace and <br> tags change, in markup already escaped: still safe.
        return mark_safe(LINE_END.sub("\n", html))  # noqa: S308
