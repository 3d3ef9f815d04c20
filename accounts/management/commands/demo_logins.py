from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from accounts.second_factor import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the demo logins, one per role (for `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url, **options):
        self.stdout.write("")
        self.stdout.write(f"IMS Clinic is starting at {url}")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, role, _registration in DEMO_STAFF:
            self.stdout.write(f"  {role.label:<16} {email:<32} {name}")
        self.stdout.write(
            "Second factor: the demo logins but the front desk share the authenticator secret\n"
            f"{DEMO_TOTP_SECRET};\n"
            "the code page shows the current code for demo accounts while DEBUG is on (make run),\n"
            "so no phone is needed."
        )
        self.stdout.write("")
