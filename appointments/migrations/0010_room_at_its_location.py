# An appointment's room is at the appointment's location (services.booking.check_room_at says so on every
# form). This trigger holds every other writer to it too: a direct create, bulk_create, raw SQL. It checks the
# rows written from now on; rows already there are left as they are.

from django.db import migrations

ROOM_AT_ITS_LOCATION = """
CREATE FUNCTION appointments_room_at_its_location() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM appointments_room r
        WHERE r.id = NEW.room_id AND r.location_id IS NOT DISTINCT FROM NEW.location_id
    ) THEN
        RAISE EXCEPTION 'Room % is not at location % (appointment %).', NEW.room_id, NEW.location_id, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'appointment_room_at_its_location';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER appointment_room_at_its_location
    BEFORE INSERT OR UPDATE OF room_id, location_id ON appointments_appointment
    FOR EACH ROW WHEN (NEW.room_id IS NOT NULL)
    EXECUTE FUNCTION appointments_room_at_its_location();
"""

DROP_ROOM_AT_ITS_LOCATION = """
DROP TRIGGER IF EXISTS appointment_room_at_its_location ON appointments_appointment;
DROP FUNCTION IF EXISTS appointments_room_at_its_location();
"""


class Migration(migrations.Migration):
    dependencies = [("appointments", "0009_waitlist_offer_once_per_freed_time")]

    operations = [migrations.RunSQL(ROOM_AT_ITS_LOCATION, DROP_ROOM_AT_ITS_LOCATION)]
