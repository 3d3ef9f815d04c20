"""scripts/together.py, through which `make run` starts the web server and the background worker: they
start together and stop together."""

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def together(*commands):
    argv = [sys.executable, str(ROOT / "scripts" / "together.py")]
    for command in commands:
        argv += ["--", *command]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


def test_when_one_command_ends_the_other_is_stopped_and_its_status_is_kept():
    started = time.monotonic()
    runner = together(SLEEPER, [sys.executable, "-c", "import sys; sys.exit(3)"])
    assert runner.wait(timeout=30) == 3
    assert time.monotonic() - started < 30  # the sleeper did not keep it alive


def test_a_signal_stops_both():
    marker = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: (print('stopped', flush=True), sys.exit(0)))\n"
        "print('up', flush=True)\n"
        "time.sleep(120)\n"
    )
    runner = together([sys.executable, "-c", marker], [sys.executable, "-c", marker])
    time.sleep(3)  # both up
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 0
    output = runner.stdout.read()
    assert (output.count("up"), output.count("stopped")) == (2, 2)


def test_with_no_command_it_says_how_to_use_it():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "together.py")], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "together.py -- CMD1" in done.stdout
