"""Run every benchmark under bench/ (or the ones named) against DATABASE_URL, one after another.

    make bench                                  all of them
    make bench BENCH_ARGS="patients_search"     only bench/patients_search.py

Each benchmark builds the data it needs in its own database on the same server, measures a baseline
in the same run, and prints the figures that docs/benchmarks.md records.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names):
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run.py" and not p.name.startswith("_"))
    if names:
        scripts = [p for p in scripts if p.stem in names]
        missing = set(names) - {p.stem for p in scripts}
        if missing:
            print(f"bench: no benchmark named {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
