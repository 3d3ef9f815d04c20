"""Templates stay readable: no line passes 200 characters (issue 13 item 5)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 200
SKIPPED = {".venv", "var", "node_modules", ".git"}
# Tests read a page's text or parse its tags (tests/markup.py) rather than match markup on one line, so a
# template's lines can be broken freely. PDF templates whose blocks are white-space: pre-line break their
# lines inside {% printed_lines %} (clinic/templatetags/pdf.py), where a line break prints as a space.


def templates():
    for path in ROOT.rglob("*.html"):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path


def test_no_template_line_passes_200_characters():
    long_lines = [
        f"{path.relative_to(ROOT)}:{number} ({len(line)} characters)"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if len(line) > LIMIT
    ]
    assert long_lines == []
