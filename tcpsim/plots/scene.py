"""A picture as plain geometry, drawn by two renderers that share it: Matplotlib and SVG.

A ``Scene`` is what a picture *is*: its size, one Axes (position and limits), and a list of
items (``Text`` with an optional ``Frame``, ``Lines``, ``Arrow``, ``Curve``, ``Rect``) with
their coordinates, colours and sizes. Nothing
in it knows how it will be drawn. Two renderers read the same scene:

* ``draw(scene, ax)`` makes the Matplotlib artists (the static pictures: ``plots.ladder``,
  PNG and SVG export, the widgets' offline fallback);
* ``to_svg(scene)`` writes an SVG document directly, in a millisecond or two (the widgets'
  interactive pictures): no Matplotlib figure, no text rasterised glyph by glyph.

Used by ``ladder.py`` (``ladder_scene``), ``states.py`` (``state_graph_scene``) and
``buffers.py`` (``buffers_scenes``).

Because both read one scene, the interactive picture and the static one cannot drift apart:
a position, a label or a colour is decided once (``tests/test_scene.py`` checks that every
item lands on the same pixel in both, and ``tests/test_browser.py`` compares the two as the
browser shows them).

Text sizes, the one thing a scene cannot know without a font, come from Matplotlib's own text
layout (``text_layout``, cached): the SVG boxes around labels are the boxes Matplotlib draws,
and every SVG text is given the width Matplotlib measured (``textLength``), so a browser
without DejaVu Sans still puts each word where the static picture has it.

Coordinates: ``coords`` says what x and y of an item are: ``"data"`` (the Axes' limits),
``"axes"`` (0..1 across the Axes), ``"yaxis"`` (x in 0..1 across the Axes, y in data) or
``"xaxis"`` (x in data, y in 0..1) or ``"figure"`` (0..1 across the whole picture);
``offset_pt`` moves an item by points (y up). A picture of several Axes is several scenes
of the same size (``to_svg`` takes a list).
Sizes and line widths are in points, as in Matplotlib.
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass, field

from .style import DPI, FONT_FAMILY

# the fonts an SVG asks for: Matplotlib's own first, then ones of nearly the same widths
SVG_FONTS = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"
NBSP = "\u00a0"      # browsers fold two spaces into one, whatever xml:space says


# ------------------------------------------------------------------------------ items
@dataclass(frozen=True)
class Frame:
    """The box around a text (Matplotlib's ``bbox=dict(boxstyle="round,pad=…")``)."""
    face: str = "white"
    edge: str | None = None         # None: no edge
    width_pt: float = 0.8
    pad: float = 0.2                # in font sizes (Matplotlib's ``pad``)
    alpha: float = 1.0
    round: bool = True


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float                     # points
    colour: str = "#000000"
    ha: str = "center"              # left, center, right
    va: str = "center"              # top, center, bottom, baseline
    weight: str = "normal"
    style: str = "normal"           # normal, italic
    coords: str = "data"
    offset_pt: tuple = (0.0, 0.0)
    rotation: float = 0.0           # degrees, counter-clockwise, about the anchor
    linespacing: float | None = None
    frame: Frame | None = None
    zorder: float = 3.0
    gid: str | None = None
    title: bool = False             # the Axes' title (Matplotlib: ``ax.set_title``; then
    #                                 coords "axes", at x 0, 0.5 or 1 by ``ha``, y 1, offset y = pad)
    tooltip: str | None = None      # SVG only: a <title> the browser shows on hover

    def __post_init__(self):
        if type(self.text) is not str:   # e.g. a state as a str Enum: its value, the RFC name
            object.__setattr__(self, "text", str(getattr(self.text, "value", self.text)))


@dataclass(frozen=True)
class Lines:
    """Several polylines of one style (a Matplotlib ``LineCollection``)."""
    paths: tuple                    # ((x, y), ...) per polyline
    colour: str
    width_pt: float
    dash_pt: tuple | None = None    # (on, off) in points
    cap: str = "projecting"         # butt, round, projecting
    join: str = "round"
    coords: str = "data"
    zorder: float = 2.0
    gid: str | None = None
    clip: bool = True               # cut at the Axes' edges (Matplotlib's clip_on)
    alpha: float = 1.0


@dataclass(frozen=True)
class Arrow:
    """A straight arrow (a Matplotlib ``FancyArrowPatch``, style ``-|>`` or ``-``)."""
    start: tuple
    end: tuple
    colour: str
    width_pt: float = 1.5
    dash_pt: tuple | None = None
    head: bool = True
    head_scale: float = 13.0        # Matplotlib's mutation_scale: head 0.4 x 0.2 of it
    zorder: float = 3.0
    gid: str | None = None


@dataclass(frozen=True)
class Curve:
    """An arrow along a quadratic (3 points) or cubic (4 points) Bezier curve (a Matplotlib
    ``FancyArrowPatch`` given a path); the head points along the curve's end."""
    points: tuple
    colour: str
    width_pt: float = 1.5
    dash_pt: tuple | None = None
    head: bool = True
    head_scale: float = 13.0
    zorder: float = 3.0
    gid: str | None = None


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    face: str
    zorder: float = 0.0
    gid: str | None = None
    edge: str | None = None         # None: no edge
    edge_width_pt: float = 0.8
    hatch: str | None = None        # Matplotlib's "//" or "xx", drawn in the edge colour
    rounding: float = 0.0           # radius of round corners, in data units


@dataclass
class Scene:
    width_in: float
    height_in: float
    axes: tuple                     # (left, bottom, width, height), fractions of the figure
    xlim: tuple
    ylim: tuple                     # (bottom, top) as Matplotlib's set_ylim: may be inverted
    items: list = field(default_factory=list)
    dpi: float = DPI

    def add(self, item):
        self.items.append(item)
        return item

    @property
    def width_px(self) -> int:
        return int(self.width_in * self.dpi + 1e-6)   # as Matplotlib's Agg canvas: cut, not rounded

    @property
    def height_px(self) -> int:
        return int(self.height_in * self.dpi + 1e-6)

    def to_pixels(self, x, y, coords="data", offset_pt=(0.0, 0.0)):
        """(column, row) in pixels from the top left corner, as Matplotlib's Agg draws it."""
        left, bottom, width, height = self.axes
        ax_x0, ax_w = left * self.width_in * self.dpi, width * self.width_in * self.dpi
        ax_y0, ax_h = bottom * self.height_in * self.dpi, height * self.height_in * self.dpi
        if coords == "figure":
            ax_x0, ax_w = 0.0, self.width_in * self.dpi
            ax_y0, ax_h = 0.0, self.height_in * self.dpi
        if coords in ("data", "xaxis"):
            fx = (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0])
        else:
            fx = x
        if coords in ("data", "yaxis"):
            fy = (y - self.ylim[0]) / (self.ylim[1] - self.ylim[0])
        else:
            fy = y
        px = ax_x0 + fx * ax_w + offset_pt[0] * self.dpi / 72
        py_up = ax_y0 + fy * ax_h + offset_pt[1] * self.dpi / 72
        return px, self.height_px - py_up           # Agg's rows count from the canvas' top

    def axes_pixels(self):
        """(x0, y0, x1, y1) of the Axes in pixels from the top left."""
        x0, y0 = self.to_pixels(0, 1, "axes")
        x1, y1 = self.to_pixels(1, 0, "axes")
        return x0, y0, x1, y1


