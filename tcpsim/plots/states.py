"""The RFC 9293 state machine, drawn from ``tcpsim.endpoint.TRANSITIONS``.

``state_machine_graph()`` turns the table into a networkx DiGraph (one edge per
(state, next state) pair; its ``event``/``rfc`` attributes name every table entry that makes
that move). ``state_graph()`` draws it with a fixed, hand-placed layout that reads like
RFC 9293 Figure 5: CLOSED on top, the opening states, ESTABLISHED in the middle, the active
close on the left, the passive close on the right, and a second CLOSED box at the bottom for
the ends of connections (the same node of the graph, drawn twice as the RFC does).

Arcs that textbook figures leave out are drawn too (FIN-WAIT-1 -> TIME-WAIT on FIN+ACK,
SYN-RECEIVED -> LISTEN on RST, the TIME-WAIT restart loop). The "abort" arcs every
synchronized state has to CLOSED (RST received, abort(), retransmission timeout, close()
with unread data) are drawn thin and grey, explained in one note, unless a trace takes one.
Arcs that RFC 9293 draws but no run of this simulator can take (every one of their table
rows is in ``endpoint.UNREACHABLE``: FIN-WAIT-1 -> TIME-WAIT on FIN+ACK, SYN-RECEIVED ->
CLOSE-WAIT on FIN) are drawn dotted and grey, their labels grey, with a legend line
"dotted grey arcs: cannot happen here: see docs/simulator.md". They are kept rather than
left out: a student comparing with the RFC's figure finds the arc, and learns why no trace
takes it (the ACK is processed before the FIN), instead of wondering where it went.

Labels sit beside their arcs (``ROUTES``: which side, where along the arc), aligned to grow
away from them, so that they stay clear of the boxes at any size. ``compact=True`` (automatic
on Axes under 7.5 in wide, e.g. the player's two graphs side by side) labels only the arcs a
trace took, on one line, in smaller fonts.

Speed: the drawing is the same for every trace except colours and labels, so everything
geometric (each arc's curve, cut where it leaves and enters the boxes, and each label's
place) is worked out once per process (``_arcs``). The arcs are ``FancyArrowPatch`` objects
given their path, which skips Matplotlib's slow clipping of arrows to patches (most of the
200 ms a drawing took before).
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

import networkx as nx
import numpy as np
from matplotlib.path import Path

from ._common import as_trace, get_ax
from .scene import Curve, Frame, Rect, Scene, Text, draw, text_layout, to_svg
from .style import DPI, FIG_WIDTH, FONT, host_colours, host_order

STATES = ("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
          "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT")

# Hand-placed, as RFC 9293 Figure 5 (x right, y up).
LAYOUT = {
    "CLOSED": (0.0, 9.0),
    "LISTEN": (0.0, 7.2),
    "SYN-RECEIVED": (-3.3, 5.4),
    "SYN-SENT": (3.3, 5.4),
    "ESTABLISHED": (0.0, 3.6),
    "FIN-WAIT-1": (-4.1, 1.8),
    "CLOSING": (-0.3, 1.8),
    "CLOSE-WAIT": (3.9, 1.8),
    "FIN-WAIT-2": (-4.1, 0.0),
    "TIME-WAIT": (-0.3, 0.0),
    "LAST-ACK": (3.9, 0.0),
}
CLOSED_BOTTOM = (3.9, -1.8)      # where connections end (drawn copy of CLOSED), as in the RFC
BOX_W, BOX_H = 2.15, 0.62
XLIM, YLIM = (-5.8, 5.6), (-2.95, 9.8)
OPENING = frozenset(("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED"))

# Short edge labels (the table's event names are sentences), by event or (state, event).
# The first line is the label of compact drawings.
SHORT = {
    "connect()": "connect()\nsnd SYN",
    "listen()": "listen()",
    "close()": "close()",
    ("SYN-RECEIVED", "close()"): "close()\nsnd FIN",
    ("ESTABLISHED", "close()"): "close()\nsnd FIN",
    ("CLOSE-WAIT", "close()"): "close()\nsnd FIN",
    "rcv SYN": "rcv SYN\nsnd SYN,ACK",
    "rcv SYN (two-way handshake)": "rcv SYN (2-way variant)",
    "rcv SYN+ACK": "rcv SYN,ACK\nsnd ACK",
    "rcv RST": "rcv RST",
    "SYN timeout": "SYN timeout",
    "rcv ACK of SYN": "rcv ACK of SYN",
    "rcv RST (passive open)": "rcv RST",
    "SYN-ACK timeout": "SYN,ACK timeout",
    "rcv FIN": "rcv FIN\nsnd ACK",
    "rcv ACK of FIN": "rcv ACK of FIN",
    "rcv FIN+ACK of FIN": "rcv FIN,ACK\nsnd ACK",
    "FIN-WAIT-2 timeout": "fin_timeout",
    "TIME-WAIT timeout": "2MSL timeout",
    ("TIME-WAIT", "rcv FIN"): "rcv FIN again\nsnd ACK, restart 2MSL",
    "rcv SYN (new incarnation)": "rcv SYN (new conn.)",
    "connect() reuses the port": "connect() (reuse)",
    "abort()": "abort()\nsnd RST",
    "retransmission timeout": "rtx timeout",
    "close() with unread data": "close(), data unread\nsnd RST",
    "close() with SO_LINGER 0": "close(), SO_LINGER 0\nsnd RST",
    "data after close()": "rcv data after close()\nsnd RST",
    "rcv ACK of SYN cookie": "rcv ACK (SYN cookie)",
    "rcv SYN with Fast Open cookie": "rcv SYN\nsnd SYN,ACK",    # same arc, same label
    "keepalive timeout": "keepalive timeout\nsnd RST",
    "accept queue full": "accept queue full\nsnd RST",
    "host crash": "host crash",
}
_ABORTS = {"abort()", "retransmission timeout", "close() with unread data",
           "close() with SO_LINGER 0", "data after close()", "keepalive timeout",
           "accept queue full", "host crash"}
SYNCHRONIZED = {"ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",
                "LAST-ACK", "TIME-WAIT"}

NOTE = ("grey dashed arcs: rcv RST, abort(), retransmission timeout, close() with unread data "
        "\u2192 CLOSED (RFC 9293 \u00a73.10.5, \u00a73.10.7.4, RFC 1122 \u00a74.2.2.13)")
NOTE_COMPACT = "grey dashes: RST, abort(), timeouts \u2192 CLOSED"
UNREACHABLE_NOTE = "dotted grey arcs: cannot happen here: see docs/simulator.md"
UNREACHABLE_NOTE_COMPACT = "grey dots: cannot happen here"
UNREACHABLE_COLOUR = "#8C8C8C"
READING = ("active open \u2192 right, passive open \u2192 left\n"
           "active close \u2193 left, passive close \u2193 right")


class Route(NamedTuple):
    """How one arc is drawn, and where its label goes.

    start, end: offsets from the two states' centres where the curve would begin and end
    (it is cut where it leaves and enters the boxes); bend: the curvature, as Matplotlib's
    ``arc3`` ``rad`` (the control point is ``bend`` x the chord's length off the chord's
    middle, to the right of the direction of travel when positive). The label sits beside
    the curve at ``at`` (0: start, 1: end), on its right (``side`` = 1, looking along the
    arc) or its left (-1), a few points away, aligned so that it grows away from the curve;
    ``side`` = 0 puts it on the curve (its white background hides the line under it).
    ``compact``: (side, at) for compact drawings, when they differ.
    """
    start: tuple = (0.0, 0.0)
    end: tuple = (0.0, 0.0)
    bend: float = 0.0
    side: int = 1
    at: float = 0.5
    compact: tuple | None = None


# One route per (state, next state). "CLOSED" as a target is the top box from the opening
# states and the bottom box from the others.
ROUTES = {
    # --- opening
    ("CLOSED", "LISTEN"): Route((-0.45, 0), (-0.45, 0)),
    ("LISTEN", "CLOSED"): Route((0.45, 0), (0.45, 0)),
    ("CLOSED", "SYN-SENT"): Route((1.0, 0.1), (0.3, 0), -0.3, side=-1, at=0.35),
    ("SYN-SENT", "CLOSED"): Route((-0.5, 0), (1.0, -0.15), -0.1, side=1, at=0.3,
                                  compact=(-1, 0.3)),
    ("LISTEN", "SYN-RECEIVED"): Route((-1.0, -0.1), (0.4, 0), -0.2, side=-1),
    ("SYN-RECEIVED", "LISTEN"): Route((-0.2, 0), (-1.0, 0.15), -0.25, side=-1),
    ("SYN-RECEIVED", "CLOSED"): Route((-0.7, 0), (-1.0, 0), -0.3, side=-1),
    ("LISTEN", "ESTABLISHED"): Route(side=-1, at=0.25),
    ("SYN-SENT", "SYN-RECEIVED"): Route(side=-1, at=0.25),
    ("SYN-SENT", "ESTABLISHED"): Route((0, -0.1), (0.9, 0), -0.25, side=-1),
    ("SYN-RECEIVED", "ESTABLISHED"): Route((0.3, 0), (-0.9, 0), 0.25, side=1,
                                           compact=(-1, 0.35)),
    # --- closing
    ("SYN-RECEIVED", "FIN-WAIT-1"): Route((-0.6, 0), (0.1, 0)),
    ("SYN-RECEIVED", "CLOSE-WAIT"): Route((0.75, 0), (-0.9, 0.1), 0.3, side=1, at=0.85),
    ("ESTABLISHED", "FIN-WAIT-1"): Route((-0.6, 0), (0.6, 0), 0.15, side=1),
    ("ESTABLISHED", "CLOSE-WAIT"): Route((0.6, 0), (-0.3, 0), -0.15, side=-1),
    ("FIN-WAIT-1", "CLOSING"): Route(side=-1),
    ("FIN-WAIT-1", "FIN-WAIT-2"): Route((0.2, 0), (0.2, 0), compact=(-1, 0.5)),
    ("FIN-WAIT-1", "TIME-WAIT"): Route((0.8, 0), (-0.8, 0), side=-1),
    ("FIN-WAIT-2", "TIME-WAIT"): Route(side=1),
    ("CLOSING", "TIME-WAIT"): Route(side=1, at=0.65),
    ("CLOSE-WAIT", "LAST-ACK"): Route(side=-1),
    ("LAST-ACK", "CLOSED"): Route(side=1, compact=(1, 0.25)),
    ("TIME-WAIT", "CLOSED"): Route((0.6, 0), (-0.8, 0), -0.2, side=1),
    ("FIN-WAIT-2", "CLOSED"): Route((0, 0), (0, -0.1), 0.25, side=1, at=0.68),
    ("TIME-WAIT", "TIME-WAIT"): Route((0.75, 0), side=-1),
    # --- the abort arcs (synchronized state -> the bottom CLOSED)
    ("ESTABLISHED", "CLOSED"): Route((0.3, 0), (-0.3, 0), -0.1, side=0, at=0.5),
    ("FIN-WAIT-1", "CLOSED"): Route((0.7, 0), (-0.8, -0.1), 0.3, side=0, at=0.45),
    ("CLOSE-WAIT", "CLOSED"): Route((0.8, 0), (0.8, 0), -0.25, side=1, at=0.25),
    ("CLOSING", "CLOSED"): Route((0.6, 0), (-0.6, 0), -0.15, side=0, at=0.3),
}


def _is_abort(state, event):
    return event in _ABORTS or (event == "rcv RST" and state in SYNCHRONIZED | {"SYN-RECEIVED"})


def state_machine_graph(transitions=None) -> nx.DiGraph:
    """The state machine as a DiGraph built from ``TRANSITIONS``.

    Nodes: the 11 RFC 9293 states (attribute ``pos``: the drawing layout). Edges: one per
    (state, next state) pair with ``event`` (the table's event names joined by " / "),
    ``events`` and ``rfcs`` (lists, in table order), ``rfc`` (the first rule), ``abort``
    (True when every event is an abort-type event drawn thin) and ``unreachable`` (True
    when every event is in ``endpoint.UNREACHABLE``: an RFC arc no run can take).
    """
    from ..endpoint import UNREACHABLE
    if transitions is None:
        from .. import simulator  # noqa: F401  (adds its own entries to the table)
        from ..endpoint import TRANSITIONS as transitions
    g = nx.DiGraph()
    for s in STATES:
        g.add_node(s, pos=LAYOUT[s])
    for (state, event), (nxt, rule) in transitions.items():
        if g.has_edge(state, nxt):
            d = g.edges[state, nxt]
            d["events"].append(event)
            d["rfcs"].append(rule)
            d["event"] = " / ".join(d["events"])
            d["abort"] = d["abort"] and _is_abort(state, event)
            d["unreachable"] = d["unreachable"] and (state, event) in UNREACHABLE
        else:
            g.add_edge(state, nxt, event=event, events=[event], rfc=rule, rfcs=[rule],
                       abort=_is_abort(state, event), unreachable=(state, event) in UNREACHABLE)
    return g


# ------------------------------------------------------------------ trace -> transitions
def _host_states(trace, host, t=None):
    """The host's state-change rows up to ``t`` (all if None)."""
    return [r for r in trace.doc.get("states", [])
            if r.get("host") == host and (t is None or r["t"] <= t)]


def highlighted_edges(trace, host, t=None):
    """The (from, to) transitions ``host``'s sockets made up to time ``t`` (all if None),
    in trace order: exactly what ``state_graph`` lights up."""
    trace = as_trace(trace)
    return [(r["from"], r["to"]) for r in _host_states(trace, host, t)]


def current_states(trace, host, t=None):
    """{socket: state} of ``host``'s sockets at time ``t`` (at the end if None)."""
    trace = as_trace(trace)
    out = {}
    for r in trace.doc.get("states", []):
        if r.get("host") != host:
            continue
        sock = r.get("socket") or host
        if t is None or r["t"] <= t:
            out[sock] = r["to"]
        else:
            out.setdefault(sock, r["from"])
    return out


_SYNONYMS = {"received": "rcv", "recv": "rcv", "expired": "timeout", "exhausted": "timeout",
             "timer": "timeout", "retries": "timeout"}


def _words(text):
    words = re.findall(r"[a-z0-9()-]+", text.lower().replace("+", " "))
    return {_SYNONYMS.get(w, w) for w in words}


def _taken_event(events, cause):
    """Which of an arc's table events a trace row's ``cause`` names (the one sharing the
    most words with it; None when none does)."""
    if not cause:
        return None
    if cause in events:
        return cause
    said = _words(cause)
    best = max(events, key=lambda e: len(_words(e) & said))
    return best if _words(best) & said else None


# ------------------------------------------------------------------------------ geometry
def _short(state, event):
    return SHORT.get((state, event), SHORT.get(event, event))


def _edge_text(u, v, data):
    """The label of an arc: the short names of its events, abort-type ones left out."""
    events = [e for e in data["events"] if not _is_abort(u, e)] or data["events"]
    return "\n".join(dict.fromkeys(_short(u, e) for e in events))


def _box_centre(state, key):
    return CLOSED_BOTTOM if key == "bottom" else LAYOUT[state]


def _target_key(u, v):
    """The box an arc u -> v ends in: CLOSED is the top box from the opening states."""
    if v != "CLOSED":
        return v
    return "top" if u in OPENING else "bottom"


def _inside(points, centre, margin):
    return ((np.abs(points[:, 0] - centre[0]) <= BOX_W / 2 + margin)
            & (np.abs(points[:, 1] - centre[1]) <= BOX_H / 2 + margin))


def _quadratic(p0, c, p2, ts):
    ts = ts[:, None]
    return (1 - ts) ** 2 * p0 + 2 * (1 - ts) * ts * c + ts ** 2 * p2


def _arc_path(u, v, route, gap=0.05):
    """The arc's curve in data coordinates, from where it leaves u's box to ``gap`` before
    v's box (the arrow's tip)."""
    a_centre, b_centre = LAYOUT[u], _box_centre(v, _target_key(u, v))
    a, b = np.add(a_centre, route.start), np.add(b_centre, route.end)
    chord = b - a
    c = (a + b) / 2 + route.bend * np.array([chord[1], -chord[0]])
    ts = np.linspace(0.0, 1.0, 801)
    points = _quadratic(a, c, b, ts)
    out_of_a = ~_inside(points, a_centre, 0.0)
    out_of_b = ~_inside(points, b_centre, gap)
    t0 = ts[np.argmax(out_of_a)]
    t1 = ts[len(ts) - 1 - np.argmax(out_of_b[::-1])]
    # the piece [t0, t1] of the quadratic Bezier is a quadratic Bezier (blossoming)
    p0, p2 = _quadratic(a, c, b, np.array([t0, t1]))
    mid = (1 - t0) * (1 - t1) * a + ((1 - t0) * t1 + t0 * (1 - t1)) * c + t0 * t1 * b
    return Path([p0, mid, p2], [Path.MOVETO, Path.CURVE3, Path.CURVE3])


def _loop_path(state, route):
    """A self-loop: out of the box's top at ``route.start``, round, into its right side."""
    x, y = LAYOUT[state]
    sx, sy = x + route.start[0], y + BOX_H / 2
    ex, ey = x + BOX_W / 2 + 0.05, y + 0.08
    return Path([(sx, sy), (sx + 0.1, sy + 0.75), (ex + 0.9, ey + 0.35), (ex, ey)],
                [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])


def _point_and_tangent(path, t):
    """The point at ``t`` of a one-piece quadratic or cubic Bezier path, and its direction."""
    v = path.vertices
    if len(v) == 3:
        point = (1 - t) ** 2 * v[0] + 2 * (1 - t) * t * v[1] + t ** 2 * v[2]
        tangent = 2 * (1 - t) * (v[1] - v[0]) + 2 * t * (v[2] - v[1])
    else:
        point = ((1 - t) ** 3 * v[0] + 3 * (1 - t) ** 2 * t * v[1]
                 + 3 * (1 - t) * t ** 2 * v[2] + t ** 3 * v[3])
        tangent = (3 * (1 - t) ** 2 * (v[1] - v[0]) + 6 * (1 - t) * t * (v[2] - v[1])
                   + 3 * t ** 2 * (v[3] - v[2]))
    return point, tangent


class _Arc(NamedTuple):
    path: Path        # data coordinates, ends just outside the boxes
    label: tuple      # (point, tangent, side) in full drawings
    compact: tuple    # the same in compact drawings


@functools.lru_cache(maxsize=1)
def _arcs():
    """{(from, to): _Arc} for every arc of the state machine, computed once per process."""
    out = {}
    for u, v in state_machine_graph().edges:
        route = ROUTES.get((u, v), Route())
        path = _loop_path(u, route) if u == v else _arc_path(u, v, route)
        side, at = route.compact or (route.side, route.at)
        out[(u, v)] = _Arc(path, (*_point_and_tangent(path, route.at), route.side),
                           (*_point_and_tangent(path, at), side))
    return out


def _label_placement(per_x, per_y, tangent, side, gap_pt=4.0):
    """(ha, va, offset in points) for a label beside an arc: ``gap_pt`` points off its
    point, perpendicular to the arc as drawn (on screen, ``per_x``, ``per_y`` pixels per
    data unit), aligned to grow away from it."""
    if side == 0:
        return "center", "center", (0.0, 0.0)
    tx, ty = tangent[0] * per_x, tangent[1] * per_y
    nx_, ny_ = np.array([ty, -tx]) * side / np.hypot(tx, ty)   # right of travel for side 1
    ha = "left" if nx_ > 0.38 else "right" if nx_ < -0.38 else "center"
    va = "bottom" if ny_ > 0.38 else "top" if ny_ < -0.38 else "center"
    return ha, va, (float(nx_ * gap_pt), float(ny_ * gap_pt))


# ------------------------------------------------------------------------------ drawing
# sizes (points) of the full drawing (9.5 in wide) and of the compact one (the player's
# two graphs side by side, 6 in each)
_SIZES = {
    False: {"state": FONT["text"] + 1, "label": FONT["small"], "note": FONT["tiny"],
            "lit": 2.8, "line": 1.3, "abort": 0.9, "head": 14, "box": 1.2, "box_lit": 2.2},
    True: {"state": FONT["small"], "label": FONT["tiny"], "note": FONT["tiny"] - 1,
           "lit": 2.2, "line": 1.0, "abort": 0.7, "head": 10, "box": 1.0, "box_lit": 1.8},
}
COMPACT_BELOW_IN = 7.5     # compact="auto" draws compact on Axes narrower than this (inches)


def _is_compact(width_in, compact):
    if compact not in ("auto", None):
        return bool(compact)
    return bool(width_in < COMPACT_BELOW_IN)


def _taken(g, trace, host, t):
    """{(from, to): [(step number, label text)]} of the host's transitions up to ``t``; the
    text names the event the trace row gives as its cause (all the arc's events if unsure)."""
    out = {}
    for k, r in enumerate(_host_states(trace, host, t), 1):
        edge = (r["from"], r["to"])
        if not g.has_edge(*edge):
            continue
        event = _taken_event(g.edges[edge]["events"], r.get("cause"))
        text = _short(r["from"], event) if event is not None else _edge_text(*edge, g.edges[edge])
        out.setdefault(edge, []).append((k, text))
    return out


def _closed_box_of_sockets(trace, host, t):
    """{socket: True if it is in the bottom CLOSED box (it closed), False for the top one}."""
    out = {}
    for r in _host_states(trace, host, t):
        sock = r.get("socket") or host
        if r["to"] == "CLOSED":
            out[sock] = r["from"] not in OPENING
        elif r["from"] == "CLOSED":
            out[sock] = False
    return out


def _draw_boxes(put, size, colour, visited, current, in_bottom):
    """The state boxes: outlined in ``colour`` if ``visited``, filled if ``current``."""
    pad = 0.02                     # Matplotlib's "round,pad=0.02,rounding_size=0.15"
    for name, key in [(s, "top" if s == "CLOSED" else s) for s in STATES] + [("CLOSED", "bottom")]:
        filled = any(state == name and (name != "CLOSED"
                                        or in_bottom.get(sock, False) == (key == "bottom"))
                     for sock, state in current.items())
        fc, tc, ec, lw = "white", "#111111", "#333333", size["box"]
        if colour and key in visited:
            ec, lw = colour, size["box_lit"]
        if filled:
            fc, tc, ec, lw = colour, "white", colour, size["box_lit"] + 0.2
        x, y = _box_centre(name, key)
        put(Rect(x - BOX_W / 2 - pad, y - BOX_H / 2 - pad, BOX_W + 2 * pad, BOX_H + 2 * pad, fc,
                 edge=ec, edge_width_pt=lw, rounding=0.15, zorder=3, gid=f"state-{name}-{key}"),
            "boxes", key)
        put(Text(x, y, name, size=size["state"], colour=tc, weight="bold", zorder=4))


def _draw_arcs(put, g, size, colour, taken):
    """The arrows: taken ones thick in ``colour``, abort arcs thin grey dashes, the arcs no
    run can take (``unreachable``) grey dots."""
    for (u, v), arc in _arcs().items():
        lit = (u, v) in taken
        abort = g.edges[u, v]["abort"] and not lit
        unreachable = g.edges[u, v]["unreachable"] and not lit
        width = size["lit"] if lit else size["abort"] if abort else size["line"]
        dash = (2 * width, 2 * width) if abort else (width, 2.5 * width) if unreachable else None
        put(Curve(tuple(map(tuple, arc.path.vertices.tolist())),
                  colour if lit else "#B0B0B0" if abort else
                  UNREACHABLE_COLOUR if unreachable else "#333333", width,
                  dash_pt=dash, head_scale=size["head"],
                  zorder=5 if lit else 2, gid=f"edge-{u}-{v}"), "edges", (u, v))


def _draw_labels(put, scene, g, size, colour, taken, compact):
    """The labels of the arcs taken, "(steps) event" (first line only when compact); in full
    drawings also those of the other arcs (not the abort arcs), except where one would cover
    a label of an arc taken."""
    texts = {}
    for edge, steps in taken.items():
        numbers = ",".join(str(k) for k, _ in steps)
        text = "\n".join(dict.fromkeys(text for _, text in steps))
        texts[edge] = f"({numbers}) {text.splitlines()[0] if compact else text}"
    if not compact:
        for u, v, data in g.edges(data=True):
            if (u, v) not in taken and not data["abort"]:
                texts[(u, v)] = _edge_text(u, v, data)
    x0, y0, x1, y1 = scene.axes_pixels()
    per_x, per_y = (x1 - x0) / (XLIM[1] - XLIM[0]), (y1 - y0) / (YLIM[1] - YLIM[0])
    taken_extents = []
    for edge, text in texts.items():          # the arcs taken come first
        lit = edge in taken
        point, tangent, side = _arcs()[edge].compact if compact else _arcs()[edge].label
        ha, va, offset = _label_placement(per_x, per_y, tangent, side)
        grey = not lit and g.edges[edge]["unreachable"]
        label = Text(float(point[0]), float(point[1]), text, size=size["label"],
                     colour=colour if lit else UNREACHABLE_COLOUR if grey else "#222222",
                     weight="bold" if lit else "normal", style="italic" if grey else "normal",
                     ha=ha, va=va, offset_pt=offset, linespacing=1.05, zorder=6,
                     frame=Frame("white", None, pad=0.1, alpha=0.85, round=False))
        # its extent in pixels (x0, x1, y0, y1; y down), as Matplotlib lays it out
        (bx, by, bw, bh), _ = text_layout(text, label.size, label.weight, label.style, 1.05,
                                          ha, va, scene.dpi)
        px, py = scene.to_pixels(label.x, label.y, offset_pt=offset)
        extent = (px + bx, px + bx + bw, py - by - bh, py - by)
        if lit:
            taken_extents.append(extent)
        elif any(extent[0] < e[1] and e[0] < extent[1] and extent[2] < e[3] and e[2] < extent[3]
                 for e in taken_extents):
            continue
        put(label, "labels", edge)


STATE_GRAPH_SIZE_IN = (FIG_WIDTH, 8.4)
STATE_GRAPH_AXES = (0.01, 0.01, 0.98, 0.92)


class StateGraphScene(NamedTuple):
    """A state graph as geometry: ``scene``, ``roles`` ((role, key) per item), and what
    ``ax.tcpsim`` reports."""
    scene: Scene
    roles: list
    info: dict


def state_graph_scene(trace=None, host=None, t=None, title=True, compact="auto",
                      size_in=STATE_GRAPH_SIZE_IN, axes=STATE_GRAPH_AXES,
                      dpi=DPI) -> StateGraphScene:
    """The state graph's geometry (arguments as ``state_graph``) for a picture ``size_in``
    inches at ``dpi``, the Axes at ``axes`` (left, bottom, width, height fractions)."""
    g = state_machine_graph()
    compact = _is_compact(axes[2] * size_in[0], compact)
    size = _SIZES[compact]
    scene = Scene(size_in[0], size_in[1], axes, XLIM, YLIM, dpi=dpi)
    roles = []

    def put(item, role=None, key=None):
        scene.add(item)
        roles.append((role, key))

    colour, took, current, taken, in_bottom, visited = None, [], {}, {}, {}, set()
    if trace is not None:
        trace = as_trace(trace)
        if host is None:
            host = host_order(trace)[0]
        colour = host_colours(trace).get(host, "#0072B2")
        took = highlighted_edges(trace, host, t)
        current = current_states(trace, host, t)
        taken = _taken(g, trace, host, t)
        in_bottom = _closed_box_of_sockets(trace, host, t)
        for u, v in took:
            visited.add("top" if u == "CLOSED" else u)
            visited.add(_target_key(u, v))

    _draw_boxes(put, size, colour, visited, current, in_bottom)
    _draw_arcs(put, g, size, colour, taken)
    _draw_labels(put, scene, g, size, colour, taken, compact)

    put(Text(XLIM[0] + 0.1, YLIM[0] + 0.03, NOTE_COMPACT if compact else NOTE,
             size=size["note"], colour="#555555", ha="left", va="bottom", zorder=3))
    put(Text(XLIM[0] + 0.1, YLIM[0] + 0.03,
             UNREACHABLE_NOTE_COMPACT if compact else UNREACHABLE_NOTE, size=size["note"],
             colour=UNREACHABLE_COLOUR, style="italic", ha="left", va="bottom",
             offset_pt=(0, 1.5 * size["note"]), zorder=3, gid="unreachable-note"), "legend")
    if not compact:
        put(Text(XLIM[0] + 0.1, YLIM[1] - 0.2, READING, size=size["note"], colour="#555555",
                 ha="left", va="top", zorder=3))
    if title:
        title_size = FONT["text"] if compact else FONT["label"] + 1
        if trace is not None:
            now = ", ".join(f"{st} ({sock})" for sock, st in current.items()) or "CLOSED"
            when = "end of trace" if t is None else f"t = {t:g} s"
            text = (f"{host} at {when}: {now}" if compact else
                    f"TCP state machine: {host} at {when}: {now}")
        else:
            text = ("TCP state machine (RFC 9293 \u00a73.3.2, Figure 5" +
                    (")" if compact else ", with the arcs it leaves out)"))
        # where Matplotlib puts an Axes' title (loc="left", 6 points above)
        put(Text(0, 1, text, size=title_size, colour=colour or "#000000", ha="left",
                 va="baseline", coords="axes", offset_pt=(0, 6), zorder=3, title=True), "title")
    info = {"graph": g, "highlighted": took, "current": current, "compact": compact,
            "host": host, "t": t}
    return StateGraphScene(scene, roles, info)


def state_graph_svg(trace=None, host=None, t=None, title=True, compact="auto",
                    size_in=STATE_GRAPH_SIZE_IN, axes=STATE_GRAPH_AXES, dpi=DPI) -> str:
    """The same picture as ``state_graph`` (the same scene), written directly as SVG."""
    return to_svg(state_graph_scene(trace, host, t, title, compact, size_in, axes, dpi).scene)


def state_graph(trace=None, host=None, t=None, ax=None, title=True, compact="auto"):
    """Draw the state machine; with a trace and a host, light up the transitions that host's
    sockets made (numbered in order) and fill its state(s) at time ``t`` (at the end if None).

    compact: True draws only the labels of the transitions taken (their first line), with
    smaller fonts and the short note, for small pictures (the player's two graphs side by
    side); "auto" (the default) does so when the Axes are less than 7.5 inches wide.

    Returns the Figure (or ``ax`` when one was given). ``ax.tcpsim`` holds ``graph`` (the
    DiGraph), ``highlighted`` (the (from, to) list), ``current`` ({socket: state}),
    ``edges`` {(from, to): FancyArrowPatch}, ``labels`` {(from, to): Text}, ``boxes``
    {state, or "top"/"bottom" for the two CLOSED boxes: FancyBboxPatch}, ``legend`` (the
    Text that explains the dotted grey arcs no run can take) and ``compact``.
    ``state_graph_svg`` writes the same picture as SVG.
    """
    created = ax is None
    fig, ax = get_ax(ax, STATE_GRAPH_SIZE_IN[1])
    if created:
        left, bottom, width, height = STATE_GRAPH_AXES
        fig.subplots_adjust(left=left, right=left + width, top=bottom + height, bottom=bottom)
    layout = state_graph_scene(trace, host, t, title, compact,
                               size_in=(fig.get_figwidth(), fig.get_figheight()),
                               axes=ax.get_position().bounds, dpi=fig.dpi)
    artists = draw(layout.scene, ax)
    ax.set_axis_off()
    reg = {**layout.info, "edges": {}, "labels": {}, "boxes": {}, "legend": None}
    for (role, key), artist in zip(layout.roles, artists):
        if role in ("edges", "labels", "boxes"):
            reg[role][key] = artist
        elif role == "legend":
            reg["legend"] = artist
    ax.tcpsim = reg
    return fig if created else ax
