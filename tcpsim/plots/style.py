"""One style for every tcpsim picture.

* Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies).
  The first host of a trace is always blue, the second vermillion, in every picture.
* Sizes: figures are ``FIG_WIDTH`` inches wide at ``DPI`` dots per inch, which is what a
  JupyterLab notebook shows at 100 % zoom; fonts are sized for that.
* Nothing here touches ``matplotlib.pyplot`` or ``rcParams``: figures are
  ``matplotlib.figure.Figure`` objects, styled explicitly, so no global state is changed.
"""
from __future__ import annotations

from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#7F7F7F",
}
HOST_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"])
DROP_COLOUR = "#C00000"            # the ✗ of a dropped segment: plain red, always with a shape
RTX_COLOUR = OKABE_ITO["reddish_purple"]
SACK_COLOUR = OKABE_ITO["bluish_green"]
WINDOW_COLOUR = OKABE_ITO["orange"]
MUTED = "#9A9A9A"
LIGHT = "#E8E8E8"

FIG_WIDTH = 9.5     # inches
DPI = 100
FONT = {"title": 13, "label": 11, "text": 10, "small": 9, "tiny": 8}
FONT_FAMILY = "DejaVu Sans"
DROP_MARK = "\u2717"                # ✗
IGNORED_COLOUR = "#6A3D9A"         # an ignored segment's cross and reason: purple, with a shape
IGNORED_MARK = "\u2297"             # ⊗: arrived, and changed nothing

FLAG_NAMES = {"F": "FIN", "S": "SYN", "R": "RST", "P": "PSH", "A": "ACK", "U": "URG",
              "E": "ECE", "C": "CWR"}
# the order tcpdump/Wireshark readers expect in words: SYN before FIN, ACK last
_WORD_ORDER = "SRFPUECA"


def host_order(trace, hosts=None):
    """The two host names, first one first (the trace's ``hosts`` order)."""
    names = list(hosts) if hosts else list((trace.hosts or {}).keys())
    if not names:
        seen = []
        for row in trace.doc.get("segments", []):
            for h in (row["src"], row["dst"]):
                if h not in seen:
                    seen.append(h)
        names = seen
    return names[:2]


def host_colours(trace, hosts=None) -> dict:
    """{host: colour}: first host blue, second vermillion."""
    return {h: HOST_COLOURS[k % 2] for k, h in enumerate(host_order(trace, hosts))}


def flag_label(flags: str, style: str = "words") -> str:
    """A segment's flags for a label.

    ``"words"``: ``"SA"`` -> ``"SYN,ACK"``, ``"FPA"`` -> ``"FIN,PSH,ACK"``;
    ``"letters"``: tcpdump's ``[S.]`` style: ``"SA"`` -> ``"[S.]"``.
    """
    flags = flags or ""
    if style == "letters":
        return "[" + "".join(c for c in flags if c != "A") + ("." if "A" in flags else "") + "]"
    return ",".join(FLAG_NAMES[c] for c in _WORD_ORDER if c in flags) or "(none)"


class CourseFigure(Figure):
    """A Figure that shows itself in a notebook, with or without pyplot.

    A plain ``Figure`` made without pyplot has no picture in IPython unless an inline
    backend was set up (``%matplotlib inline``, or importing pyplot); then it shows as
    ``<Figure size 950x400 with 1 Axes>``. ``_repr_png_`` is IPython's hook for "show me as
    a PNG", so the pictures appear as the last expression of a cell, in JupyterLab, in
    nbconvert exports and on nbviewer alike.
    """

    def _repr_png_(self) -> bytes:
        import io
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=self.dpi)
        return buffer.getvalue()


def new_figure(height: float, width: float = FIG_WIDTH) -> Figure:
    """A pyplot-free Figure at the course's size, which a notebook shows as a picture."""
    return CourseFigure(figsize=(width, height), dpi=DPI, layout=None)


def text_kw(size="text", **kw):
    kw.setdefault("fontsize", FONT[size] if isinstance(size, str) else size)
    kw.setdefault("family", FONT_FAMILY)
    return kw
