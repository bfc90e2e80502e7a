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
"""
from __future__ import annotations

import math

import networkx as nx
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ._common import as_trace, get_ax, isnan
from .style import FONT, FONT_FAMILY, MUTED, host_colours, host_order

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
CLOSED_BOTTOM = (1.9, -1.8)      # where connections end (drawn copy of CLOSED)
BOX_W, BOX_H = 2.15, 0.62
OPENING = frozenset(("CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED"))

# Short edge labels (the table's event names are sentences).
SHORT = {
    "connect()": "connect()\nsnd SYN",
    "listen()": "listen()",
    "close()": "close()",
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
    ("TIME-WAIT", "rcv FIN"): "rcv FIN, snd ACK\nrestart 2MSL",
    "rcv SYN (new incarnation)": "rcv SYN (new conn.)",
    "connect() reuses the port": "connect() (reuse)",
    "abort()": "abort()",
    "retransmission timeout": "rtx timeout",
}
_ABORTS = {"abort()", "retransmission timeout", "close() with unread data",
           "close() with SO_LINGER 0", "data after close()"}
SYNCHRONIZED = {"ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",
                "LAST-ACK", "TIME-WAIT"}
# per-edge drawing tweaks: curvature (arc3 rad) and label position along the edge
EDGE_STYLE = {
    ("CLOSED", "LISTEN"): (0.45, 0.5, -0.45, 0.0),
    ("LISTEN", "CLOSED"): (0.45, 0.5, 0.45, 0.0),
    ("CLOSED", "SYN-SENT"): (0.0, 0.5),
    ("SYN-SENT", "CLOSED"): (0.35, 0.5),
    ("LISTEN", "SYN-RECEIVED"): (-0.25, 0.5),
    ("SYN-RECEIVED", "LISTEN"): (-0.25, 0.5),
    ("SYN-RECEIVED", "CLOSED"): (-0.45, 0.5),
    ("SYN-SENT", "SYN-RECEIVED"): (0.0, 0.5),
    ("SYN-SENT", "ESTABLISHED"): (0.0, 0.5),
    ("SYN-RECEIVED", "ESTABLISHED"): (0.0, 0.5),
    ("LISTEN", "ESTABLISHED"): (0.0, 0.3),
    ("SYN-RECEIVED", "FIN-WAIT-1"): (0.0, 0.5),
    ("SYN-RECEIVED", "CLOSE-WAIT"): (0.2, 0.78),
    ("ESTABLISHED", "FIN-WAIT-1"): (0.0, 0.5),
    ("ESTABLISHED", "CLOSE-WAIT"): (0.0, 0.5),
    ("FIN-WAIT-1", "CLOSING"): (0.0, 0.5),
    ("FIN-WAIT-1", "FIN-WAIT-2"): (0.0, 0.5),
    ("FIN-WAIT-1", "TIME-WAIT"): (0.0, 0.5),
    ("FIN-WAIT-2", "TIME-WAIT"): (0.0, 0.5),
    ("CLOSING", "TIME-WAIT"): (0.0, 0.5),
    ("CLOSE-WAIT", "LAST-ACK"): (0.0, 0.5),
    ("LAST-ACK", "CLOSED"): (0.0, 0.5),
    ("TIME-WAIT", "CLOSED"): (0.0, 0.5),
    ("FIN-WAIT-2", "CLOSED"): (0.18, 0.45),
}


def _is_abort(state, event):
    return event in _ABORTS or (event == "rcv RST" and state in SYNCHRONIZED | {"SYN-RECEIVED"})


def state_machine_graph(transitions=None) -> nx.DiGraph:
    """The state machine as a DiGraph built from ``TRANSITIONS``.

    Nodes: the 11 RFC 9293 states (attribute ``pos``: the drawing layout). Edges: one per
    (state, next state) pair with ``event`` (the table's event names joined by " / "),
    ``events`` and ``rfcs`` (lists, in table order), ``rfc`` (the first rule) and ``abort``
    (True when every event is an abort-type event drawn thin).
    """
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
        else:
            g.add_edge(state, nxt, event=event, events=[event], rfc=rule, rfcs=[rule],
                       abort=_is_abort(state, event))
    return g


# ------------------------------------------------------------------ trace -> transitions
def _host_states(trace, host):
    rows = [r for r in trace.doc.get("states", []) if r.get("host") == host]
    return rows


def highlighted_edges(trace, host, t=None):
    """The (from, to) transitions ``host``'s sockets made up to time ``t`` (all if None),
    in trace order: exactly what ``state_graph`` lights up."""
    trace = as_trace(trace)
    return [(r["from"], r["to"]) for r in _host_states(trace, host)
            if t is None or r["t"] <= t]


def current_states(trace, host, t=None):
    """{socket: state} of ``host``'s sockets at time ``t`` (at the end if None)."""
    trace = as_trace(trace)
    out = {}
    for r in _host_states(trace, host):
        sock = r.get("socket") or host
        if t is None or r["t"] <= t:
            out[sock] = r["to"]
        else:
            out.setdefault(sock, r["from"])
    return out


# ------------------------------------------------------------------------------ drawing
def _closed_pos(frm):
    return LAYOUT["CLOSED"] if frm in OPENING else CLOSED_BOTTOM


def _edge_ends(u, v):
    a = LAYOUT[u] if u != "CLOSED" else LAYOUT["CLOSED"]
    b = LAYOUT[v] if v != "CLOSED" else _closed_pos(u)
    return a, b


def _label_point(a, b, rad, frac):
    """Point at ``frac`` along an arc3 curve from a to b (quadratic Bezier)."""
    (x1, y1), (x2, y2) = a, b
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    dx, dy = x2 - x1, y2 - y1
    cx, cy = mx + rad * dy, my - rad * dx
    s = frac
    return ((1 - s) ** 2 * x1 + 2 * (1 - s) * s * cx + s * s * x2,
            (1 - s) ** 2 * y1 + 2 * (1 - s) * s * cy + s * s * y2)


def _edge_text(u, v, data):
    events = [e for e in data["events"] if not _is_abort(u, e)] or data["events"]
    seen, out = set(), []
    for e in events:
        s = SHORT.get((u, e), SHORT.get(e, e))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return "\n".join(out)


def state_graph(trace=None, host=None, t=None, ax=None, title=True):
    """Draw the state machine; with a trace and a host, light up the transitions that host's
    sockets made (numbered in order) and fill its state(s) at time ``t`` (at the end if None).

    Returns the Figure (or ``ax`` when one was given). ``ax.tcpsim`` holds ``graph`` (the
    DiGraph), ``highlighted`` (the (from, to) list), ``current`` ({socket: state}) and
    ``edges`` {(from, to): FancyArrowPatch}.
    """
    g = state_machine_graph()
    created = ax is None
    fig, ax = get_ax(ax, 8.4)
    if created:
        fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.06)
    ax.set_xlim(-5.6, 5.6)
    ax.set_ylim(-2.7, 9.8)
    ax.set_axis_off()

    colour, took, current = None, [], {}
    if trace is not None:
        trace = as_trace(trace)
        if host is None:
            host = host_order(trace)[0]
        colour = host_colours(trace)[host] if host in host_colours(trace) else "#0072B2"
        took = highlighted_edges(trace, host, t)
        current = current_states(trace, host, t)
    order = {}
    for k, e in enumerate(took, 1):
        order.setdefault(e, []).append(k)
    # a CLOSED reached from a closing state is the bottom box
    last_closed_bottom = {}
    if trace is not None:
        for r in _host_states(trace, host):
            if t is None or r["t"] <= t:
                if r["to"] == "CLOSED":
                    last_closed_bottom[r.get("socket") or host] = r["from"] not in OPENING
                elif r["from"] == "CLOSED":
                    last_closed_bottom[r.get("socket") or host] = False

    # nodes
    boxes = {}
    visited = set()
    for u, v in took:
        visited.add("top" if u == "CLOSED" else u)
        visited.add(("bottom" if u not in OPENING else "top") if v == "CLOSED" else v)

    def node(name, xy, key):
        filled = any(st == name and (name != "CLOSED" or
                                     last_closed_bottom.get(sock, False) == (key == "bottom"))
                     for sock, st in current.items())
        fc, tc, ec, lw = "white", "#111111", "#333333", 1.2
        if colour and key in visited:
            ec, lw = colour, 2.2
        if filled:
            fc, tc, ec, lw = colour, "white", colour, 2.4
        box = FancyBboxPatch((xy[0] - BOX_W / 2, xy[1] - BOX_H / 2), BOX_W, BOX_H,
                             boxstyle="round,pad=0.02,rounding_size=0.15", fc=fc, ec=ec, lw=lw,
                             zorder=3, gid=f"state-{name}-{key}")
        ax.add_patch(box)
        ax.text(xy[0], xy[1], name, ha="center", va="center", color=tc, zorder=4,
                fontsize=FONT["text"] + 1, fontweight="bold", family=FONT_FAMILY)
        boxes[key if name == "CLOSED" else name] = box

    for s in STATES:
        node(s, LAYOUT[s], "top" if s == "CLOSED" else s)
    node("CLOSED", CLOSED_BOTTOM, "bottom")

    def box_of(state, other, as_target):
        if state != "CLOSED":
            return boxes[state]
        if as_target:
            return boxes["bottom"] if other not in OPENING else boxes["top"]
        return boxes["top"]

    edges = {}
    for u, v, data in g.edges(data=True):
        lit = (u, v) in order
        abort = data["abort"]
        col = colour if lit else ("#B0B0B0" if abort else "#333333")
        lw = 2.8 if lit else (0.9 if abort else 1.3)
        if u == v:   # self loop (TIME-WAIT restart): a loop under the box
            x, y = LAYOUT[u]
            arrow = FancyArrowPatch((x + 0.55, y + BOX_H / 2), (x + BOX_W / 2, y + 0.02),
                                    connectionstyle="arc3,rad=-1.1", arrowstyle="-|>",
                                    mutation_scale=13, lw=lw, color=col, zorder=2,
                                    gid=f"edge-{u}-{v}")
            ax.add_patch(arrow)
            lx, ly = x + BOX_W / 2 + 0.45, y + 0.62
            ha = "left"
        else:
            a, b = _edge_ends(u, v)
            rad, frac, *shift = EDGE_STYLE.get((u, v), (0.0, 0.5))
            arrow = FancyArrowPatch(a, b, patchA=box_of(u, v, False), patchB=box_of(v, u, True),
                                    connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                    mutation_scale=14, lw=lw, color=col,
                                    linestyle=(0, (2, 2)) if abort and not lit else "-",
                                    shrinkA=1, shrinkB=1, zorder=5 if lit else 2,
                                    gid=f"edge-{u}-{v}")
            ax.add_patch(arrow)
            lx, ly = _label_point(a, b, rad, frac)
            if shift:
                lx, ly = lx + shift[0], ly + shift[1]
            ha = "center"
        edges[(u, v)] = arrow
        if abort and not lit:
            continue
        text = _edge_text(u, v, data)
        if lit:
            text = "(" + ",".join(map(str, order[(u, v)])) + ") " + text
        ax.text(lx, ly, text, ha=ha, va="center", fontsize=FONT["small"], family=FONT_FAMILY,
                color=colour if lit else "#222222", fontweight="bold" if lit else "normal",
                zorder=6, linespacing=1.05,
                bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))

    ax.text(-5.5, -2.55, "grey dashed arcs: rcv RST, abort(), retransmission timeout, close() "
            "with unread data \u2192 CLOSED (RFC 9293 \u00a73.10.5, \u00a73.10.7.4, "
            "RFC 1122 \u00a74.2.2.13)", fontsize=FONT["tiny"], family=FONT_FAMILY, color="#555555",
            ha="left", va="bottom")
    ax.text(-5.5, 9.6, "active open \u2192 right, passive open \u2192 left\n"
            "active close \u2193 left, passive close \u2193 right", fontsize=FONT["tiny"],
            family=FONT_FAMILY, color="#555555", ha="left", va="top")
    if title:
        if trace is not None:
            now = ", ".join(f"{st} ({sock})" for sock, st in current.items()) or "CLOSED"
            when = "end of trace" if t is None else f"t = {t:g} s"
            ax.set_title(f"TCP state machine: {host} at {when}: {now}", fontsize=FONT["label"] + 1,
                         family=FONT_FAMILY, color=colour, loc="left")
        else:
            ax.set_title("TCP state machine (RFC 9293 \u00a73.3.2, Figure 5, with the arcs "
                         "it leaves out)", fontsize=FONT["label"] + 1, family=FONT_FAMILY,
                         loc="left")
    ax.tcpsim = {"graph": g, "highlighted": took, "current": current, "edges": edges,
                 "host": host, "t": t}
    return fig if created else ax
