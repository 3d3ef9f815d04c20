"""Patient badges (patients/chart.py patient_badges) as HTML for lists of many patients: the search
results as the desk types, My day. Each different badge is rendered once by patients/_badges.html (the one
way pages show a badge) and reused for every patient who has it, rather than the template rendered for
each patient (issue 17: it was a fifth of the search's time)."""

from django.template.loader import get_template
from django.utils.safestring import mark_safe


def badges_renderer():
    """A function giving the HTML of a patient's list of badges, for one request."""
    template = get_template("patients/_badges.html")
    rendered = {}

    def badge_html(badge):
        key = tuple(sorted(badge.items()))
        if key not in rendered:
            rendered[key] = template.render({"badges": [badge]})
        return rendered[key]

    def badges_html(badges):
        return mark_safe("".join(badge_html(badge) for badge in badges))  # noqa: S308 (rendered above)

    return badges_html
