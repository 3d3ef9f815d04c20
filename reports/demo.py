"""Demo data for reports: nothing of its own, but the summaries the dashboards read must match the
needling rows the other apps' demo seeds just loaded (a bulk load may run with triggers off). Runs
last (reports is last in INSTALLED_APPS); recounts only when the summaries are out of step."""

from django.db import connection

from .summaries import rebuild


def out_of_step():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM treatments_needlingsession)
                      <> (SELECT count(*) FROM reports_sessionsummary)
                   OR (SELECT count(*) FROM treatments_needlepoint)
                      <> (SELECT coalesce(sum(points), 0) FROM reports_sessionsummary)"""
        )
        return cursor.fetchone()[0]


def seed(demo):
    if out_of_step():
        rebuild()
        demo.say("reports: summaries recounted from the needling tables")
