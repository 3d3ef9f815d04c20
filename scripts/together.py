"""Run several commands as one: `python scripts/together.py -- CMD1 ARGS -- CMD2 ARGS ...`.

`make run` starts the web server and the background worker (manage.py run_worker) through it, so that
they start and stop together: Ctrl-C (or SIGTERM, SIGHUP) reaches both, and when either one exits the
other is stopped too, rather than left behind holding the port or the queue. The exit status is that of
the command that ended first (0 when a signal stopped them and each stopped cleanly)."""

import signal
import subprocess
import sys
import time


def split(argv):
    commands, current = [], []
    for word in argv:
        if word == "--":
            if current:
                commands.append(current)
            current = []
        else:
            current.append(word)
    if current:
        commands.append(current)
    return commands


def stop(children, signum=signal.SIGTERM, grace=10):
    for child in children:
        if child.poll() is None:
            child.send_signal(signum)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(max(0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv):
    commands = split(argv)
    if not commands:
        print(__doc__)
        return 2
    children = [subprocess.Popen(command) for command in commands]

    def forward(signum, _frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    first = None
    try:
        while first is None:
            first = next((child for child in children if child.poll() is not None), None)
            time.sleep(0.2)
    finally:
        stop(children)
    return first.returncode if first.returncode >= 0 else 128 - first.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
