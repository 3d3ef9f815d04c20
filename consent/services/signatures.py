"""The signer's drawing, checked before a consent is saved: an SVG of pen strokes or a PNG, nothing else."""

import base64
import binascii
import io
import re
from xml.etree import ElementTree

from ..errors import ConsentRefused

MAX_SIGNATURE_BYTES = 512 * 1024
SVG_NS = "{http://www.w3.org/2000/svg}"
# What signature_pad's toSVG() writes, and nothing else: the signature is drawn by WeasyPrint into the PDF
# and shown in pages, so it must not run a script, fetch anything, or carry CSS (a style attribute can
# hide url() or @import behind escapes such as `\75 rl(`, so style is refused whatever it holds).
# Each attribute's value must also match its own shape: numbers where numbers go, path data, colours.
SVG_ELEMENTS = {"svg", "path", "circle", "rect", "g", "line", "polyline"}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_LENGTH = re.compile(rf"^\s*{_NUMBER}(?:px|%)?\s*$")
_NUMBERS = re.compile(rf"^\s*(?:{_NUMBER}[\s,]*)*$")
_PATH_DATA = re.compile(r"^[MmLlHhVvCcSsQqTtAaZz0-9eE.,+\-\s]*$")
_COLOUR = re.compile(r"^\s*(?:none|[a-zA-Z]{1,20}|#[0-9a-fA-F]{3,8}|rgba?\(\s*[0-9.,%\s]{1,40}\))\s*$")
_WORD = re.compile(r"^\s*[a-z]{1,12}\s*$")
SVG_ATTRIBUTES = {
    "viewBox": _NUMBERS, "width": _LENGTH, "height": _LENGTH, "d": _PATH_DATA, "fill": _COLOUR,
    "stroke": _COLOUR, "stroke-width": _LENGTH, "stroke-linecap": _WORD, "stroke-linejoin": _WORD,
    "cx": _LENGTH, "cy": _LENGTH, "r": _LENGTH, "x": _LENGTH, "y": _LENGTH, "x1": _LENGTH, "y1": _LENGTH,
    "x2": _LENGTH, "y2": _LENGTH, "points": _NUMBERS, "version": _LENGTH, "opacity": _LENGTH,
}  # fmt: skip
MARK_ELEMENTS = {"path", "circle", "line", "polyline"}
DATA_URL = re.compile(r"^data:image/(svg\+xml|png);base64,([A-Za-z0-9+/=\s]+)$")


def clean_signature(value):
    """The signature as a canonical data: URL (SVG or PNG). Refuses an empty drawing, another format,
    an oversized image and SVG carrying anything but strokes."""
    empty = ConsentRefused("The signer has not signed: draw the signature in the box.", code="signature")
    match = DATA_URL.match((value or "").strip())
    if not match:
        raise (
            empty
            if not (value or "").strip()
            else ConsentRefused("The signature must be an SVG or PNG drawing.")
        )
    kind, encoded = match.groups()
    try:
        raw = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConsentRefused("The signature could not be read; please sign again.") from error
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ConsentRefused("The signature image is too large; please sign again.")
    if kind == "png":
        _check_png(raw, empty)
    else:
        _check_svg(raw, empty)
    return f"data:image/{kind};base64,{base64.b64encode(raw).decode('ascii')}"


def _check_png(raw, empty):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(raw))
        if image.format != "PNG" or image.width * image.height > 4000 * 2000:
            raise ConsentRefused("The signature must be a PNG drawing of reasonable size.")
        image = image.convert("RGBA")
    except (UnidentifiedImageError, OSError) as error:
        raise ConsentRefused("The signature could not be read; please sign again.") from error
    if image.getchannel("A").getbbox() is None:
        raise empty


def _check_svg(raw, empty):
    text = raw.decode("utf-8", errors="replace")
    if "<!" in text or "<?xml-stylesheet" in text:  # no DOCTYPE or entities: nothing to expand or fetch
        raise ConsentRefused("The signature could not be read; please sign again.")
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 (no DOCTYPE, so no entities: checked above)
    except ElementTree.ParseError as error:
        raise ConsentRefused("The signature could not be read; please sign again.") from error
    marks = 0
    for element in root.iter():
        name = element.tag.removeprefix(SVG_NS)
        # Elements of another namespace (or none) and text inside elements (CSS, scripts) are refused.
        if not isinstance(element.tag, str) or not element.tag.startswith(SVG_NS) or name not in SVG_ELEMENTS:
            raise ConsentRefused("The signature may only contain pen strokes.")
        if (element.text or "").strip() or (element.tail or "").strip():
            raise ConsentRefused("The signature may only contain pen strokes.")
        for attribute, attribute_value in element.attrib.items():
            shape = SVG_ATTRIBUTES.get(attribute)
            if shape is None or len(attribute_value) > 100_000 or not shape.match(attribute_value):
                raise ConsentRefused("The signature may only contain pen strokes.")
        marks += name in MARK_ELEMENTS
    if root.tag.removeprefix(SVG_NS) != "svg" or marks == 0:
        raise empty
