"""The clinic app holds no Django model. Its one table, `clinic_time_zone`, is plain SQL (migration 0001)
read by the database's own functions; this module exists so that Django sends the app its post_migrate
signal, after which the table is kept equal to CLINIC_TIME_ZONE (clinic/time_zone.py)."""
