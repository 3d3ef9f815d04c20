"""PDFs from Django templates under templates/pdf/, through WeasyPrint.

Every PDF in the product goes through render_pdf, so fonts, base URL, the print stylesheet and what
WeasyPrint may fetch are set in one place. Callers audit the print themselves
(audit.services.record(Action.PRINT, ...)).
"""

import re
import threading
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

# A template's <style> elements. Our own templates write them; user text is escaped, so "<style>" cannot
# come from a patient's or a clinician's words.
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_fonts = threading.local()
# What a PDF may load: data: URLs only. Our templates inline everything they draw (the body chart, the
# signature) as data: URLs; a signature is an SVG the signer's browser sent, and an SVG may point at
# file:// or http:// resources, which WeasyPrint would otherwise read from this server's disk or its
# network while printing. Anything else is refused (WeasyPrint logs it and leaves the image out).
ALLOWED_PROTOCOLS = ("data",)


def render_pdf(template_name, context, request=None):
    from weasyprint import HTML  # imported late: loading Pango is slow and only PDFs need it

    html = render_to_string(template_name, {"clinic_name": settings.CLINIC_NAME, **context}, request=request)
    # Each <style> is parsed once per process and handed to WeasyPrint ready (parsing and checking a print
    # stylesheet took about a tenth of a visit summary's render), in the document's order, so the cascade
    # is the same; the font configuration (fontconfig's view of the installed fonts) is built once per
    # thread instead of once per PDF (docs/architecture.md, "Visit summary PDF").
    stylesheets = [_stylesheet(text) for text in STYLE.findall(html)]
    return HTML(
        string=STYLE.sub("", html), base_url=str(settings.BASE_DIR), url_fetcher=_fetcher()
    ).write_pdf(stylesheets=stylesheets, font_config=_font_config())


@lru_cache(maxsize=64)
def _stylesheet(text):
    from weasyprint import CSS

    return CSS(string=text, base_url=str(settings.BASE_DIR))


def _fetcher():
    if not hasattr(_fonts, "fetcher"):
        from weasyprint.urls import URLFetcher

        _fonts.fetcher = URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS, allow_redirects=False)
    return _fonts.fetcher


def _font_config():
    if not hasattr(_fonts, "config"):
        from weasyprint.text.fonts import FontConfiguration

        _fonts.config = FontConfiguration()
    return _fonts.config


def pdf_response(pdf_bytes, filename, inline=False):
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
