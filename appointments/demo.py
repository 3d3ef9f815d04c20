"""Demo schedules and appointments: working hours for the demo physiotherapists, about 12 appointments
per patient with a realistic mix of statuses in the past, today and the coming weeks.

Patients are taken in id order in groups of GROUP_SIZE; each group has two physiotherapists of its own
(the first group the authorised demo physiotherapists of accounts/demo.py; further groups, at benchmark
sizes, physiotherapists created here, ten to a location), so no one is ever double-booked and a large
seed reads like a chain of clinics. Appointments are laid out eight a day on each physiotherapist's
grid, three quarters before today and a quarter after, so today is always busy.

Every day but today uses the working grid (08:00 to 16:30, lunch at 12:00). Today is laid out around
the moment of seeding instead (todays_grid()), so "My day" is alive whenever `make run` starts, at
07:00, at 19:30 or at 23:50: three patients done, one in treatment, one in the waiting room, three still
to come. The demo clinic is open seven days a week, so a Saturday or Sunday shows the same busy day.

The main location's completed visits of the last fortnight were paid at the desk (add_payments()), so the
desk's check-out, the receipts and the payments export have something to show.

Deterministic for a given clock, idempotent (a group whose physiotherapists already have appointments is
left alone), and set-based: one INSERT ... SELECT over generate_series, 1.2M rows for --size 100000.
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ClinicianProfile, Role, User
from patients.models import Patient

from .models import Appointment, AppointmentType, Break, Location, WorkingHours
from .selectors import local_day_bounds

GROUP_SIZE = 520
PER_PATIENT = 12
GROUPS_PER_LOCATION = 5
# The hourly grid: four slots before lunch (12:00-12:30), four after; follow-ups leave half an hour.
DAY_START, LUNCH, LUNCH_END, DAY_END = time(8, 0), time(12, 0), time(12, 30), time(16, 30)
SLOT_MINUTES = [480, 540, 600, 660, 750, 810, 870, 930]
# Today's eight slots: three done, the one in treatment now, the one waiting, three to come.
DONE_SLOTS, NOW_SLOT = 3, 3
HOUR = timedelta(hours=1)
CANCEL_REASONS = ["Patient phoned: unwell", "Work conflict", "Clinic rescheduled", "Weather", "Family matter"]
# fmt: off
NAMES = [
    "Aisha Rahman", "Ben Carter", "Chloé Tremblay", "Dev Malhotra", "Elena García", "Felix Wong",
    "Gurleen Sandhu", "Hugo Lefebvre", "Ines Moreau", "Jonah Friesen", "Keiko Tanaka", "Liam O'Neill",
    "Mina Park", "Nikhil Rao", "Olivia Brandt", "Pablo Ruiz", "Quinn Douglas", "Rosa Lindqvist",
    "Samir Haddad", "Tara McLeod",
]
# fmt: on

APPOINTMENTS_SQL = """
WITH params AS (
    SELECT %(today)s::date AS today, %(now)s::timestamptz AS now
), groups AS (
    SELECT * FROM unnest(%(groups)s::int[], %(first)s::int[], %(second)s::int[], %(locations)s::int[],
                         %(sizes)s::int[], %(widths)s::int[]) AS g(g, t0, t1, location_id, size, width)
), patients AS (
    SELECT id AS patient_id, archived_at IS NOT NULL AS archived,
           (row_number() OVER (ORDER BY id) - 1)::int AS p
    FROM patients_patient
), laid_out AS (
    SELECT pt.patient_id, pt.archived, gr.g, gr.location_id, k,
           k * gr.size + (pt.p - gr.g * %(group_size)s) AS i,
           gr.t0, gr.t1, gr.size, gr.width
    FROM patients pt
    JOIN groups gr ON gr.g = pt.p / %(group_size)s
    CROSS JOIN generate_series(0, %(per_patient)s - 1) AS k
), placed AS (
    SELECT l.*,
           CASE WHEN l.width = 2 AND l.i %% 2 = 1 THEN l.t1 ELSE l.t0 END AS therapist_id,
           l.i / l.width AS j
    FROM laid_out l
), timed AS (
    SELECT pl.*,
           -- Three quarters of each physiotherapist's appointments lie before today, a quarter after.
           (SELECT today FROM params) + (pl.j / 8 - %(per_patient)s * pl.size * 3 / 4 / pl.width / 8) AS day,
           (ARRAY[480, 540, 600, 660, 750, 810, 870, 930])[pl.j %% 8 + 1] AS minute,
           (pl.patient_id * 7919 + pl.k * 104729) %% 1000 AS h
    FROM placed pl
), offsets AS (
    SELECT * FROM unnest(%(days)s::date[], %(offsets)s::int[]) AS o(day, seconds)
), stamped AS (
    -- Local wall-clock time to UTC with the offsets Python's zoneinfo gives (the ones Django shows
    -- times with): PostgreSQL's own time zone data may disagree, e.g. on BC's permanent daylight time.
    -- Today's slots come from todays_grid() instead, each no longer than the gap to the next.
    SELECT t.*,
           CASE WHEN t.day = (SELECT today FROM params) THEN (%(today_starts)s::timestamptz[])[t.j %% 8 + 1]
                ELSE ((t.day + make_interval(mins => t.minute) - make_interval(secs => o.seconds))::timestamp
                      AT TIME ZONE 'UTC') END AS start_at,
           CASE WHEN t.day = (SELECT today FROM params)
                THEN make_interval(secs => (%(today_gaps)s::int[])[t.j %% 8 + 1]) END AS longest
    FROM timed t JOIN offsets o ON o.day = t.day
), waiting AS (
    -- Today after the ones done, who comes in first: archived patients' bookings are cancelled, so the
    -- first two of the others arrive.
    SELECT s.patient_id, s.k,
           count(*) FILTER (WHERE NOT s.archived) OVER (PARTITION BY s.therapist_id ORDER BY s.j) AS turn
    FROM stamped s
    WHERE s.day = (SELECT today FROM params) AND s.j %% 8 >= %(done_slots)s
)
INSERT INTO appointments_appointment
    (patient_id, therapist_id, type_id, location_id, room_id, start, "end", status, cancel_reason,
     booked_by_id, notes, created_at, updated_at)
