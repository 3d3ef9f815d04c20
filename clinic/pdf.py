"""PDFs from Django templates under templates/pdf/, through WeasyPrint.

Every PDF in the product goes through render_pdf, so fonts, base URL and the print stylesheet are set
in one place. Callers audit the print themselves (audit.services.record(Action.PRINT, ...)).
"""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string


def render_pdf(template_name, context, request=None):
    from weasyprint import HTML  # imported late: loading Pango is slow and only PDFs need it

    html = render_to_string(template_name, {"clinic_name": settings.CLINIC_NAME, **context}, request=request)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def pdf_response(pdf_bytes, filename, inline=False):
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
