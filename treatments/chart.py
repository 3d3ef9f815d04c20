"""The patient chart's needling panel (clinical): sessions newest first with a small pain chart."""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Role
from clinic.reversing import url_for_id
from patients.chart import on_chart

from .selectors import latest_sessions_of

HISTORY = 20
BAR = '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>'
# The course of care (treatments/course.py) draws the latest 24: one read serves both panels.
LATEST = 25


def latest_sessions(request, patient):
    """The patient's latest LATEST sessions, newest first, as ChartSession values (treatments/selectors.py):
    each with its clinician, its follow-up (the answers, treatments/followup.py), the body region of each
    needled point (`point_regions`, in region order; a point removed as entered in error is not one),
    hence `point_count`, its side effects' types and severities (`effect_types`, `effect_severities`, in
    the order recorded), and how many sessions the patient has in all (`patient_sessions`). One query per
    page, shared by the session history and the course of care (treatments/course.py)."""
    patient_id = getattr(patient, "pk", patient)
    return on_chart(request, patient, "sessions", lambda: latest_sessions_of(patient_id, limit=LATEST))


def pain_chart_svg(sessions):
    """Inline SVG from treatments/svg/pain_chart.svg (the template escapes every value): pain before
    (grey) and after (blue) per session, oldest on the left. None when no pain was recorded."""
    scored = [s for s in reversed(sessions) if s.pain_before is not None or s.pain_after is not None]
    if not scored:
        return None
    width, height, pad = 320, 90, 18
    step = (width - 2 * pad) / max(len(scored), 1)
    bar = max(min(step / 2 - 2, 12), 2)
    scale = (height - 2 * pad) / 10
    bars = []
    for index, session in enumerate(scored):
        x = pad + index * step + 2
        for offset, value, colour, label in (
            (0, session.pain_before, "#9aa5b1", "before"),
            (bar + 1, session.pain_after, "#1f4e79", "after"),
        ):
            if value is None:
                continue
            h = value * scale
            bars.append(
                (
                    f"{x + offset:.1f}",
                    f"{height - pad - h:.1f}",
                    f"{bar:.1f}",
                    f"{h:.1f}",
                    colour,
                    f"{session.started_at:%Y-%m-%d}",
                    label,
                    value,
                )
            )
    return render_to_string(
        "treatments/svg/pain_chart.svg",
        {
            "width": width,
            "height": height,
            "pad": pad,
            "axis_y": height - pad,
            "axis_end": width - pad,
            "top_label_y": pad - 6,
            "legend_y": height - 4,
            # The bars made here, each value escaped by format_html_join, rather than by a template loop.
            "bars": format_html_join("", BAR, bars),
        },
    )


HISTORY_ROW = """
    <li class="list-group-item d-flex justify-content-between" data-testid="session-history-row">
      <span><a href="{}">{}</a> ·
        {} · pain {} →
        {} · {}
        point{}
        {}
        {}</span>
      <a href="{}">PDF</a>
    </li>"""
SIGNED = '<span class="badge text-bg-{}">{}</span>'
ANSWERED = '<span data-testid="follow-up-answer">· next day: soreness {}/10{}\n  {}</span>'
WARNING_SIGNS = '<span class="badge text-bg-danger">{}</span>'
NOT_ANSWERED = '<span class="text-body-secondary" data-testid="{}">· follow-up not answered</span>'


def follow_up_badge(follow_up):
    """What treatments/_follow_up_badge.html shows of a session's follow-up, made here for each row."""
    if follow_up is None:
        return ""
    if follow_up.answered_at is None:
        return format_html(NOT_ANSWERED, "follow-up-answer")
    signs = follow_up.warning_signs
    return format_html(
        ANSWERED,
        follow_up.soreness,
        ", bruising" if follow_up.bruising else "",
        format_html(WARNING_SIGNS, ", ".join(signs)) if signs else "",
    )


def history_row(session, url, pdf_url):
    """One session's line of the history, made here with format_html (every value escaped) rather than by
    the template with an include per row: the chart shows twenty."""
    count = session.point_count
    return format_html(
        HISTORY_ROW,
        url,
        f"{timezone.localtime(session.started_at):%Y-%m-%d}",
        session.clinician,
        "?" if session.pain_before is None else session.pain_before,
        "?" if session.pain_after is None else session.pain_after,
        count,
        "" if count == 1 else "s",
        format_html(SIGNED, *(("success", "signed") if session.signed_at else ("warning", "draft"))),
        follow_up_badge(getattr(session, "follow_up", None)),  # None when it has none
        pdf_url,
    )


def sessions_panel(request, patient):
    """Session history, newest first, with links to each session and its PDF, and how many in all: the
    page's one read of the latest sessions, no query of its own."""
    sessions = latest_sessions(request, patient)
    more = len(sessions) > HISTORY
    sessions = sessions[:HISTORY]
    # Each row's links and day made here, once per page for the reverse() (not a {% url %} per row).
    session_url, pdf_url = url_for_id("treatments:session"), url_for_id("treatments:pdf")
    rows = [history_row(s, session_url(s.pk), pdf_url(s.pk)) for s in sessions]
    return {
        "template": "treatments/chart_panel.html",
        "context": {
            "sessions": sessions,
            "rows": rows,
            "pain_chart": pain_chart_svg(sessions),
            "can_start": request.user.role == Role.PHYSIO and patient.archived_at is None,
            # "Repeat last session" starts a draft from it (treatments/repeat.py).
            "last_signed": next((s for s in sessions if s.signed_at is not None), None),
            "more": more,
            "total": sessions[0].patient_sessions if sessions else 0,
        },
        "order": 20,
        "clinical": True,
    }
