"""Summaries the database keeps for the dashboards (reports/migrations/0002_summary_triggers.py).

At benchmark size a year holds about 200,000 sessions and 2,000,000 needle points; counting points per
session and per muscle from the points table on every page view takes seconds. These two narrow tables
hold the same counts, kept by statement-level triggers on the needling tables (one aggregated
statement per INSERT/UPDATE, however many rows it touched, so bulk loads stay fast), and are read by
reports/services.py. reports owns them; no other app writes them. `manage.py refresh_report_summaries`
rebuilds both from the source tables (after a load with triggers off); `manage.py migrate` records a
changed CLINIC_TIME_ZONE and recounts by itself (reports/apps.py).
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class SessionSummary(models.Model):
    """One row per needling session: who, when, where, pain, and its points counted."""

    session_id = models.BigIntegerField(primary_key=True)
    patient_id = models.BigIntegerField()
    clinician_id = models.BigIntegerField()
    # The appointment's location when the session came from one; unknown otherwise.
    location_id = models.BigIntegerField(null=True)
    started_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True)
    pain_before = models.SmallIntegerField(null=True)
    pain_after = models.SmallIntegerField(null=True)
    points = models.IntegerField(default=0)
    twitches = models.IntegerField(default=0)
    neck_points = models.IntegerField(default=0)
    mid_back_points = models.IntegerField(default=0)
    # Whether the patient's consent covered the region when the session's points were last recorded
    # (the moment treatments' consent gate checks); meaningful when the region has points.
    neck_consented = models.BooleanField(db_default=True)
    mid_back_consented = models.BooleanField(db_default=True)

    class Meta:
        indexes = [
            models.Index(fields=["started_at"], name="reports_session_started_idx"),
            models.Index(fields=["clinician_id", "started_at"], name="reports_session_clinician_idx"),
            # The administrator's list of the newest sessions whose consent did not cover a risk region.
            models.Index(
                fields=["started_at", "session_id"],
                condition=Q(neck_points__gt=0, neck_consented=False)
                | Q(mid_back_points__gt=0, mid_back_consented=False),
                name="reports_session_uncovered_idx",
            ),
        ]

    def __str__(self):
        return f"Session {self.session_id}: {self.points} points"


class SessionFigures(models.Model):
    """The session figures a day's rollup adds up, the same for one clinician (SessionDay) and for all of
    them (SessionDayTotal); the triggers of reports 0010 and 0011 keep both."""

    sessions = models.IntegerField(default=0)
    # Sessions with 0, 1, ... 9 points, then 10 or more: the points-per-session histogram.
    sessions_by_points = ArrayField(models.IntegerField(), size=11)
    points = models.IntegerField(default=0)
    twitches = models.IntegerField(default=0)
    # Sessions with both pain scores, and those scores summed (the mean before and after), and how many
    # of them ended with less pain.
    pain_sessions = models.IntegerField(default=0)
    pain_before = models.IntegerField(default=0)
    pain_after = models.IntegerField(default=0)
    improved = models.IntegerField(default=0)
    # Sessions with neck or mid back points, and those whose consent covered every such region.
    risk_sessions = models.IntegerField(default=0)
    covered_sessions = models.IntegerField(default=0)

    class Meta:
        abstract = True


class SessionDay(SessionFigures):
    """The session summaries of one clinic day, clinician and location, added up: what the dashboard's
    session figures sum over a range (one row per clinician-day, not one per session). Kept from the
    session summaries by their own triggers (reports/migrations/0010_session_days.py)."""

    day = models.DateField()
    clinician_id = models.BigIntegerField()
    location_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "clinician_id", "location_id"],
                name="reports_session_day_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["clinician_id", "day"], name="reports_session_day_clin_idx")]

    def __str__(self):
        return f"{self.day} clinician {self.clinician_id}: {self.sessions} sessions"


class SessionDayTotal(SessionFigures):
    """SessionDay's figures per clinic day and location, all clinicians together: what the dashboard reads
    unless a therapist is chosen, one row per day and location whatever the clinic's size (at full size a
    clinician-day holds about one session). Kept by the same triggers (reports/migrations/0011)."""

    day = models.DateField()
    location_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "location_id"], name="reports_session_total_unique", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"{self.day} location {self.location_id}: {self.sessions} sessions"


class SessionMonthTotal(SessionFigures):
    """SessionDayTotal's figures per calendar month and location: what the dashboard reads for a range's
    whole months unless a therapist is chosen (its days at either end come from SessionDayTotal). Kept by
    a row trigger on SessionDayTotal (reports/migrations/0013_month_totals.py)."""

    month = models.DateField()  # its first day
    location_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "location_id"],
                name="reports_session_month_total_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} location {self.location_id}: {self.sessions} sessions"


class SessionMonth(models.Model):
    """Sessions per calendar month, clinician and location: the per-therapist table's whole months (the
    days at either end of a range come from SessionDay). Kept by the same triggers (reports 0011)."""

    month = models.DateField()  # its first day
    clinician_id = models.BigIntegerField()
    location_id = models.BigIntegerField(null=True)
    sessions = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "clinician_id", "location_id"],
                name="reports_session_month_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} clinician {self.clinician_id}: {self.sessions} sessions"


class MuscleDay(models.Model):
    """Points and twitch responses per clinic day, clinician, location and muscle."""

    day = models.DateField()
    clinician_id = models.BigIntegerField()
    location_id = models.BigIntegerField(null=True)
    muscle_id = models.BigIntegerField()
    points = models.IntegerField(default=0)
    twitches = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "clinician_id", "location_id", "muscle_id"],
                name="reports_muscle_day_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [
            # A year without filters reads about 600,000 rows at benchmark size: from the index alone.
            models.Index(fields=["day", "muscle_id", "points"], name="reports_muscle_day_idx"),
        ]

    def __str__(self):
        return f"{self.day} muscle {self.muscle_id}: {self.points} points"


class MuscleDayTotal(models.Model):
    """Points and twitch responses per clinic day and muscle, all clinicians and locations together:
    what the dashboard reads when no therapist or location is chosen (about 30,000 rows a year)."""

    day = models.DateField()
    muscle_id = models.BigIntegerField()
    points = models.IntegerField(default=0)
    twitches = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "muscle_id"], name="reports_muscle_total_unique")
        ]

    def __str__(self):
        return f"{self.day} muscle {self.muscle_id}: {self.points} points"


class MuscleMonthTotal(models.Model):
    """MuscleDayTotal's points and twitch responses per calendar month and muscle (reports 0013)."""

    month = models.DateField()  # its first day
    muscle_id = models.BigIntegerField()
    points = models.IntegerField(default=0)
    twitches = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "muscle_id"], name="reports_muscle_month_total_unique")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} muscle {self.muscle_id}: {self.points} points"


