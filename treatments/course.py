"""The chart's course of care (issue 14 part 2): the series of sessions over time, with pain (NRS) before
and after, the points and body regions of each session, its side effects, the plan's review date, and the
Patient-Specific Functional Scale trended by activity. Each chart is SVG drawn on the server from a
template (treatments/svg/trend_chart.svg escapes every value), with the table of the very figures it draws
beside it, for screen readers and careful readers. A constant number of queries however many sessions."""

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join

from accounts.models import Role
from clinic.reversing import url_for_id

from .chart import LATEST, latest_sessions
from .models import BodyRegion, SideEffect
from .outcomes import activity_key, psfs_history

# A course is 3 to 6 sessions, an episode about 7 (DOMAIN.md): the latest 24 show several courses.
COURSE_SESSIONS = 24
assert COURSE_SESSIONS <= LATEST, "the chart's one read of the latest sessions must cover the course"
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 34, 46
COLOURS = ("#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#d63384")
BEFORE, AFTER, SIDE_EFFECT = "#6c757d", "#0d6efd", "#dc3545"
REGION_LABELS = dict(BodyRegion.choices)
DOT = (
    '<circle cx="{}" cy="{}" r="3.5" fill="{}" data-x="{}" data-value="{}"><title>{}, {}: {}</title></circle>'
)


@dataclass
class Series:
    name: str
    colour: str
    values: list  # one per x position; None where nothing was scored
    dashed: bool = False


@dataclass
class Marker:
    """A mark above one x position (a side effect), with the words its tooltip says."""

    index: int
    text: str


@dataclass
class Trend:
    key: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    svg: str = ""

    def add_row(self, cells, url=None, **extra):
        """A row of the table: its cells, and its markup made here (each cell localized and escaped as
        the template would, the first a header linking to `url` when given) rather than by a template
        loop per cell."""
        first, *rest = [localize(cell) for cell in cells]
        head = format_html('<a href="{}">{}</a>', url, first) if url else first
        html = format_html(
            '<th scope="row">{}</th>{}', head, format_html_join("", "<td>{}</td>", ((cell,) for cell in rest))
        )
        self.rows.append({"cells": cells, "html": html, **extra})


def _x_at(index, count):
    plot = WIDTH - LEFT - RIGHT
    return LEFT + (plot / 2 if count == 1 else plot * index / (count - 1))


def _y_at(value):
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot - plot * value / 10


