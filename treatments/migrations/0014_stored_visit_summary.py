import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

# A stored visit summary is what was printed for a signed record (issue 17): rule 5 and BC records law
# (16 years) keep it, and nobody rewrites it, whoever writes (ORM, admin, raw SQL). An addendum stores a
# new one beside it. On the way in, the database checks what the row claims: its session is signed, its
# SHA-256 is the hash of its bytes, and it shows the session's addenda as they are now (so a summary
# rendered before an addendum cannot be stored as if it showed it). TRUNCATE stays with the table owner.
READ_ONLY = """
CREATE FUNCTION treatments_refuse_visit_summary_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: a stored visit summary is never changed or deleted; an addendum stores a new one',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER treatments_visit_summary_read_only
    BEFORE UPDATE OR DELETE ON treatments_visitsummary
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_visit_summary_change();

CREATE FUNCTION treatments_check_visit_summary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM treatments_needlingsession WHERE id = NEW.session_id AND signed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'INSERT on % refused: needling session % is not signed; only a signed session''s summary is stored',
            TG_TABLE_NAME, NEW.session_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.sha256 IS DISTINCT FROM encode(sha256(NEW.pdf), 'hex') THEN
        RAISE EXCEPTION 'INSERT on % refused: sha256 is not the hash of the stored PDF', TG_TABLE_NAME
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.addenda IS DISTINCT FROM (SELECT count(*) FROM treatments_addendum WHERE session_id = NEW.session_id) THEN
        RAISE EXCEPTION 'INSERT on % refused: the summary shows % addenda; session % has another number now',
            TG_TABLE_NAME, NEW.addenda, NEW.session_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatments_visit_summary_checked
    BEFORE INSERT ON treatments_visitsummary
    FOR EACH ROW EXECUTE FUNCTION treatments_check_visit_summary();
"""
DROP = """
DROP TRIGGER IF EXISTS treatments_visit_summary_checked ON treatments_visitsummary;
DROP FUNCTION IF EXISTS treatments_check_visit_summary();
DROP TRIGGER IF EXISTS treatments_visit_summary_read_only ON treatments_visitsummary;
DROP FUNCTION IF EXISTS treatments_refuse_visit_summary_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0013_follow_up_after_needling"),
    ]

    operations = [
        migrations.CreateModel(
            name="VisitSummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("addenda", models.PositiveIntegerField(editable=False, verbose_name="addenda shown")),
                ("pdf", models.BinaryField()),
                ("sha256", models.CharField(editable=False, max_length=64, verbose_name="content SHA-256")),
                ("rendered_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visit_summaries",
                        to="treatments.needlingsession",
                    ),
                ),
            ],
            options={
                "verbose_name": "stored visit summary",
                "ordering": ["session", "addenda"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("session", "addenda"), name="visit_summary_once_per_addenda"
                    )
                ],
            },
        ),
        migrations.RunSQL(READ_ONLY, DROP),
    ]
