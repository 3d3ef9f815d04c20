"""The rows of the session screen's points table (treatments/_points.html), written here with format_html
(every value escaped) rather than by the template per point: issue 17, a dozen lookups and filters per row
were a large part of the screen. The markup is the template's as it was; tests/treatments/test_point_rows.py
holds what the rows show and link to."""

from django import template
from django.template.defaultfilters import date, floatformat
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import format_html
from django.utils.timezone import template_localtime

register = template.Library()

NEEDLED = """
      <tr data-testid="point-row"><td data-label="#">{}</td>
        <td data-label="Muscle">{}{}</td>
        <td data-label="Side">{}</td><td data-label="Segment">{}</td>
        <td data-label="Needle">{}</td>
        <td data-label="Depth">{} mm{}</td>
        <td data-label="Insertions">{}</td><td data-label="Technique">{}</td>
        <td data-label="Twitch">{}</td><td data-label="Response">{}</td>
        {}</tr>"""
RISK = """
          <span class="badge text-bg-warning">{}</span>"""
CONFIRMED = """
          <span title="{}">(confirmed)</span>"""
BEYOND = "beyond the advisory maximum, confirmed"
# The row's URLs from the one reversed above the table (two reverses per row were a page's worth).
ACTIONS = """<td class="text-nowrap point-actions"><a class="btn btn-sm btn-link p-0" href="{url}edit/" \
hx-get="{url}edit/"
            hx-target="#point-form" hx-swap="outerHTML">Edit</a>
          <details class="d-inline-block" data-testid="remove-point"><summary class="btn btn-sm btn-link p-0 \
text-danger">Remove</summary>
            <form method="post" action="{url}remove/" hx-post="{url}remove/" hx-target="#points" \
hx-swap="outerHTML" class="d-flex gap-1 mt-1">
              {csrf}
              <input type="text" name="reason" class="form-control form-control-sm" maxlength="300" required
                     placeholder="Why? (entered in error)" aria-label="Why is point {order} removed?">
              <button class="btn btn-sm btn-outline-danger" type="submit">Remove point {order}</button>
            </form>
          </details></td>
        """
REMOVED = """
      <tr class="text-muted" data-testid="removed-point-row"><td data-label="#"><s>{}</s></td>
        <td colspan="9"><s>{}, {}, {} at {} mm</s>
        <span class="small">· removed (entered in error) by {} at {}:
          {}</span></td>{}</tr>"""


@register.simple_tag(takes_context=True)
def point_rows(context, points, editable, points_url):
    """Each point's row of the table, as safe markup: needled points with their edit and remove actions
    while `editable` (the own draft), points removed as entered in error struck through with why."""
    csrf = CsrfTokenNode().render(context) if editable else ""
    rows = []
    for point in points:
        removal = point.removed
        if removal is not None:
            rows.append(
                format_html(
                    REMOVED,
                    point.order,
                    point.muscle,
                    point.get_side_display().lower(),
                    point.needle_size,
                    floatformat(point.depth_mm, "-1"),
                    removal.removed_by,
                    date(template_localtime(removal.removed_at), "H:i"),  # as the template's |date
                    removal.reason,
                    format_html("<td>{}</td>", "") if editable else "",
                )
            )
            continue
        url = f"{points_url}{point.pk}/"
        actions = format_html(ACTIONS, url=url, csrf=csrf, order=point.order) if editable else ""
        muscle = point.muscle
        rows.append(
            format_html(
                NEEDLED,
                point.order,
                muscle,
                format_html(RISK, muscle.get_risk_region_display()) if muscle.is_risk else "",
                point.get_side_display(),
                point.segment or "—",
                point.needle_size,
                floatformat(point.depth_mm, "-1"),
                format_html(CONFIRMED, BEYOND) if point.depth_confirmed else "",
                point.insertions,
                point.get_technique_display(),
                point.get_twitch_response_display(),
                point.get_patient_response_display(),
                actions,
            )
        )
    return rows
