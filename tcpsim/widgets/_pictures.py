"""Pictures for the widgets: PNG bytes from figures and pixel arrays, small text pictures,
and ``stack``, which glues several pictures into one Figure (the static fallback).

A picture is kept in two forms: PNG bytes (what an ``ipywidgets.Image`` shows) and a
pixel array (height x width x 4, RGBA, uint8), which is easy to crop and to glue.
"""
from __future__ import annotations

import gc
import io
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from ..gc_pause import garbage_collection_paused  # noqa: F401  (used by the widgets)
from ..plots.style import FONT, FONT_FAMILY, MUTED

DPI = 100
# zlib level 1: several times faster to write than the default, files a little larger
PNG_OPTIONS = {"compress_level": 1}


def freeze_long_lived_objects():
    """Move every object alive now out of the garbage collector's sight (``gc.freeze()``).

    A kernel that has imported pandas and matplotlib holds a few hundred thousand objects,
    and each full collection walks them all: 100 to 160 ms, which lands in the middle of a
    redraw now and then (benchmarks/bench_explorer.py measured it). Those objects live as long
    as the kernel anyway; frozen, full collections walk only what was made since. Called once
    a widget is built, when the imports and the first drawing are done."""
    gc.freeze()


def figure_png(fig) -> bytes:
    """The figure as PNG bytes, at the figure's own size (one pixel per dot)."""
    if isinstance(fig, StackedFigure):    # its glued pixels are the picture: no drawing
        return pixels_png(fig.pixels)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, pil_kwargs=PNG_OPTIONS)
    return buffer.getvalue()


# SVG with its text left as text: the browser draws the letters, which makes an SVG about
# three times faster to produce than a PNG (matplotlib 3.11 rasterizes text glyph by glyph).
# The font list after DejaVu Sans (matplotlib's font) has fonts of nearly the same widths.
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "tcpsim"}   # hashsalt: same picture, same bytes
SVG_FONT = b"font-family: 'DejaVu Sans'"
SVG_FONTS = b"font-family: 'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"


def figure_svg(fig) -> bytes:
    """The figure as SVG bytes (for an ``ipywidgets.Image`` with ``format="svg+xml"``)."""
    import matplotlib
    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue().replace(SVG_FONT, SVG_FONTS)


def figure_pixels(fig) -> np.ndarray:
    """The figure drawn with Agg, as an RGBA pixel array (a copy)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def pixels_png(pixels) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", **PNG_OPTIONS)
    return buffer.getvalue()


def png_pixels(png: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGBA"))


def message_png(text, width_px, height_px) -> bytes:
    """A blank picture of the given size with a message in the middle (e.g. "no TCB")."""
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=FONT["label"],
             family=FONT_FAMILY, color="#444444", wrap=True,
             bbox=dict(boxstyle="round,pad=0.6", fc="#F4F4F4", ec=MUTED))
    return figure_png(fig)


def table_pixels(title, header, rows, width_px) -> np.ndarray:
    """A small table (lists of strings) drawn as a picture ``width_px`` wide."""
    row_px = 22
    height_px = row_px * (len(rows) + 1) + 36
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    fig.text(0.01, 1 - 6 / height_px, title, ha="left", va="top", fontsize=FONT["text"],
             family=FONT_FAMILY, fontweight="bold")
    ax = fig.add_axes((0.01, 0.02, 0.98, 1 - 32 / height_px))
    ax.set_axis_off()
    table = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="left",
                     bbox=(0, 0, 1, 1))
    table.auto_set_font_size(False)
    table.set_fontsize(FONT["small"])
    for (row, _), cell in table.get_celld().items():
        cell.set_edgecolor("#CCCCCC")
        if row == 0:
            cell.set_facecolor("#EEEEEE")
    return figure_pixels(fig)


def text_pixels(lines, width_px, size="text") -> np.ndarray:
    """Lines of text drawn as a picture ``width_px`` wide (for the fallback pictures);
    long lines are wrapped."""
    chars_per_line = int(width_px / (0.6 * FONT[size] * DPI / 72))
    lines = [part for line in lines for part in textwrap.wrap(line, chars_per_line) or [""]]
    line_px = 1.5 * FONT[size] * DPI / 72
    height_px = int(line_px * len(lines) + 12)
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    for k, line in enumerate(lines):
        fig.text(8 / width_px, 1 - (6 + k * line_px) / height_px, line, ha="left", va="top",
                 fontsize=FONT[size], family=FONT_FAMILY)
    return figure_pixels(fig)


class StackedFigure(Figure):
    """What ``stack`` returns: a Figure showing one image, the pictures glued together, and
    keeping that pixel array (``pixels``), which ``figure_png`` encodes as it is. Drawing
    the figure gives the same pixels, but Agg makes float copies of the image on the way:
    about 30 MiB more at a kernel's peak for the player's fallback (measured with
    benchmarks/bench_notebooks.py)."""

    pixels = None


def stack_pixels(rows) -> np.ndarray:
    """Pictures (pixel arrays) at their own size in one opaque pixel array on white: ``rows``
    is a list of rows, each a list of pictures placed side by side (tops aligned), rows one
    under the other."""
    rows = [[p for p in row if p is not None] for row in rows]
    rows = [row for row in rows if row]
    widths = [sum(p.shape[1] for p in row) for row in rows]
    heights = [max(p.shape[0] for p in row) for row in rows]
    glued = np.full((sum(heights), max(widths), 4), 255, dtype=np.uint8)
    y = 0                             # each row's first pixel line, from the top
    for row, row_height in zip(rows, heights):
        x = 0
        for picture in row:
            h, w = picture.shape[:2]
            glued[y:y + h, x:x + w] = over_white(picture)
            x += w
        y += row_height
    return glued


def over_white(picture) -> np.ndarray:
    """An RGBA picture composited over white (opaque), as figimage shows it on the
    figure's white background."""
    if picture.shape[2] == 3:
        return np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    alpha = picture[..., 3:4].astype(np.uint16)
    rgb = (picture[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255
    return np.dstack([rgb.astype(np.uint8), np.full(picture.shape[:2], 255, np.uint8)])


def stack(rows) -> Figure:
    """One Figure showing pictures (pixel arrays) at their own size (see ``stack_pixels``).

    The Figure is sized so that ``figure_png`` gives back exactly these pixels.
    """
    glued = stack_pixels(rows)
    height, width = glued.shape[:2]
    fig = StackedFigure(figsize=(width / DPI, height / DPI), dpi=DPI)
    fig.figimage(glued, origin="upper")   # one image (figimage keeps a copy of each)
    fig.pixels = glued
    return fig


def stack_png(rows) -> bytes:
    """``stack(rows)`` as PNG bytes, encoded directly (no Matplotlib figure)."""
    return pixels_png(stack_pixels(rows))
