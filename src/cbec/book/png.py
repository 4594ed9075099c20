"""Figures stored as 256-colour palette PNGs: the book's figures are flat colours and anti-aliased edges, so a
palette holds them in a third of the bytes. Used where a figure is made (the chapters' kernels, see
:func:`cbec.book.kernels.warm`) and, for any figure that arrives otherwise, by the book build
(:func:`cbec.book.sphinx_html.palette_png`)."""

from __future__ import annotations

import io

__all__ = ["palette"]


def palette(png: bytes) -> bytes:
    """The PNG ``png`` stored as a 256-colour palette when that is smaller, else ``png`` itself.

    No pixel moves by more than 16 of 255 and white stays white (measured on the book's 23 figures with Pillow's
    max-coverage quantiser; the octree one turned the white background grey). A figure with transparency, or one
    stored as a palette already, is returned as it is.
    """
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        if im.mode == "P":
            return png
        lowest_alpha = im.getchannel("A").getextrema()[0] if im.mode in ("RGBA", "LA") else 255
        if isinstance(lowest_alpha, (int, float)) and lowest_alpha < 255:
            return png
        quantised = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    quantised.save(buf, "PNG", optimize=True)
    return buf.getvalue() if buf.tell() < len(png) else png
