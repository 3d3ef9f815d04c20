"""Templates stay readable: no line passes 200 characters (issue 13 item 5)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 200
SKIPPED = {".venv", "var", "node_modules", ".git"}
# Not yet broken: their tests match raw markup (a sentence, an attribute sequence) on one line, so the
# lines and those assertions change together (assert on tests/markup.py's page_text and tags instead).
# Remove a file from here when it is done.
NOT_YET = {
    "treatments/templates/treatments/_incident_banner.html",
    "treatments/templates/treatments/_point_form.html",
    "treatments/templates/treatments/_points.html",
    "treatments/templates/treatments/_side_effects.html",
    "treatments/templates/treatments/session.html",
}


def templates():
    for path in ROOT.rglob("*.html"):
        relative = path.relative_to(ROOT)
        if SKIPPED.intersection(relative.parts) or relative.parts[0] == "appointments":
            continue  # appointments' templates: another branch is breaking their lines now
        if str(relative) not in NOT_YET:
            yield path


def test_no_template_line_passes_200_characters():
    long_lines = [
        f"{path.relative_to(ROOT)}:{number} ({len(line)} characters)"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if len(line) > LIMIT
    ]
    assert long_lines == []