# ------------------------------------------------------------------ text measurement
@functools.lru_cache(maxsize=4)
def _measuring_text(dpi):
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    fig = Figure(dpi=dpi)
    return fig.text(0, 0, ""), RendererAgg(10, 10, dpi)


@functools.lru_cache(maxsize=1)
def artist_default_spacing():
    from matplotlib.text import Text as MplText
    return MplText()._linespacing


@functools.lru_cache(maxsize=20000)
def text_layout(text, size, weight="normal", style="normal", linespacing=None, ha="center",
                va="center", dpi=DPI):
    """How Matplotlib lays out ``text`` (unrotated, at ``dpi``), in pixels, y up, relative
    to the anchor point: ((x0, y0, width, height) of the text's box, [(line, x, y of its
    baseline start, width)])."""
    artist, renderer = _measuring_text(dpi)
    artist.set_text(text)
    artist.set_fontsize(size)
    artist.set_fontfamily(FONT_FAMILY)
    artist.set_fontweight(weight)
    artist.set_fontstyle(style)
    # Matplotlib's default: "normal" since 3.11, 1.2 before
    artist._linespacing = linespacing if linespacing is not None else artist_default_spacing()
    artist.set_horizontalalignment(ha)
    artist.set_verticalalignment(va)
    artist.set_rotation(0)
    bbox, lines, _ = artist._get_layout(renderer)
    out = []
    for entry in lines:
        line, metrics = entry[0], entry[1]
        x, y = entry[2] if len(entry) == 3 else (entry[2], entry[3])   # Matplotlib 3.11 / 3.10
        out.append((line, x, y, metrics[0]))
    return (bbox.x0, bbox.y0, bbox.width, bbox.height), tuple(out)


