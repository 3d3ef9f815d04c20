"""What every test of the FHIR export asks of what it exported: each resource parses as its FHIR R4
(4.0.1) model (fhir.resources 6.5, whose models are R4), and every reference finds its resource."""

import base64
import io

from fhir.resources import construct_fhir_element
from pypdf import PdfReader


def validate(resource):
    """The resource parsed by fhir.resources' R4 model of its type (raises on any element R4 does not allow,
    any missing required element, any wrong value type)."""
    return construct_fhir_element(resource["resourceType"], resource)


def references(value):
    """Every Reference.reference string anywhere inside a resource."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def resources_of(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def extension(resource, url):
    return next(e for e in resource.get("extension", []) if e["url"] == url)


def pdf_text(attachment):
    """The text of an attachment's PDF, read back from its base64 data."""
    data = base64.b64decode(attachment["data"])
    assert data.startswith(b"%PDF")
    assert len(data) == attachment["size"]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
