"""The views the widgets show, as PNG bytes (and pixel arrays), for any time ``t``.

* ``LadderPicture``: the ladder as SVG, written once from its scene (``plots.scene``); at
  each ``t`` only the cursor is added, and a window of fixed height around the cursor is
  shown, so a long ladder still fits a fixed-size image.
* ``StateGraphPictures``: one host's state machine with its state at ``t`` filled. The
  picture changes only when the host's state changes, so each one is drawn once and kept.
* ``BufferPictures``: the send/receive buffers at ``t`` (``plots.buffers``), kept per TCB
  snapshot.
* ``variables_html`` / ``variables_rows``: the TCB variables and timers at ``t``, from
  ``trace.tcb``.

Traces read from a capture have no TCB: the buffer picture and the variables panel then say
so instead of failing.
"""
from __future__ import annotations

import html

import numpy as np
from matplotlib.figure import Figure

from .. import plots
from ..plots._common import tcb_at
from ..plots.buffers import panel_rects
from ..plots.ladder import ladder_scene
from ..plots.scene import Frame, Lines, Text, draw_items, svg_body, svg_open, to_svg
from ..plots.states import state_graph_scene
from ..plots.style import FONT, OKABE_ITO, host_colours, host_order
from ._pictures import (figure_pixels, figure_png, message_png, pixels_png, png_pixels,
                        table_pixels, text_pixels)

MOD = 2 ** 32
CURSOR_COLOUR = OKABE_ITO["bluish_green"]
NO_TCB = ("This trace has no TCB snapshots (it comes from a capture, or from a trace's "
          "JSON): the sequence variables, windows and timers of each host are unknown.")


def has_tcb(trace) -> bool:
    return not trace.tcb.empty


def time_text(t, decimals=5) -> str:
    return f"{t:.{decimals}f} s"


# ------------------------------------------------------------------------------ ladder
def cursor_items(layout, t, decimals=5) -> list:
    """The ladder cursor at time ``t`` as scene items: a see-through green line across the
    ladder (labels under it stay readable) and the time in the left margin. The SVG picture
    and the static snapshot both draw these."""
    y = layout.axis.time_to_y(t)
    return [Lines((((0, y), (1, y)),), CURSOR_COLOUR, 2.2, coords="yaxis", zorder=10,
                  alpha=0.55),
            Text(-0.004, y, time_text(t, decimals), size=FONT["small"], colour="white",
                 weight="bold", ha="right", coords="yaxis", zorder=11,
                 frame=Frame(CURSOR_COLOUR, None, pad=0.25))]


def window_top(full_height_px, header_px, height_px, row) -> int:
    """The first pixel row of the ladder shown under the header, in a window ``height_px``
    tall around pixel row ``row`` (a third of the window above it)."""
    body = height_px - header_px
    top = int(round(row)) - body // 3
    return max(header_px, min(top, full_height_px - body))


class LadderPicture:
    """The ladder of a trace with a horizontal cursor at time ``t``, as SVG.

    The ladder's scene is made and written as SVG once. ``svg_at(t)`` adds the cursor and
    shows a window at most ``max_height_px`` tall around it: the title and host names at the
    top always stay in the window, and a grey line marks where the ladder was cut.
    ``pixels_at(t)`` is the same picture drawn by Matplotlib (for the static snapshot).
    ``ignored``: also mark the segments that changed nothing (``plots.ladder``'s option).
    """

    def __init__(self, trace, hosts=None, max_height_px=440, decimals=5, ignored=False):
        self.trace, self.hosts = trace, hosts
        self.decimals = decimals
        self.ignored = ignored
        self.layout = ladder_scene(trace, hosts=hosts, segments="all", ignored=ignored)
        self.scene = self.layout.scene
        self.width_px, self.full_height_px = self.scene.width_px, self.scene.height_px
        self.header_px = self.layout.header_px          # the title and the host names
        self.height_px = min(max(max_height_px, self.header_px + 100), self.full_height_px)
        self._ladder_svg = svg_body(self.scene, self.scene.items)

    def cursor_row(self, t) -> float:
        """The pixel row (from the top of the full picture) of time ``t``."""
        return self.layout.row_of(t)

    def top_at(self, t) -> int:
        """The first row under the header shown at ``t`` (the header's row: no cut)."""
        if self.full_height_px <= self.height_px:
            return self.header_px
        return window_top(self.full_height_px, self.header_px, self.height_px,
                          self.cursor_row(t))

    def svg_at(self, t) -> bytes:
        w, h, head = self.width_px, self.height_px, self.header_px
        cursor = svg_body(self.scene, cursor_items(self.layout, t, self.decimals), "cursor-axes")
        shift = head - self.top_at(t)
        parts = [svg_open(w, h), f'<rect width="{w}" height="{h}" fill="white"/>',
                 f'<defs><g id="ladder">{self._ladder_svg}</g></defs>',
                 f'<clipPath id="head"><rect width="{w}" height="{head}"/></clipPath>',
                 (f'<clipPath id="body"><rect y="{head}" width="{w}" height="{h - head}"/>'
                 "</clipPath>"),
                 '<use href="#ladder" clip-path="url(#head)"/>',
                 (f'<g clip-path="url(#body)"><g transform="translate(0 {shift})">'
                 f'<use href="#ladder"/>{cursor}</g></g>')]
        if shift < 0:
            parts.append(f'<rect y="{head}" width="{w}" height="1" fill="rgb(190,190,190)"/>')
        parts.append("</svg>")
        return "\n".join(parts).encode()

    def pixels_at(self, t) -> np.ndarray:
        """The same window, drawn by Matplotlib (the static snapshot; slower)."""
        figure = plots.ladder(self.trace, hosts=self.hosts, segments="all", ignored=self.ignored)
        draw_items(cursor_items(self.layout, t, self.decimals), figure.axes[0])
        pixels = figure_pixels(figure)
        if self.full_height_px <= self.height_px:
            return pixels
        top = self.top_at(t)
        body = self.height_px - self.header_px
        window = np.vstack([pixels[:self.header_px], pixels[top:top + body]])
        if top > self.header_px:          # a grey line shows where the ladder was cut
            window[self.header_px] = (190, 190, 190, 255)
        return window

    def png_at(self, t) -> bytes:
        return pixels_png(self.pixels_at(t))


