"""manage.py export_fhir DIR: the clinic's whole record as FHIR Bulk Data (NDJSON per resource type and a
manifest) in DIR; --patient C000123 writes that patient's Bundle (PDFs inside) as DIR/<chart>.json.
Audited like the downloads. Runs in the foreground today; bulk.write_bulk_export() is the task a task
runner will run (issue 15)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.models import Action
from audit.services import record
from interop.bulk import RESOURCE_TYPES, write_bulk_export
from interop.services import patient_bundle
from patients.models import Patient


def default_base_url():
    hosts = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith((".", "*"))]
    return f"https://{hosts[0]}" if hosts else "http://localhost:8000"


class Command(BaseCommand):
    help = "Export the clinic's records as FHIR R4 Bulk Data NDJSON (or one patient's Bundle) into a folder."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--patient", help="A chart number: write that patient's Bundle only.")
        parser.add_argument("--base-url", default=None, help="The app's address, for the PDFs' URLs.")
        parser.add_argument("--embed-pdfs", action="store_true", help="Render every PDF inline (slow).")
        parser.add_argument(
            "--types", default=",".join(RESOURCE_TYPES), help="Resource types, comma-separated."
        )

    def handle(self, *args, directory, patient=None, base_url=None, embed_pdfs=False, types="", **options):
        folder = Path(directory)
        if patient:
            found = Patient.objects.filter(chart_number=patient).first()
            if found is None:
                raise CommandError(f"No patient has chart number {patient}.")
            folder.mkdir(parents=True, exist_ok=True)
            document = patient_bundle(found)
            (folder / f"{found.chart_number}.json").write_text(
                json.dumps(document, ensure_ascii=False, indent=1)
            )
            record(
                Action.EXPORT,
                obj=found,
                patient_id=found.pk,
                detail=f"FHIR R4 Bundle of the whole record ({len(document['entry'])} resources), "
                "by manage.py export_fhir",
            )
            self.stdout.write(
                f"Wrote {folder / (found.chart_number + '.json')}: {len(document['entry'])} resources."
            )
            return
        chosen = [t.strip() for t in types.split(",") if t.strip()]
        unknown = set(chosen) - set(RESOURCE_TYPES)
        if unknown:
            raise CommandError(f"Unknown resource types: {', '.join(sorted(unknown))}.")
        counts = write_bulk_export(
            folder, base_url=(base_url or default_base_url()).rstrip("/"), embed_pdfs=embed_pdfs, types=chosen
        )
        for kind, count in counts.items():
            self.stdout.write(f"{kind}.ndjson: {count}")
