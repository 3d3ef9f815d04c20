"""The patient chart's needling panel (clinical): sessions newest first with a small pain chart."""

from django.db.models import Count, Q

from accounts.models import Role

from .models import NeedlingSession

HISTORY = 20


def pain_chart_svg(sessions):
    """Inline SVG: pain before (grey) and after (blue) per session, oldest on the left. None when no pain
    was recorded."""
    scored = [s for s in reversed(sessions) if s.pain_before is not None or s.pain_after is not None]
    if not scored:
        return None
    width, height, pad = 320, 90, 18
    step = (width - 2 * pad) / max(len(scored), 1)
    bar = max(min(step / 2 - 2, 12), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="Pain before and after each session (NRS 0 to 10)">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>',
        f'<text x="2" y="{pad - 6}" font-size="8" fill="#555">10</text>'
        f'<text x="2" y="{height - pad}" font-size="8" fill="#555">0</text>',
    ]
    scale = (height - 2 * pad) / 10
    for index, session in enumerate(scored):
        x = pad + index * step + 2
        for offset, value, colour, label in (
            (0, session.pain_before, "#9aa5b1", "before"),
            (bar + 1, session.pain_after, "#1f4e79", "after"),
        ):
            if value is None:
                continue
            h = value * scale
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{height - pad - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{session.started_at:%Y-%m-%d} {label}: {value}</title></rect>'
            )
    parts.append(
        f'<text x="{width - pad}" y="{height - 4}" font-size="8" text-anchor="end" fill="#555">'
        "grey: before · blue: after</text></svg>"
    )
    return "".join(parts)


def sessions_panel(request, patient):
    """Session history, newest first, with links to each session and its PDF. Two queries."""
    sessions = list(
        NeedlingSession.objects.filter(patient=patient)
        .select_related("clinician")
        # Needled points: one removed as entered in error is not counted.
        .annotate(point_count=Count("points", filter=Q(points__removal__isnull=True)))
        .order_by("-started_at", "-id")[: HISTORY + 1]
    )
    more = len(sessions) > HISTORY
    sessions = sessions[:HISTORY]
    return {
        "template": "treatments/chart_panel.html",
        "context": {
            "sessions": sessions,
            "pain_chart": pain_chart_svg(sessions),
            "can_start": request.user.role == Role.PHYSIO and patient.archived_at is None,
            "more": more,
            "total": NeedlingSession.objects.filter(patient=patient).count() if more else len(sessions),
        },
        "order": 20,
        "clinical": True,
    }