# ------------------------------------------------------------------------- state graph
def socket_states(trace, host, t=None) -> dict:
    """{socket: state} of the host's sockets that exist at ``t`` (the end if None): each
    one's last state change at or before ``t``."""
    out = {}
    for row in trace.doc.get("states", []):
        if row["host"] == host and (t is None or row["t"] <= t):
            out[row.get("socket") or host] = row["to"]
    return out


def states_text(current: dict) -> str:
    """{socket: state} as words: "ESTABLISHED, listening socket LISTEN"."""
    if not current:
        return "CLOSED"
    parts = []
    for socket, state in current.items():
        if socket.endswith(":listen"):
            parts.append(f"listening socket {state}")
        else:
            parts.append(state)
    return ", ".join(parts)


class StateGraphPictures:
    """One host's state machine with its state at ``t`` filled, the path taken lit.

    Compact: 80 dpi, so that two graphs fit side by side in 1000 pixels. The picture
    depends only on how many of the host's state changes happened by ``t``, so each
    distinct picture is made once and kept: ``svg_at`` (what the player shows, written
    directly from the state graph's scene) and ``png_at`` (the same scene drawn by
    Matplotlib, for the static snapshot).
    """
    SIZE_IN = (6.0, 5.3)
    DPI = 80
    AXES = (0, 0, 1, 0.93)

    def __init__(self, trace, host):
        self.trace = trace
        self.host = host
        self.colour = host_colours(trace).get(host, OKABE_ITO["blue"])
        self.change_times = [r["t"] for r in trace.doc.get("states", []) if r["host"] == host]
        self.pictures = {}            # number of state changes so far -> SVG bytes
        self.pngs = {}                # the same key -> PNG bytes
        self.figure = None            # the last Matplotlib figure drawn (for png_at)
        self.filled = {}              # the same key -> {socket: state} filled in the picture

    @property
    def width_px(self):
        return int(self.SIZE_IN[0] * self.DPI)

    @property
    def height_px(self):
        return int(self.SIZE_IN[1] * self.DPI)

    def changes_by(self, t) -> int:
        if t is None:
            return len(self.change_times)
        return sum(1 for when in self.change_times if when <= t)

    def header(self, t):
        """The line on top: the host and its state(s) at ``t``."""
        now = states_text(socket_states(self.trace, self.host, t))
        return Text(0.01, 0.99, f"{self.host}: {now}", size=FONT["label"] + 2,
                    colour=self.colour, weight="bold", ha="left", va="top", coords="figure")

    def svg_at(self, t) -> bytes:
        key = self.changes_by(t)
        if key not in self.pictures:
            layout = state_graph_scene(self.trace, self.host, t, title=False,
                                       size_in=self.SIZE_IN, axes=self.AXES, dpi=self.DPI)
            layout.scene.add(self.header(t))
            self.pictures[key] = to_svg(layout.scene).encode()
            self.filled[key] = layout.info["current"]
        return self.pictures[key]

    def png_at(self, t) -> bytes:
        key = self.changes_by(t)
        if key not in self.pngs:
            self.pngs[key] = self.draw(t)
        return self.pngs[key]

    def filled_at(self, t) -> dict:
        """{socket: state} of the states filled in the picture for time ``t``."""
        self.svg_at(t)
        return self.filled[self.changes_by(t)]

    def draw(self, t) -> bytes:
        """The PNG at ``t``, drawn by Matplotlib (kept in ``self.figure``)."""
        self.figure = Figure(figsize=self.SIZE_IN, dpi=self.DPI)
        ax = self.figure.add_axes(self.AXES)
        plots.state_graph(self.trace, host=self.host, t=t, ax=ax, title=False)
        draw_items([self.header(t)], ax)
        return figure_png(self.figure)


