"""What WeasyPrint may load while printing (clinic.pdf.ALLOWED_PROTOCOLS): data: URLs only. A consent's
signature is an SVG the signer's browser sent; an SVG can point at file:// or http:// resources, which a
print must not read from this server's disk or its network. consent.services.signatures.clean_signature
refuses such a drawing when a consent is obtained; this is the second layer, for a row that reached the
database another way, so the tests set the drawing on the record directly."""

import base64
import http.server
import io
import threading

import pytest
from PIL import Image
from pypdf import PdfReader

from consent.models import Region
from consent.printing import consent_pdf
from tests.factories import PhysioFactory, give_consent

pytestmark = pytest.mark.django_db


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def svg_signature(href):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'viewBox="0 0 300 100" width="300" height="100">'
        f'<image x="0" y="0" width="300" height="100" href="{href}" xlink:href="{href}"/>'
        '<path d="M10 80 C 40 10, 65 10, 95 60" fill="none" stroke="black" stroke-width="2"/></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def images_in(pdf):
    return [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


@pytest.fixture
def consent_signed_with(consent_form, patient):
    def make(signature):
        consent = give_consent(patient, declined=(Region.MID_BACK,), by=PhysioFactory())
        consent.signature = signature  # the printed copy is what is tested, not how it was stored
        return consent

    return make


def test_an_image_inlined_as_data_is_printed(consent_signed_with):
    """The control: the same signature with its image inlined prints the image, so the tests below
    would see a fetched one."""
    inline = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    assert len(images_in(consent_pdf(consent_signed_with(svg_signature(inline))))) == 1


def test_a_signature_pointing_at_a_file_on_the_server_does_not_print_it(consent_signed_with, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes())
    pdf = consent_pdf(consent_signed_with(svg_signature(secret.as_uri())))
    assert images_in(pdf) == []
    assert "Signature" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_signature_pointing_at_the_network_makes_no_request(consent_signed_with):
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png_bytes())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/inside.png"
        pdf = consent_pdf(consent_signed_with(svg_signature(url)))
    finally:
        server.shutdown()
        server.server_close()
    assert asked == [] and images_in(pdf) == []