# ------------------------------------------------------------------- Matplotlib renderer
def _transform(ax, coords, offset_pt=(0.0, 0.0)):
    from matplotlib.transforms import offset_copy
    base = {"data": ax.transData, "axes": ax.transAxes, "yaxis": ax.get_yaxis_transform(),
            "xaxis": ax.get_xaxis_transform(), "figure": ax.figure.transFigure}[coords]
    if offset_pt != (0.0, 0.0) and offset_pt != (0, 0):
        return offset_copy(base, fig=ax.figure, x=offset_pt[0], y=offset_pt[1], units="points")
    return base


def draw(scene, ax) -> list:
    """Draw the scene's items on a Matplotlib Axes (limits set, no ticks, no spines).
    Returns the artists, one per item, in the scene's order."""
    ax.set_xlim(*scene.xlim)
    ax.set_ylim(*scene.ylim)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return draw_items(scene.items, ax)


def draw_items(items, ax) -> list:
    """Matplotlib artists for scene items, on ``ax`` (whose limits are the scene's)."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
    from matplotlib.path import Path

    artists = []
    for item in items:
        if isinstance(item, Text):
            kw = {}
            if item.frame is not None:
                f = item.frame
                kw["bbox"] = dict(boxstyle=f"{'round' if f.round else 'square'},pad={f.pad}",
                                  fc=f.face, ec=f.edge or "none", lw=f.width_pt, alpha=f.alpha)
            if item.linespacing is not None:
                kw["linespacing"] = item.linespacing
            if item.rotation:
                kw.update(rotation=item.rotation, rotation_mode="anchor")
            if item.title:
                artist = ax.set_title(item.text, loc=item.ha, pad=item.offset_pt[1],
                                      fontsize=item.size, family=FONT_FAMILY, color=item.colour,
                                      fontweight=item.weight, style=item.style, **kw)
                artists.append(artist)
                continue
            artist = ax.text(item.x, item.y, item.text,
                             transform=_transform(ax, item.coords, item.offset_pt),
                             ha=item.ha, va=item.va, fontsize=item.size, family=FONT_FAMILY,
                             color=item.colour, fontweight=item.weight, style=item.style,
                             zorder=item.zorder, gid=item.gid, **kw)
        elif isinstance(item, Lines):
            dash = [(0, item.dash_pt)] if item.dash_pt else "solid"
            artist = LineCollection([list(p) for p in item.paths], colors=item.colour,
                                    linewidths=item.width_pt, linestyles=dash, snap=True,
                                    capstyle=item.cap, joinstyle=item.join,
                                    zorder=item.zorder, gid=item.gid, alpha=item.alpha,
                                    transform=_transform(ax, item.coords))
            if item.dash_pt:                       # dashes given in points, not line widths
                artist.set_linestyle([(0, tuple(d / item.width_pt for d in item.dash_pt))])
            ax.add_collection(artist, autolim=False)
            artist.set_clip_on(item.clip)
        elif isinstance(item, Arrow):
            style = (0, tuple(d / item.width_pt for d in item.dash_pt)) if item.dash_pt else "-"
            artist = FancyArrowPatch(item.start, item.end, arrowstyle="-|>" if item.head else "-",
                                     mutation_scale=item.head_scale, lw=item.width_pt,
                                     color=item.colour, linestyle=style, shrinkA=0, shrinkB=0,
                                     zorder=item.zorder, gid=item.gid)
            ax.add_artist(artist)    # add_artist: the limits are the scene's, no autoscale
        elif isinstance(item, Curve):
            codes = [Path.MOVETO] + [Path.CURVE3 if len(item.points) == 3 else Path.CURVE4] * (
                len(item.points) - 1)
            style = (0, tuple(d / item.width_pt for d in item.dash_pt)) if item.dash_pt else "-"
            artist = FancyArrowPatch(path=Path(item.points, codes),
                                     arrowstyle="-|>" if item.head else "-",
                                     mutation_scale=item.head_scale, lw=item.width_pt,
                                     color=item.colour, linestyle=style, zorder=item.zorder,
                                     gid=item.gid)
            ax.add_artist(artist)
        elif isinstance(item, Rect) and item.rounding:
            artist = FancyBboxPatch((item.x, item.y), item.width, item.height,
                                    boxstyle=f"round,pad=0,rounding_size={item.rounding}",
                                    fc=item.face, ec=item.edge or "none", lw=item.edge_width_pt,
                                    zorder=item.zorder, gid=item.gid)
            ax.add_artist(artist)
        elif isinstance(item, Rect):
            artist = Rectangle((item.x, item.y), item.width, item.height, facecolor=item.face,
                               edgecolor=item.edge or "none", lw=item.edge_width_pt,
                               hatch=item.hatch, zorder=item.zorder, gid=item.gid)
            ax.add_artist(artist)
        else:
            raise TypeError(f"not a scene item: {item!r}")
        artists.append(artist)
    return artists


# --------------------------------------------------------------------------- SVG renderer
def _n(v) -> str:
    return "%.1f" % v          # a tenth of a pixel


def _pt(scene, v) -> float:
    return v * scene.dpi / 72


def _attr_id(gid) -> str:
    return f' id="{html.escape(gid, quote=True)}"' if gid else ""


def _svg_text(scene, item) -> list:
    (bx, by, bw, bh), lines = text_layout(item.text, item.size, item.weight, item.style,
                                          item.linespacing, item.ha, item.va, scene.dpi)
    ax_, ay_ = scene.to_pixels(item.x, item.y, item.coords, item.offset_pt)
    out = []
    rotate = f' transform="rotate({_n(-item.rotation)} {_n(ax_)} {_n(ay_)})"' if item.rotation else ""
    out.append(f'<g{_attr_id(item.gid)}{rotate}>')
    if item.tooltip:
        out.append(f"<title>{html.escape(item.tooltip, quote=False)}</title>")
    if item.frame is not None:
        f = item.frame
        pad = item.frame.pad * _pt(scene, item.size)
        stroke = (f' stroke="{f.edge}" stroke-width="{_n(_pt(scene, f.width_pt))}"'
                  if f.edge else "")
        opacity = f' opacity="{_n(f.alpha)}"' if f.alpha < 1 else ""
        rx = f' rx="{_n(pad)}"' if f.round else ""
        out.append(f'<rect x="{_n(ax_ + bx - pad)}" y="{_n(ay_ - by - bh - pad)}" '
                   f'width="{_n(bw + 2 * pad)}" height="{_n(bh + 2 * pad)}"{rx} '
                   f'fill="{f.face}"{stroke}{opacity}/>')
    font = f'font-size="{_n(_pt(scene, item.size))}"'
    if item.weight != "normal":
        font += f' font-weight="{item.weight}"'
    if item.style != "normal":
        font += f' font-style="{item.style}"'
    for line, lx, ly, width in lines:
        if not line:
            continue
        out.append(f'<text x="{_n(ax_ + lx)}" y="{_n(ay_ - ly)}" {font} fill="{item.colour}" '
                   f'textLength="{_n(width)}" lengthAdjust="spacingAndGlyphs">'
                   f'{html.escape(line, quote=False).replace("  ", " " + NBSP)}</text>')
    out.append("</g>")
    return out


def _svg_path(points) -> str:
    return "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in points)


SVG_CAPS = {"projecting": "square", "butt": "butt", "round": "round"}


def _svg_lines(scene, item) -> list:
    d = " ".join(_svg_path([scene.to_pixels(x, y, item.coords) for x, y in path])
                 for path in item.paths)
    dash = (f' stroke-dasharray="{" ".join(_n(_pt(scene, v)) for v in item.dash_pt)}"'
            if item.dash_pt else "")
    opacity = f' stroke-opacity="{item.alpha}"' if item.alpha < 1 else ""
    return [(f'<path{_attr_id(item.gid)} d="{d}" fill="none" stroke="{item.colour}" '
            f'stroke-width="{_n(_pt(scene, item.width_pt))}"{opacity} '
            f'stroke-linecap="{SVG_CAPS[item.cap]}" stroke-linejoin="{item.join}"{dash}/>')]


def _head(scene, item, before, end):
    """The arrow head ("-|>", Matplotlib's head 0.4 x 0.2 of the mutation scale) pointing
    from ``before`` to ``end`` (pixels): (its three points, its base). The outline's mitre
    reaches past the tip: the head is moved back so that it ends at ``end``."""
    (x0, y0), (x1, y1) = before, end
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    head_len = _pt(scene, 0.4 * item.head_scale)
    head_half = _pt(scene, 0.2 * item.head_scale)
    back = 0.5 * _pt(scene, item.width_pt) * ((head_len ** 2 + head_half ** 2) ** 0.5) / head_half
    tx, ty = x1 - ux * back, y1 - uy * back
    bx, by = tx - ux * head_len, ty - uy * head_len
    return [(tx, ty), (bx - uy * head_half, by + ux * head_half),
            (bx + uy * head_half, by - ux * head_half)], (bx, by), (tx, ty)


def _svg_arrow(scene, item) -> list:
    (x0, y0), (x1, y1) = (scene.to_pixels(*item.start), scene.to_pixels(*item.end))
    width = _pt(scene, item.width_pt)
    dash = (f' stroke-dasharray="{" ".join(_n(_pt(scene, v)) for v in item.dash_pt)}"'
            if item.dash_pt else "")
    stroke = f'stroke="{item.colour}" stroke-width="{_n(width)}"'
    if not item.head:
        return [(f'<path{_attr_id(item.gid)} d="{_svg_path([(x0, y0), (x1, y1)])}" '
                f'fill="none" {stroke}{dash}/>')]
    head, (bx, by), _ = _head(scene, item, (x0, y0), (x1, y1))
    return [f'<g{_attr_id(item.gid)}>',
            f'<path d="{_svg_path([(x0, y0), (bx, by)])}" fill="none" {stroke}{dash}/>',
            (f'<path d="{_svg_path(head)} Z" fill="{item.colour}" {stroke} '
            f'stroke-linejoin="miter"/>'), "</g>"]


def _svg_curve(scene, item) -> list:
    points = [scene.to_pixels(x, y) for x, y in item.points]
    width = _pt(scene, item.width_pt)
    dash = (f' stroke-dasharray="{" ".join(_n(_pt(scene, v)) for v in item.dash_pt)}"'
            if item.dash_pt else "")
    stroke = f'stroke="{item.colour}" stroke-width="{_n(width)}"'
    out = [f'<g{_attr_id(item.gid)}>']
    if item.head:    # Matplotlib: the curve ends at the head's tip, moved back by the mitre
        head, _, points[-1] = _head(scene, item, points[-2], points[-1])
    letter = "Q" if len(points) == 3 else "C"
    d = (f"M{_n(points[0][0])} {_n(points[0][1])} {letter}"
         + " ".join(f"{_n(x)} {_n(y)}" for x, y in points[1:]))
    out.append(f'<path d="{d}" fill="none" {stroke}{dash}/>')
    if item.head:
        out.append(f'<path d="{_svg_path(head)} Z" fill="{item.colour}" {stroke} '
                   f'stroke-linejoin="miter"/>')
    out.append("</g>")
    return out


# Matplotlib's hatches (matplotlib/hatch.py): 6 lines per "/" (or "x") across a cell one
# inch wide, in the edge colour, 1 point wide (rcParams["hatch.linewidth"])
HATCH_DENSITY = 6


def _hatch_pattern(scene, hatch, colour) -> tuple:
    """(pattern id, <pattern> element) for a hatch of "/" and "x" characters."""
    lines = hatch.count("/") + hatch.count("x") + hatch.count("X")
    step = 2 * scene.dpi / (lines * HATCH_DENSITY)    # hatch.py: lines x - y = 2s, s every 1/n
    paths = []
    if any(c in "/xX" for c in hatch):               # north-east lines
        paths.append(f"M0 {_n(step)} L{_n(step)} 0 M{_n(-step / 2)} {_n(step / 2)} "
                     f"L{_n(step / 2)} {_n(-step / 2)} M{_n(step / 2)} {_n(step * 1.5)} "
                     f"L{_n(step * 1.5)} {_n(step / 2)}")
    if any(c in "xX\\" for c in hatch):            # north-west lines
        paths.append(f"M0 0 L{_n(step)} {_n(step)} M{_n(-step / 2)} {_n(step / 2)} "
                     f"L{_n(step / 2)} {_n(step * 1.5)} M{_n(step / 2)} {_n(-step / 2)} "
                     f"L{_n(step * 1.5)} {_n(step / 2)}")
    pid = f"hatch-{hatch.replace('/', 'f').replace(chr(92), 'b')}-{colour.lstrip('#')}"
    return pid, (f'<pattern id="{pid}" width="{_n(step)}" height="{_n(step)}" '
                 f'patternUnits="userSpaceOnUse"><path d="{" ".join(paths)}" stroke="{colour}" '
                 f'stroke-width="{_n(_pt(scene, 1.0))}"/></pattern>')


def _svg_rect(scene, item) -> list:
    xa, ya = scene.to_pixels(item.x, item.y)
    xb, yb = scene.to_pixels(item.x + item.width, item.y + item.height)
    box = (f'x="{_n(min(xa, xb))}" y="{_n(min(ya, yb))}" width="{_n(abs(xb - xa))}" '
           f'height="{_n(abs(yb - ya))}"')
    if item.rounding:
        px_x = abs(xb - xa) / item.width if item.width else 0.0
        px_y = abs(yb - ya) / item.height if item.height else 0.0
        stroke = (f' stroke="{item.edge}" stroke-width="{_n(_pt(scene, item.edge_width_pt))}"'
                  if item.edge else "")
        return [(f'<rect{_attr_id(item.gid)} {box} rx="{_n(item.rounding * px_x)}" '
                f'ry="{_n(item.rounding * px_y)}" fill="{item.face}"{stroke}/>')]
    out = [f'<rect{_attr_id(item.gid)} {box} fill="{item.face}"/>']
    if item.hatch:
        pid, pattern = _hatch_pattern(scene, item.hatch, item.edge or "#000000")
        out += [pattern, f'<rect {box} fill="url(#{pid})"/>']
    if item.edge:
        out.append(f'<rect {box} fill="none" stroke="{item.edge}" '
                   f'stroke-width="{_n(_pt(scene, item.edge_width_pt))}"/>')
    return out


def svg_open(width_px, height_px) -> str:
    """The opening tag of a tcpsim SVG document (fonts, whitespace kept as in Matplotlib)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
            f'viewBox="0 0 {width_px} {height_px}" font-family="{SVG_FONTS}" '
            f'xml:space="preserve">')