def state_graphs_side_by_side(trace, hosts=None, t=None) -> bytes:
    """Both hosts' compact state graphs in one picture (PNG)."""
    pictures = [png_pixels(StateGraphPictures(trace, host).png_at(t))
                for host in host_order(trace, hosts)]
    return pixels_png(np.hstack(pictures))


def state_graphs_side_by_side_svg(trace, hosts=None, t=None) -> bytes:
    """The same two pictures side by side, as one SVG."""
    pictures = [StateGraphPictures(trace, host) for host in host_order(trace, hosts)]
    width, height = sum(p.width_px for p in pictures), max(p.height_px for p in pictures)
    parts, x = [svg_open(width, height)], 0
    for picture in pictures:                     # each one an SVG of its own, moved right
        inner = picture.svg_at(t).decode()
        parts.append(inner.replace("<svg ", f'<svg x="{x}" ', 1))
        x += picture.width_px
    parts.append("</svg>")
    return "\n".join(parts).encode()


# ----------------------------------------------------------------------------- buffers
class BufferPictures:
    """``plots.buffers`` at ``t``, kept per TCB snapshot: ``svg_at`` (what the player shows,
    written directly from the picture's scenes) and ``png_at`` (the same picture drawn by
    Matplotlib, for the static snapshot). A trace without TCB gets a message (PNG)."""
    SIZE_IN = (9.5, 4.6)
    RECTS = panel_rects(left=0.13, right=0.97, top=0.92, bottom=0.03, hspace=0.4)

    def __init__(self, trace):
        self.trace = trace
        self.tcb = trace.tcb
        self.hosts = host_order(trace)
        self.format = "png" if self.tcb.empty else "svg+xml"
        self._rows = None            # see snapshots_at
        self.pictures = {}           # (index of each host's snapshot) -> SVG bytes
        self.pngs = {}               # the same keys -> PNG bytes

    @property
    def width_px(self):
        return int(self.SIZE_IN[0] * 100)

    @property
    def height_px(self):
        if self.tcb.empty:           # only a message to show
            return 120
        return int(self.SIZE_IN[1] * 100)

    def snapshots_at(self, t) -> tuple:
        """Which TCB row each host's numbers come from at ``t`` (None: no TCB yet): its
        last snapshot at or before ``t`` (each host's rows are in time order)."""
        if self._rows is None:        # once: each host's snapshot times and row labels
            self._rows = {host: (self.tcb["t"][self.tcb["host"] == host].to_numpy(),
                                 self.tcb.index[self.tcb["host"] == host])
                          for host in self.hosts}
        out = []
        for host in self.hosts:
            times, labels = self._rows[host]
            k = int(np.searchsorted(times, t, side="right")) - 1
            out.append(labels[k] if k >= 0 else None)
        return tuple(out)

    def key_at(self, t):
        return "no tcb" if self.tcb.empty else self.snapshots_at(t)

    def svg_at(self, t) -> bytes:
        """The picture the player shows at ``t`` (SVG; the message PNG without TCB)."""
        if self.tcb.empty:
            return self.png_at(t)
        key = self.key_at(t)
        if key not in self.pictures:
            self.pictures[key] = plots.buffers_svg(self.trace, t, title=False,
                                                   size_in=self.SIZE_IN,
                                                   rects=self.RECTS).encode()
        return self.pictures[key]

    def png_at(self, t) -> bytes:
        key = self.key_at(t)
        if key not in self.pngs:
            self.pngs[key] = self.draw(t)
        return self.pngs[key]

    def draw(self, t) -> bytes:
        if self.tcb.empty:
            return message_png(NO_TCB.replace(": ", ":\n", 1), self.width_px, self.height_px)
        figure = Figure(figsize=self.SIZE_IN, dpi=100)
        axes = figure.subplots(2, 1)
        figure.subplots_adjust(left=0.13, right=0.97, top=0.92, bottom=0.03, hspace=0.4)
        plots.buffers(self.trace, t, ax=list(axes))
        return figure_png(figure)