class AppointmentDay(models.Model):
    """Appointments per clinic day, therapist, location and status (a status change moves one along)."""

    day = models.DateField()
    therapist_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    appointments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "therapist_id", "location_id", "status"], name="reports_appointment_day_unique"
            )
        ]

    def __str__(self):
        return f"{self.day} therapist {self.therapist_id}: {self.appointments} {self.status}"


class AppointmentDayTotal(models.Model):
    """Appointments per clinic day, location and status, all therapists together: what the dashboard's
    per-period appointment figures read unless a therapist is chosen. Kept by the same triggers as
    AppointmentDay (reports/migrations/0012_appointment_totals.py)."""

    day = models.DateField()
    location_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    appointments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "location_id", "status"], name="reports_appointment_total_unique"
            )
        ]

    def __str__(self):
        return f"{self.day} location {self.location_id}: {self.appointments} {self.status}"


class AppointmentMonth(models.Model):
    """Appointments per calendar month, therapist, location and status: the per-therapist table's whole
    months (the days at either end of a range come from AppointmentDay). Kept by the same triggers
    (reports 0012)."""

    month = models.DateField()  # its first day
    therapist_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    appointments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "therapist_id", "location_id", "status"],
                name="reports_appointment_month_unique",
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} therapist {self.therapist_id}: {self.appointments} {self.status}"


class AppointmentMonthTotal(models.Model):
    """AppointmentDayTotal's appointments per calendar month, location and status: the dashboard's whole
    months unless a therapist is chosen (reports 0013)."""

    month = models.DateField()  # its first day
    location_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    appointments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "location_id", "status"], name="reports_appointment_month_total_unique"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} location {self.location_id}: {self.appointments} {self.status}"


class SessionWeekTotal(models.Model):
    """SessionDayTotal's sessions per week (from Monday) and location: the dashboard's whole weeks when it
    shows a range by week, unless a therapist is chosen (its days at either end come from SessionDayTotal).
    Kept by a row trigger on SessionDayTotal (reports/migrations/0014_week_totals.py)."""

    week = models.DateField()  # its Monday
    location_id = models.BigIntegerField(null=True)
    sessions = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "location_id"], name="reports_session_week_total_unique", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"week of {self.week} location {self.location_id}: {self.sessions} sessions"


class AppointmentWeekTotal(models.Model):
    """AppointmentDayTotal's appointments per week (from Monday), location and status: the dashboard's
    whole weeks unless a therapist is chosen (reports 0014)."""

    week = models.DateField()  # its Monday
    location_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    appointments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "location_id", "status"], name="reports_appointment_week_total_unique"
            )
        ]

    def __str__(self):
        return f"week of {self.week} location {self.location_id}: {self.appointments} {self.status}"