def to_svg(scene) -> str:
    """The scene (or a list of scenes of one size: a picture of several Axes) as an SVG
    document (text as text), sized as the Matplotlib picture."""
    scenes = scene if isinstance(scene, (list, tuple)) else [scene]
    w, h = scenes[0].width_px, scenes[0].height_px
    bodies = [svg_body(one, one.items, f"axes{k}" if k else "axes")
              for k, one in enumerate(scenes)]
    return "\n".join([svg_open(w, h), f'<rect width="{w}" height="{h}" fill="white"/>',
                      *bodies, "</svg>"])


def svg_body(scene, items, clip_id="axes") -> str:
    """SVG elements for ``items`` placed as in ``scene`` (its Axes clip lines and shapes;
    ``clip_id`` names that clip path, unique in one document)."""
    x0, y0, x1, y1 = scene.axes_pixels()
    out = [(f'<clipPath id="{clip_id}"><rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" '
           f'height="{_n(y1 - y0)}"/></clipPath>')]
    # Matplotlib draws the Axes' children by zorder, in the order they were added
    for item in sorted(items, key=lambda it: it.zorder):
        if isinstance(item, Text):
            out += _svg_text(scene, item)
            continue
        if isinstance(item, Lines):
            parts = _svg_lines(scene, item)
            if not item.clip:
                out += parts
                continue
        elif isinstance(item, Arrow):
            parts = _svg_arrow(scene, item)
        elif isinstance(item, Curve):
            parts = _svg_curve(scene, item)
        else:
            parts = _svg_rect(scene, item)
        out.append(f'<g clip-path="url(#{clip_id})">')   # as Matplotlib clips them to the Axes
        out += parts
        out.append("</g>")
    return "\n".join(out)