def trend_svg(key, title, x_labels, series, *, markers=(), x_notes=()):
    """An SVG of 0-10 scores over time (NRS, PSFS): a line per series, broken where a value is missing,
    a dot per value, the x labels (at most about 8 shown), notes under them (points per session), and red
    marks above the positions with a side effect."""
    count = len(x_labels)
    every = max(1, -(-count // 8))
    lines = []
    for number, one in enumerate(series):
        runs, run = [], []
        for index, value in enumerate(one.values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(f"{_x_at(index, count):.1f},{_y_at(value):.1f}")
        if run:
            runs.append(run)
        lines.append(
            {
                "name": one.name,
                "colour": one.colour,
                "dashed": one.dashed,
                "runs": [" ".join(r) for r in runs if len(r) > 1],
                # One circle per value, made here (every value escaped) rather than by a template loop.
                "dots": format_html_join(
                    "",
                    DOT,
                    (
                        (
                            f"{_x_at(i, count):.1f}",
                            f"{_y_at(v):.1f}",
                            one.colour,
                            x_labels[i],
                            v,
                            one.name,
                            x_labels[i],
                            v,
                        )
                        for i, v in enumerate(one.values)
                        if v is not None
                    ),
                ),
                "legend_x": LEFT + number * 150,
                "legend_text_x": LEFT + number * 150 + 16,
            }
        )
    context = {
        "key": key,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "tick_x": LEFT - 6,
        "ticks": [
            {"y": f"{_y_at(v):.1f}", "text_y": f"{_y_at(v) + 4:.1f}", "value": v} for v in (0, 2, 4, 6, 8, 10)
        ],
        "x_labels": [
            {"x": f"{_x_at(i, count):.1f}", "text": label}
            for i, label in enumerate(x_labels)
            if i == count - 1 or (i % every == 0 and count - 1 - i >= every / 2)
        ],
        "x_label_y": HEIGHT - BOTTOM + 16,
        "x_notes": [
            {"x": f"{_x_at(i, count):.1f}", "text": note}
            for i, note in enumerate(x_notes)
            if note and (i == count - 1 or (i % every == 0 and count - 1 - i >= every / 2))
        ],
        "x_note_y": HEIGHT - BOTTOM + 30,
        "markers": [
            {"x": f"{_x_at(m.index, count):.1f}", "y": TOP - 8, "text": m.text, "colour": SIDE_EFFECT}
            for m in markers
        ],
        "lines": lines,
        "empty": not count,
    }
    return render_to_string("treatments/svg/trend_chart.svg", context)


def _course_sessions(request, patient):
    """The latest COURSE_SESSIONS sessions, oldest first, each with its needled points counted, its body
    regions and its side effects: the chart's one read of the latest sessions (treatments/chart.py,
    shared with the session history), no query of its own."""
    sessions = latest_sessions(request, patient)[:COURSE_SESSIONS]
    sessions.reverse()
    for session in sessions:
        session.needled = session.point_count
        # Each region once, in region order (the points come sorted by it).
        session.regions = [
            REGION_LABELS.get(region, region) for region in dict.fromkeys(session.point_regions)
        ]
        session.effects = [
            f"{effect.get_type_display()} ({effect.severity_word})"
            for effect in (
                SideEffect(type=kind, severity=severity)
                for kind, severity in zip(
                    session.effect_types or [], session.effect_severities or [], strict=True
                )
            )
        ]
    return sessions


def pain_trend(sessions):
    """The sessions' pain before and after (NRS), points, regions and side effects: chart and table."""
    labels = [f"{timezone.localtime(s.started_at):%Y-%m-%d}" for s in sessions]
    trend = Trend(
        key="course-pain",
        title="Pain (NRS 0-10) before and after each session",
        columns=["Session", "Pain before", "Pain after", "Points", "Regions", "Side effects", "Signed"],
    )
    session_url = url_for_id("treatments:session")
    for label, s in zip(labels, sessions, strict=True):
        trend.add_row(
            [
                label,
                s.pain_before if s.pain_before is not None else "–",
                s.pain_after if s.pain_after is not None else "–",
                s.needled,
                ", ".join(s.regions) or "–",
                "; ".join(s.effects) or "None",
                "yes" if s.signed_at else "draft",
            ],
            url=session_url(s.pk),
            session=s,
        )
    trend.svg = trend_svg(
        trend.key,
        trend.title,
        labels,
        [
            Series("Pain before", BEFORE, [s.pain_before for s in sessions], dashed=True),
            Series("Pain after", AFTER, [s.pain_after for s in sessions]),
        ],
        markers=[
            Marker(index, f"{labels[index]}: {'; '.join(s.effects)}")
            for index, s in enumerate(sessions)
            if s.effects
        ],
        x_notes=[f"{s.needled} pt{'s' if s.needled != 1 else ''}" for s in sessions],
    )
    return trend


def psfs_trend(measures):
    """The PSFS scorings: a line per activity (grouped by its words, whatever the case or spacing) and the
    PSFS score (the mean, dashed); the table has a column per activity."""
    labels = [f"{timezone.localtime(m.scored_at):%Y-%m-%d}" for m in measures]
    names = {}  # activity key -> the wording of its latest scoring
    for measure in measures:
        for activity, _score in measure.items:
            names[activity_key(activity)] = activity
    keys = list(names)
    scores = [{activity_key(activity): score for activity, score in m.items} for m in measures]
    trend = Trend(
        key="course-psfs",
        title="Patient-Specific Functional Scale (0 unable, 10 able as before)",
        columns=["Scored", "PSFS score", *[names[k] for k in keys]],
    )
    for label, measure, scored in zip(labels, measures, scores, strict=True):
        trend.add_row([label, measure.score, *[scored.get(k, "–") for k in keys]], measure=measure)
    series = [Series("PSFS score (mean)", "#212529", [float(m.score) for m in measures], dashed=True)]
    series += [
        Series(names[k], COLOURS[n % len(COLOURS)], [scored.get(k) for scored in scores])
        for n, k in enumerate(keys)
    ]
    trend.svg = trend_svg(trend.key, trend.title, labels, series)
    return trend


def review_status(sessions, today=None):
    """The plan's review date, from the latest session that set one: {"on", "session", "days"} (days
    from today, negative once it has passed), or None."""
    for session in reversed(sessions):
        if session.review_on is not None:
            today = today or timezone.localdate()
            days = (session.review_on - today).days
            return {"on": session.review_on, "session": session, "days": days, "ago": -days}
    return None


def course_panel(request, patient):
    """The course of care on the chart (clinical): one query of its own (the PSFS scorings) and
    the chart's shared read of the latest sessions, whatever the number of sessions."""
    sessions = _course_sessions(request, patient)
    measures = psfs_history(patient.pk, limit=COURSE_SESSIONS)
    pain = pain_trend(sessions) if sessions else None
    psfs = psfs_trend(measures) if measures else None
    return {
        "template": "treatments/course_panel.html",
        "context": {
            "pain_trend": pain,
            "psfs_trend": psfs,
            "review": review_status(sessions),
            "may_score": request.user.has_role(Role.PHYSIO) and patient.archived_at is None,
        },
        "order": 22,
        "clinical": True,
    }
