"""Templates compare a status, an action or a severity through its enum (`batch.status ==
BatchStatus.PENDING`, the enum given by the view or, for Role, the context processor), never a raw string
(STYLE.md "Names"): a renamed value would leave the comparison silently false. Roles have their own
test (tests/accounts/test_roles_named.py)."""

import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", "var", "node_modules", ".git"}
NOT_YET = set()
TAG = re.compile(r"{%.*?%}")
LITERAL_COMPARED = re.compile(r"""(?:==|!=)\s*["']([^"']+)["']|["']([^"']+)["']\s*(?:==|!=)""")


def choice_values():
    """Every value of every model field's choices in the project."""
    return {
        value
        for model in apps.get_models()
        for field in model._meta.get_fields()
        for value, _label in getattr(field, "flatchoices", None) or []
        if isinstance(value, str) and value
    }


def test_the_guard_knows_the_values_it_looks_for():
    assert {"pending", "break_glass", "serious", "no_show"} <= choice_values()


def templates():
    for path in ROOT.rglob("*.html"):
        relative = path.relative_to(ROOT)
        if not SKIPPED.intersection(relative.parts) and str(relative) not in NOT_YET:
            yield path


def test_no_template_compares_a_model_choice_with_a_raw_string():
    values = choice_values()
    offenders = [
        f"{path.relative_to(ROOT)}:{number} {literal!r}"
        for path in templates()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for tag in TAG.findall(line)
        for match in LITERAL_COMPARED.finditer(tag)
        if (literal := match.group(1) or match.group(2)) in values
    ]
    assert offenders == []
