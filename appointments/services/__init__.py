"""The appointments app's writes, by operation: booking.py (book, reschedule, the checks before both),
status_changes.py (check-in to completion, cancellations), imports.py (many at once, from other
systems), working_time.py (a physiotherapist's hours, breaks and time off), online.py (the public page's
bookings, and the desk's verify or merge of the records they make). Reads are in
appointments/selectors.py."""
