"""A page as a reader meets it: its text with whitespace collapsed as the browser does, and its tags with
their attributes. Tests assert on these rather than on raw markup, so a template may break a long line
anywhere HTML ignores the break (tests/test_template_lines.py) without a test noticing."""

import re
from html.parser import HTMLParser

RAW_TEXT = {"script", "style", "template"}
# Tags that flow within a line; any other tag (a paragraph, a cell, a list item, a line break) separates
# the words on either side, as it does on screen.
INLINE = {"a", "abbr", "b", "cite", "code", "em", "i", "kbd", "label", "mark", "q", "s", "small", "span"}
INLINE |= {"strong", "sub", "sup", "time", "u", "var"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks, self.tags, self.raw = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.raw += tag in RAW_TEXT
        self._separate(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._separate(tag)

    def handle_endtag(self, tag):
        self.raw -= tag in RAW_TEXT and self.raw > 0
        self._separate(tag)

    def _separate(self, tag):
        if tag not in INLINE:
            self.chunks.append(" ")

    def handle_data(self, data):
        if not self.raw:
            self.chunks.append(data)


def _parse(html):
    page = _Page()
    page.feed(html)
    page.close()
    return page


def page_text(html):
    """The text of the page, entities decoded and every run of whitespace one space."""
    return " ".join("".join(_parse(html).chunks).split())


def tags(html, name, **attrs):
    """The attributes of each `name` tag whose attributes include `attrs` (data_testid for data-testid,
    class_ for class)."""
    wanted = {key.rstrip("_").replace("_", "-"): value for key, value in attrs.items()}
    return [
        found
        for tag, found in _parse(html).tags
        if tag == name and all(found.get(key) == value for key, value in wanted.items())
    ]


def without_links(text):
    """An e-mail's text with its links taken out: what a test holds to "no clinical words". A link's signed
    token is random letters and digits, so it holds "mm" or "pain" now and then (a CI run met "mm")."""
    return re.sub(r"https?://\S+", " ", text)