# --------------------------------------------------------------------------- variables
TIMER_NAMES = {
    "rto": "retransmission (RTO)",
    "tlp": "tail loss probe",
    "delack": "delayed ACK",
    "persist": "persist (window probe)",
    "time_wait": "TIME-WAIT (2·MSL)",
    "fin_wait_2": "FIN-WAIT-2 timeout",
}


def _is_number(x) -> bool:
    return x is not None and x == x          # NaN is not equal to itself


def variables_rows(trace, host, t, decimals=5):
    """[(name, value, absolute)] of the host's TCB at ``t``; strings, relative numbers
    (to the host's ISS for ISS and SND.*, to its IRS for IRS and RCV.*) with the absolute
    ones beside (RFC 9293 §3.3.1 names)."""
    snap = tcb_at(trace, host, t)
    if snap is None:
        state = states_text(socket_states(trace, host, t))
        return [("state", state, ""), ("TCB", "none yet (no connection)", "")]
    iss, irs = int(snap["iss"]), snap["irs"]

    def seq(value, base):
        if not _is_number(base):
            return ("not synchronized yet", "")
        return (str((int(value) - int(base)) % MOD), str(int(value)))

    rows = [("state", snap["state"], f"connection {int(snap['conn'])}" if snap["conn"] else ""),
            ("ISS", "0", str(iss)),                  # its own ISN, stored from the start
            ("IRS", *seq(irs, irs)) if _is_number(irs) else ("IRS", "not received yet", ""),
            ("SND.UNA", *seq(snap["snd_una"], iss)),
            ("SND.NXT", *seq(snap["snd_nxt"], iss)),
            ("RCV.NXT", *seq(snap["rcv_nxt"], irs)),
            ("SND.WND", f"{int(snap['snd_wnd'])} B", "the peer's window"),
            ("RCV.WND", f"{int(snap['rcv_wnd'])} B", "advertised")]
    timers = snap["timers"] or {}
    if not timers:
        rows.append(("timers", "none running", ""))
    for name, deadline in sorted(timers.items(), key=lambda item: item[1]):
        rows.append((TIMER_NAMES.get(name, name), f"fires at {time_text(deadline, decimals)}",
                     f"in {time_text(deadline - t, decimals)}"))
    return rows


def variables_html(trace, t, hosts=None, decimals=5) -> str:
    """The variables panel: one small table per host, side by side."""
    hosts = host_order(trace, hosts)
    colours = host_colours(trace, hosts)
    if not has_tcb(trace):
        now = "; ".join(f"{h}: {states_text(socket_states(trace, h, t))}" for h in hosts)
        return (f"<div style='padding:6px;color:#444'><b>Variables:</b> {html.escape(NO_TCB)}"
                f"<br>States inferred from the segments at {time_text(t, decimals)}: "
                f"{html.escape(now)}</div>")
    tables = []
    for host in hosts:
        cells = "".join(
            f"<tr><td style='padding:1px 8px 1px 0'>{html.escape(name)}</td>"
            f"<td style='padding:1px 8px;text-align:right'><b>{html.escape(value)}</b></td>"
            f"<td style='padding:1px 0 1px 8px;color:#666'>{html.escape(absolute)}</td></tr>"
            for name, value, absolute in variables_rows(trace, host, t, decimals))
        tables.append(
            f"<table style='border-collapse:collapse;font-size:13px;min-width:380px'>"
            f"<tr><th colspan='3' style='text-align:left;color:{colours[host]}'>"
            f"{html.escape(host)} at {time_text(t, decimals)}</th></tr>"
            f"<tr style='color:#666;font-size:12px'><td></td><td style='text-align:right;"
            f"padding:0 8px'>relative</td><td style='padding-left:8px'>absolute</td></tr>"
            f"{cells}</table>")
    return ("<div style='display:flex;flex-wrap:wrap;gap:24px;padding:4px 6px'>" + "".join(tables) + "</div>")


def variables_pixels(trace, t, hosts=None, decimals=5, width_px=950) -> np.ndarray:
    """The variables panel as a picture (for the static fallback)."""
    hosts = host_order(trace, hosts)
    if not has_tcb(trace):
        now = "; ".join(f"{h}: {states_text(socket_states(trace, h, t))}" for h in hosts)
        return text_pixels([NO_TCB, f"States inferred from the segments: {now}"], width_px,
                           size="small")
    tables = [table_pixels(f"{host} at {time_text(t, decimals)}", ["", "relative", "absolute"],
                           [list(row) for row in variables_rows(trace, host, t, decimals)],
                           width_px // 2 - 5)
              for host in hosts]
    height = max(p.shape[0] for p in tables)
    padded = [np.vstack([p, np.full((height - p.shape[0], p.shape[1], 4), 255, np.uint8)])
              for p in tables]
    return np.hstack(padded)


