"""Deterministic demo clinic data, grown by every app.

Each installed app may have a `demo.py` with `seed(demo)`; they run in INSTALLED_APPS order (the
order apps depend on each other), each adding its own rows. `--size` scales the patient count: the
default is a small clinic for `make run`; benchmarks ask for 100000 and more (bulk inserts or COPY).
"""

import random
import time
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

DEMO_SEED = 20261124


@dataclass
class Demo:
    size: int
    rng: random.Random
    stdout: object
    # What one app's seed leaves for the next (for example the staff it created), keyed by name.
    shared: dict = field(default_factory=dict)

    def say(self, message):
        self.stdout.write(message)


class Command(BaseCommand):
    help = "Load deterministic demo clinic data (staff for each role, then every app's demo rows)."

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=60, help="number of demo patients (default 60)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, size, quiet, **options):
        if size < 0:
            raise CommandError("--size cannot be negative.", returncode=2)
        demo = Demo(size=size, rng=random.Random(DEMO_SEED), stdout=self.stdout)
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if find_spec(module_name) is None:
                continue
            started = time.monotonic()
            import_module(module_name).seed(demo)
            if not quiet:
                self.stdout.write(f"seed_demo: {config.label} done in {time.monotonic() - started:.1f}s")