SELECT s.patient_id, s.therapist_id,
       CASE WHEN s.k = 0 THEN %(initial)s ELSE %(follow_up)s END,
       s.location_id, NULL, s.start_at,
       -- LEAST ignores the NULL longest of every day but today.
       s.start_at + LEAST(make_interval(mins => CASE WHEN s.k = 0 THEN 60 ELSE 30 END), s.longest),
       st.status,
       CASE WHEN st.status <> 'cancelled' THEN ''
            WHEN s.archived AND s.day >= (SELECT today FROM params) THEN 'Patient archived'
            ELSE (%(reasons)s::text[])[s.h %% %(reason_count)s + 1] END,
       %(desk)s, '',
       LEAST(s.start_at - interval '12 days', (SELECT now FROM params)),
       LEAST(s.start_at, (SELECT now FROM params))
FROM stamped s
LEFT JOIN waiting w ON w.patient_id = s.patient_id AND w.k = s.k
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN s.archived AND s.day >= (SELECT today FROM params) THEN 'cancelled'
        WHEN s.day < (SELECT today FROM params) THEN
            CASE WHEN s.h < 90 THEN 'cancelled' WHEN s.h < 140 THEN 'no_show' ELSE 'completed' END
        WHEN s.day > (SELECT today FROM params) THEN
            CASE WHEN s.h < 60 THEN 'cancelled' WHEN s.h < 450 THEN 'confirmed' ELSE 'booked' END
        -- Today, by slot (todays_grid() put them around now): done, then two arrived (treatments/demo.py
        -- takes the first into treatment, the second waits), then expected later.
        WHEN s.j %% 8 < %(done_slots)s THEN CASE WHEN s.h < 50 THEN 'no_show' ELSE 'completed' END
        WHEN w.turn <= 2 THEN 'arrived'
        ELSE CASE WHEN s.h < 500 THEN 'confirmed' ELSE 'booked' END
    END AS status
) st
"""

TODAYS_HISTORY_SQL = """
INSERT INTO appointments_appointmentstatuschange (appointment_id, from_status, to_status, by_id, at, note)
SELECT a.id, '', 'booked', a.booked_by_id, a.created_at, 'demo data'
FROM appointments_appointment a WHERE a.start >= %(from)s AND a.start < %(to)s
UNION ALL
SELECT a.id, 'booked', a.status, a.booked_by_id, LEAST(a.start, %(now)s), 'demo data'
FROM appointments_appointment a
WHERE a.start >= %(from)s AND a.start < %(to)s AND a.status NOT IN ('booked')
"""


def _location(index):
    if index == 0:
        location = Location.objects.order_by("pk").first()
        if location is None:
            location = Location.objects.create(name="Main clinic")
        if not location.address:
            location.address = "1200 W Broadway, Vancouver BC V6H 1G5"
            location.save(update_fields=["address"])
        return location
    location, _ = Location.objects.get_or_create(
        name=f"Branch {index:02d}", defaults={"address": f"{100 + index} Kingsway, Burnaby BC"}
    )
    return location


def _group_physiotherapists(group, password_hash):
    """The two physiotherapists of a group beyond the first, created once."""
    people = []
    for letter in "ab":
        email = f"physio-{group:04d}{letter}@demo.imsclinic.test"
        user = User.objects.filter(email=email).first()
        if user is None:
            name = NAMES[(group * 2 + (letter == "b")) % len(NAMES)]
            user = User.objects.create(
                email=email,
                full_name=f"{name} ({group:04d}{letter})",
                role=Role.PHYSIO,
                password=password_hash,
            )
            ClinicianProfile.objects.create(
                user=user, registration_number=f"PT-D{group:04d}{letter}", needling_authorised_on="2020-01-01"
            )
        people.append(user)
    return people


def _working_hours(people, location, weekdays=range(7)):
    """Every day 08:00-16:30 with lunch at 12:00, for those who have no hours yet (the demo clinic is open
    seven days a week, so "today" always has a schedule)."""
    have = set(WorkingHours.objects.filter(therapist__in=people).values_list("therapist_id", flat=True))
    blocks = [
        WorkingHours(therapist=person, weekday=weekday, start=DAY_START, end=DAY_END, location=location)
        for person in people
        if person.pk not in have
        for weekday in weekdays
    ]
    WorkingHours.objects.bulk_create(blocks)
    Break.objects.bulk_create(
        Break(working_hours=b, start=LUNCH, end=LUNCH_END, label="Lunch") for b in blocks
    )


def _utc_offsets(today, sizes, widths):
    """([day], [UTC offset in seconds at noon]) covering every day the groups' grids reach."""
    slots = [PER_PATIENT * size // width for size, width in zip(sizes, widths, strict=True)]
    past = max(PER_PATIENT * size * 3 // 4 // width // 8 for size, width in zip(sizes, widths, strict=True))
    future = max(s // 8 for s in slots) + 1
    zone = timezone.get_current_timezone()
    days = [today + timedelta(days=n) for n in range(-past - 1, future + 1)]
    noon_offsets = [datetime.combine(day, time(12), tzinfo=zone).utcoffset() for day in days]
    return days, [int(offset.total_seconds()) for offset in noon_offsets]


def todays_grid(now):
    """[(start, longest)] for today's eight demo slots, laid out around `now` (aware): slots 0 to 2 end by
    now, slot 3 began before now (the patient in treatment), slots 4 to 7 begin after now (the one in
    the waiting room, then three to come), all on today's local date, each no longer than the gap to the
    next, so no physiotherapist or patient is ever double-booked.

    By day (from about 03:20 to 20:10) it is an hourly grid on five-minute marks, slot 3 begun 15 to 20
    minutes ago. Nearer midnight the hours do not fit: the part of the day that lacks room is squeezed
    evenly (just after midnight the three done sit in the minutes since midnight; at 23:50 the four to
    come in the ten minutes left), minutes or seconds apart. In the first and last minute of the day the
    grid is laid as if a minute into the day, or a minute before its end."""
    from .selectors import local_day_bounds

    day_start, day_end = local_day_bounds(timezone.localdate(now))
    day_start, day_end = day_start.astimezone(UTC), day_end.astimezone(UTC)
    now = min(max(now.astimezone(UTC), day_start + timedelta(minutes=1)), day_end - timedelta(minutes=1))
    local = timezone.localtime(now - timedelta(minutes=15))
    anchor = local.replace(minute=local.minute - local.minute % 5, second=0, microsecond=0).astimezone(UTC)
    if anchor - NOW_SLOT * HOUR >= day_start and anchor + (8 - NOW_SLOT) * HOUR < day_end:
        starts = [anchor + (slot - NOW_SLOT) * HOUR for slot in range(8)]
        return [(start, HOUR) for start in starts]
    before, after = now - day_start, day_end - now
    # lead: how long ago slot 3 began; then even steps (whole seconds) back to midnight and forward to the
    # last slot, which still begins before the day ends.
    lead = min(timedelta(minutes=15), before / 4, after / 4)
    current = (now - lead).replace(microsecond=0)
    back = min(HOUR, timedelta(seconds=(current - day_start).total_seconds() // NOW_SLOT))
    ahead = min(HOUR, timedelta(seconds=(day_end - current).total_seconds() // 4.5))
    starts = [current + (slot - NOW_SLOT) * (back if slot < NOW_SLOT else ahead) for slot in range(8)]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)] + [ahead]
    return list(zip(starts, gaps, strict=True))


def seed(demo):
    staff = demo.shared.get("staff", {})
    desk = next((u for u in staff.values() if u.role == Role.FRONT_DESK), None)
    physios = demo.shared.get("physiotherapists", [])
    authorised = [
        p for p in physios if hasattr(p, "clinician_profile") and p.clinician_profile.needling_authorised()
    ]
    total = Patient.objects.count()
    if not authorised or total == 0:
        demo.say("appointments: no authorised demo physiotherapist or no patients; nothing to book")
        return
    initial = AppointmentType.objects.get_or_create(
        name="IMS initial assessment", defaults={"default_minutes": 60}
    )[0]
    follow_up = AppointmentType.objects.get_or_create(name="IMS follow-up", defaults={"default_minutes": 30})[
        0
    ]
    # Demo fees (CAD), typical of a BC physiotherapy clinic; set only where the clinic has not set one.
    AppointmentType.objects.filter(pk=initial.pk, fee=0).update(fee=Decimal("130.00"))
    AppointmentType.objects.filter(pk=follow_up.pk, fee=0).update(fee=Decimal("95.00"))
    # Online booking (/book/): new patients book an initial assessment, known patients a follow-up too.
    AppointmentType.objects.filter(pk=initial.pk).update(bookable_online=True, new_patients_online=True)
    AppointmentType.objects.filter(pk=follow_up.pk).update(bookable_online=True)
    password_hash = make_password(None)  # group physiotherapists cannot log in
    main = _location(0)
    _working_hours(physios, main)

    groups, firsts, seconds, places, sizes, widths = [], [], [], [], [], []
    group_count = -(-total // GROUP_SIZE)
    for group in range(group_count):
        people = authorised[:2] if group == 0 else _group_physiotherapists(group, password_hash)
        location = main if group == 0 else _location(group // GROUPS_PER_LOCATION)
        if group:
            _working_hours(people, location)
        if Appointment.objects.filter(therapist__in=people).exists():
            continue  # seeded before (idempotent)
        groups.append(group)
        firsts.append(people[0].pk)
        seconds.append(people[-1].pk)
        places.append(location.pk)
        size = min(GROUP_SIZE, total - group * GROUP_SIZE)
        sizes.append(size)
        # Two physiotherapists share a group's patients; one alone (or one patient) gets the grid alone.
        widths.append(2 if people[0] != people[-1] and size > 1 else 1)
    if not groups:
        demo.say("appointments: already seeded")
        _online_bookings(demo, main)
        return
    now = timezone.now()
    today = timezone.localdate()
    days, offsets = _utc_offsets(today, sizes, widths)
    grid = todays_grid(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            APPOINTMENTS_SQL,
            {
                "today": today,
                "now": now,
                "today_starts": [start for start, _longest in grid],
                "today_gaps": [int(longest.total_seconds()) for _start, longest in grid],
                "done_slots": DONE_SLOTS,
                "days": days,
                "offsets": offsets,
                "groups": groups,
                "first": firsts,
                "second": seconds,
                "locations": places,
                "sizes": sizes,
                "widths": widths,
                "group_size": GROUP_SIZE,
                "per_patient": PER_PATIENT,
                "initial": initial.pk,
                "follow_up": follow_up.pk,
                "reasons": CANCEL_REASONS,
                "reason_count": len(CANCEL_REASONS),
                "desk": desk.pk if desk else None,
            },
        )
        added = cursor.rowcount
        day_start, day_end = local_day_bounds(today)
        cursor.execute(TODAYS_HISTORY_SQL, {"from": day_start, "to": day_end, "now": now})
        # Fresh statistics for every table seeded here: with a stale "one location" estimate the planner
        # loops over all locations for each appointment query (found by bench/appointments_day_view.py).
        for table in (
            "appointments_appointment",
            "appointments_location",
            "appointments_workinghours",
            "appointments_break",
            "accounts_user",
            "accounts_clinicianprofile",
        ):
            cursor.execute(f"ANALYZE {table}")
    demo.shared["appointments_added"] = added
    paid = add_payments(main, desk, now) if desk else 0
    demo.say(f"appointments: {added} booked for {sum(sizes)} patients in {len(groups)} group(s), {paid} paid")
    _online_bookings(demo, main)


# Completed visits of the last fortnight at the main location, paid at the desk a few minutes after the
# visit, the fee of their type, by a method that follows from the appointment's id. Each takes the next
# receipt number as appointments/services/payments.py does: the counter raised by one (the database refuses
# any other step), then the payment with that number, in one transaction.
TO_PAY_SQL = """
SELECT a.id, t.fee, LEAST(a."end" + interval '3 minutes', %(now)s)
FROM appointments_appointment a
JOIN appointments_appointmenttype t ON t.id = a.type_id
WHERE a.location_id = %(location)s AND a.status = 'completed' AND t.fee > 0
  AND a."end" >= %(since)s AND a."end" <= %(now)s
  AND NOT EXISTS (SELECT 1 FROM appointments_payment p WHERE p.appointment_id = a.id)
ORDER BY a."end", a.id
"""
NEXT_RECEIPT_SQL = (
    "UPDATE appointments_receiptcounter SET last_number = last_number + 1 WHERE id = 1 RETURNING last_number"
)
PAYMENT_SQL = """
INSERT INTO appointments_payment
    (appointment_id, kind, amount, method, reason, receipt_number, recorded_by_id, recorded_at)
VALUES (%s, 'payment', %s, %s, '', %s, %s, %s)
"""
PAYMENT_METHODS = ["debit", "credit_card", "debit", "direct_billing", "e_transfer", "cash"]


def add_payments(location, desk, now):
    """Payments for the main location's completed visits of the last fortnight that have none (about 70 a
    week whatever --size is: the main location's two physiotherapists); returns how many were added."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TO_PAY_SQL, {"location": location.pk, "since": now - timedelta(days=14), "now": now})
        visits = cursor.fetchall()
        for appointment_id, fee, paid_at in visits:
            cursor.execute(NEXT_RECEIPT_SQL)
            (number,) = cursor.fetchone()
            method = PAYMENT_METHODS[appointment_id % len(PAYMENT_METHODS)]
            cursor.execute(PAYMENT_SQL, [appointment_id, fee, method, number, desk.pk, paid_at])
    return len(visits)


def _online_bookings(demo, location):
    """Two bookings made on the public page, through its service, by two demo patients (so the desk's
    calendar shows them flagged Online): an initial assessment and a follow-up. No newcomer: a patient
    added here would shift the demo's deterministic patients when it grows (patients/demo.py). Once only."""
    from .services import online

    if Appointment.objects.filter(booked_online=True).exists():
        return
    kinds = [
        AppointmentType.objects.get(name="IMS initial assessment"),
        AppointmentType.objects.get(name="IMS follow-up"),
    ]
    known = Patient.objects.filter(archived_at__isnull=True).exclude(email="").order_by("id")[:2]
    booked = 0
    for kind, patient in zip(kinds, known, strict=False):
        typed = {
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "email": patient.email,
            "date_of_birth": patient.date_of_birth,
            "phone": patient.phone or "+16045550143",
        }
        for slot in online.free_times(location=location, type=kind, limit=3):
            try:
                outcome = online.book_online(
                    location=location,
                    type=kind,
                    therapist=slot.therapist,
                    start=slot.start,
                    client_address="127.0.0.1",
                    **typed,
                )
            except online.OnlineBookingRefused:
                continue
            if outcome.appointment is not None:
                booked += 1
                break
    demo.say(f"appointments: {booked} booked online")
