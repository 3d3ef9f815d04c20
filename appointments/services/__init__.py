"""The appointments app's writes, by operation: booking.py (book, reschedule, the checks before both),
status_changes.py (check-in to completion, cancellations), imports.py (many at once, from other
systems), working_time.py (a physiotherapist's hours, breaks and time off). Reads are in
appointments/selectors.py."""
