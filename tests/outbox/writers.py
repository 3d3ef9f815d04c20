"""Export functions the background-export tests hand to the task runner by dotted path (the worker processes
import them like any app's)."""

import time


def numbered_lines(count):
    return b"".join(f"line {n:06d}\n".encode() for n in range(count))


def write_lines(out, *, by, count, pause=0):
    """`count` numbered lines, written a line at a time (so in many chunks when CHUNK_SIZE is small)."""
    for n in range(count):
        out.write(f"line {n:06d}\n".encode())
        if pause and n == 0:
            time.sleep(pause)
    return f"{count} lines for {by.full_name}"


def write_then_fail(out, *, by):
    out.write(b"x" * 100)
    raise RuntimeError("the disk of the database is full")
