"""Templates stay readable: no line passes 200 characters (issue 13 item 5)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 200
SKIPPED = {".venv", "var", "node_modules", ".git"}
# Its text blocks are white-space: pre-line, so a line break there is a line break in the PDF.
LINE_BREAKS_SHOW = {"templates/pdf/visit_summary.html"}
# Not yet broken: their tests match raw markup (a sentence, an attribute sequence) on one line, so the
# lines and those assertions change together. Remove a file from here when it is done.
NOT_YET = {
    "consent/templates/consent/obtain.html",
    "patients/templates/patients/chart.html",
    "templates/registration/login.html",
}


def templates():
    for path in ROOT.rglob("*.html"):
        relative = path.relative_to(ROOT)
        if SKIPPED.intersection(relative.parts):
            continue
        if str(relative) not in LINE_BREAKS_SHOW | NOT_YET:
            yield path


def test_no_template_line_passes_200_characters():
    long_lines = [
        f"{path.relative_to(ROOT)}:{number} ({len(line)} characters)"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if len(line) > LIMIT
    ]
    assert long_lines == []
