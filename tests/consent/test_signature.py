"""The drawn signature: SVG or PNG from signature_pad; empty drawings, other formats and SVG carrying
anything but strokes are refused with a message."""

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.errors import ConsentRefused
from consent.services.signatures import clean_signature
from tests.factories import SIGNATURE, SIGNATURE_SVG


def svg_url(svg):
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def test_a_drawn_svg_is_kept():
    assert clean_signature(SIGNATURE) == SIGNATURE


def test_what_signature_pad_writes_with_namespaces_is_kept():
    svg = SIGNATURE_SVG.replace("<svg ", '<svg xmlns:xlink="http://www.w3.org/1999/xlink" ')
    svg = svg.replace("</svg>", '<circle r="1.5" cx="20" cy="20" fill="black"></circle></svg>')
    assert clean_signature(svg_url(svg)).startswith("data:image/svg+xml;base64,")


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10"></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="white"/></svg>',
    ],
)
def test_an_empty_drawing_is_refused(svg):
    with pytest.raises(ConsentRefused, match="has not signed"):
        clean_signature(svg_url(svg))


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><path d="M0 0L5 5"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L5 5" onload="alert(1)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://x.test/a.png"/><path d="M0 0"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0" fill="url(http://example.com/#a)"/></svg>',
        '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"><path d="&a;"/></svg>',
        "<svg",
    ],
)
def test_svg_with_anything_but_strokes_is_refused(svg):
    with pytest.raises(ConsentRefused):
        clean_signature(svg_url(svg))


def test_a_transparent_png_is_refused_as_empty():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (50, 20), (0, 0, 0, 0)).save(buffer, "PNG")
    with pytest.raises(ConsentRefused, match="has not signed"):
        clean_signature("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())


def test_an_oversized_signature_is_refused():
    path = '<path d="M0 0L5 5"/>' * 40000
    with pytest.raises(ConsentRefused, match="too large"):
        clean_signature(svg_url(f'<svg xmlns="http://www.w3.org/2000/svg">{path}</svg>'))


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=300)
    | st.binary(max_size=300).map(lambda raw: "data:image/png;base64," + base64.b64encode(raw).decode())
)
def test_garbage_is_refused_with_a_message_never_an_exception(value):
    try:
        clean_signature(value)
    except ConsentRefused as refused:
        assert refused.messages[0]
    else:
        pytest.fail(f"accepted {value!r}")


@pytest.mark.parametrize(
    "svg",
    [
        # CSS that escapes a filter looking for "url(": the style attribute is refused whatever it holds.
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L5 5" style="fill: \\75 rl(http://x.test/a)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L5 5" style="stroke: black"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" style="@import \'http://x.test/a.css\'">'
        '<path d="M0 0"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(http://x.test/a.css);</style>'
        '<path d="M0 0"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L5 5" fill="\\75 rl(#a)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L5 5" stroke="red;background:url(x)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="javascript:alert(1)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0" width="expression(alert(1))"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0">text that is not a stroke</path></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/>@import url(x)</svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        '<path d="M0 0" x:href="http://x.test/"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>hi</p></foreignObject>'
        '<path d="M0 0"/></svg>',
        '<svg><path d="M0 0L5 5"/></svg>',
    ],
)
def test_style_and_any_attribute_value_out_of_its_shape_are_refused(svg):
    with pytest.raises(ConsentRefused, match="only contain pen strokes|could not be read"):
        clean_signature(svg_url(svg))


def test_what_signature_pad_writes_for_dots_and_strokes_is_kept():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 180" width="600" height="180">'
        '<path d="M 120.500,80.250 C 130.1,85.2 140.3e0,90 150,95.5" stroke-width="2.31" stroke="#000" '
        'fill="none" stroke-linecap="round"></path>'
        '<circle r="1.5" cx="20" cy="20" fill="rgb(0, 0, 0)"></circle></svg>'
    )
    assert clean_signature(svg_url(svg)).startswith("data:image/svg+xml;base64,")
