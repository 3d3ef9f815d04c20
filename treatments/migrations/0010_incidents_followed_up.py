import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# Critical events followed up (issue 11, part 5; Physiotherapy Alberta: a critical event management plan).
#  - A significant or serious side effect opens an incident, by the database itself, whatever door
#    recorded it (the session screen, a bulk load, SQL): a statement trigger on side effects, on insert
#    and when an update raises the severity.
#  - Nothing about an incident is deleted. An incident takes two changes only, each once: its alert
#    being sent, and its closing (who, when, why), which needs a follow-up contact with the patient on
#    record. Its entries (actions taken, follow-up contacts, notes) are kept as written, and none is
#    added once it is closed.
INCIDENTS = """
CREATE FUNCTION treatments_open_incidents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO treatments_incident
        (side_effect_id, session_id, patient_id, clinician_id, severity, opened_at, status, closing_note)
    SELECT e.id, e.session_id, s.patient_id, s.clinician_id, e.severity, e.recorded_at, 'open', ''
    FROM new_effects e JOIN treatments_needlingsession s ON s.id = e.session_id
    WHERE e.severity IN ('significant', 'serious')
      AND NOT EXISTS (SELECT 1 FROM treatments_incident i WHERE i.side_effect_id = e.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER treatments_side_effect_opens_incident_on_insert AFTER INSERT ON treatments_sideeffect
    REFERENCING NEW TABLE AS new_effects FOR EACH STATEMENT EXECUTE FUNCTION treatments_open_incidents();
CREATE TRIGGER treatments_side_effect_opens_incident_on_update AFTER UPDATE ON treatments_sideeffect
    REFERENCING NEW TABLE AS new_effects FOR EACH STATEMENT EXECUTE FUNCTION treatments_open_incidents();

CREATE FUNCTION treatments_incident_only_alert_and_closing() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    probe treatments_incident;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on treatments_incident refused: incidents are never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    probe := NEW;
    IF OLD.alerted_at IS NULL THEN
        probe.alerted_at := NULL;
    END IF;
    IF OLD.status = 'open' AND NEW.status = 'closed' THEN
        IF NOT EXISTS (SELECT 1 FROM treatments_incidententry x
                       WHERE x.incident_id = OLD.id AND x.kind = 'follow_up') THEN
            RAISE EXCEPTION 'closing incident % refused: no follow-up contact with the patient is recorded', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        probe.status := OLD.status;
        probe.closed_at := OLD.closed_at;
        probe.closed_by_id := OLD.closed_by_id;
        probe.closing_note := OLD.closing_note;
    END IF;
    IF probe IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'UPDATE of incident % refused: only its alert and its closing are recorded, each once', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER treatments_incident_only_alert_and_closing
    BEFORE UPDATE OR DELETE ON treatments_incident
    FOR EACH ROW EXECUTE FUNCTION treatments_incident_only_alert_and_closing();

CREATE TRIGGER treatments_incident_entry_append_only
    BEFORE UPDATE OR DELETE ON treatments_incidententry
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_change();

CREATE FUNCTION treatments_incident_entry_while_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM treatments_incident i WHERE i.id = NEW.incident_id AND i.status = 'closed') THEN
        RAISE EXCEPTION 'entry refused: incident % is closed', NEW.incident_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatments_incident_entry_while_open
    BEFORE INSERT ON treatments_incidententry
    FOR EACH ROW EXECUTE FUNCTION treatments_incident_entry_while_open();
"""

DROP = """
DROP TRIGGER IF EXISTS treatments_incident_entry_while_open ON treatments_incidententry;
DROP FUNCTION IF EXISTS treatments_incident_entry_while_open();
DROP TRIGGER IF EXISTS treatments_incident_entry_append_only ON treatments_incidententry;
DROP TRIGGER IF EXISTS treatments_incident_only_alert_and_closing ON treatments_incident;
DROP FUNCTION IF EXISTS treatments_incident_only_alert_and_closing();
DROP TRIGGER IF EXISTS treatments_side_effect_opens_incident_on_update ON treatments_sideeffect;
DROP TRIGGER IF EXISTS treatments_side_effect_opens_incident_on_insert ON treatments_sideeffect;
DROP FUNCTION IF EXISTS treatments_open_incidents();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0004_screening_rules_and_sites"),
        ("treatments", "0009_points_removed_in_error"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Incident",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("mild", "Mild: short-lived, reversible, no inconvenience"),
                            (
                                "significant",
                                "Significant: needs medical attention or interferes with daily activities",
                            ),
                            ("serious", "Serious: hospital admission, persistent disability or death"),
                        ],
                        max_length=12,
                    ),
                ),
                ("opened_at", models.DateTimeField()),
                ("alerted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("closed", "Closed")], default="open", max_length=10
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("closing_note", models.TextField(blank=True)),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="incidents",
                        to="treatments.needlingsession",
                    ),
                ),
                (
                    "side_effect",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="incident",
                        to="treatments.sideeffect",
                    ),
                ),
            ],
            options={
                "ordering": ["-opened_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="IncidentEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("action", "Action taken"),
                            ("follow_up", "Follow-up contact with the patient"),
                            ("note", "Note"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "contact_method",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("phone", "Phone"),
                            ("in_person", "In person"),
                            ("email", "E-mail"),
                            ("other", "Other"),
                        ],
                        max_length=12,
                    ),
                ),
                ("text", models.TextField()),
                (
                    "happened_at",
                    models.DateTimeField(default=django.utils.timezone.now, help_text="When it was done."),
                ),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entries",
                        to="treatments.incident",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "incident entries",
                "ordering": ["incident", "happened_at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["status", "-opened_at"], name="incident_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "closed"])), name="incident_status"
            ),
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("closed_at__isnull", True),
                        ("closed_by__isnull", True),
                        ("closing_note", ""),
                        ("status", "open"),
                    ),
                    models.Q(
                        ("closed_at__isnull", False),
                        ("closed_by__isnull", False),
                        ("status", "closed"),
                        models.Q(("closing_note", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="incident_closed_completely",
                violation_error_message="A closed incident says who closed it, when and why.",
            ),
        ),
        migrations.AddConstraint(
            model_name="incidententry",
            constraint=models.CheckConstraint(
                condition=models.Q(("text", ""), _negated=True), name="incident_entry_not_empty"
            ),
        ),
        migrations.AddConstraint(
            model_name="incidententry",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["action", "follow_up", "note"])), name="incident_entry_kind"
            ),
        ),
        migrations.AddConstraint(
            model_name="incidententry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "follow_up"), _negated=True),
                    models.Q(("contact_method", ""), _negated=True),
                    _connector="OR",
                ),
                name="incident_follow_up_says_how",
                violation_error_message="Say how the patient was contacted.",
            ),
        ),
        migrations.RunSQL(INCIDENTS, DROP),
    ]
