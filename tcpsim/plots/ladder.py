"""The ladder (sequence, time-line) diagram: two host timelines, time running down.

Every segment is one arrow from its sender's timeline at its send time to the receiver's
timeline at its arrival time. A dropped segment stops halfway with a red ✗; a retransmission
is dashed and says "rtx". State changes are written beside each timeline, application calls
further out. On demand (``ignored=True``), a segment that arrived and changed nothing (the
trace's ``ignored`` rows, docs/trace.md) ends in a purple ⊗ instead of a head, and its
label gets a line with the reason in short (in SVG the whole reason, with the RFC rule,
is the tooltip of the mark and of the label).

Time axis: ``time_axis="linear"`` draws true time. ``"auto"`` (the default) gives every
segment its own row: short gaps are stretched (log scale), and idle gaps of ``gap`` seconds
or more (TIME-WAIT, SYN back-off) are cut out, drawn short with a zig-zag and labelled with
their length ("+59.9 s"). The y labels always give the real times.

Long traces are drawn a window at a time: ``segments=(first, stop)`` (the trace's segment
numbers ``i``, like a slice) or ``tlim=(t0, t1)``; by default at most ``MAX_SEGMENTS`` from
the first, with a note saying how to see the rest. What a student waits for is the PNG, and
with Matplotlib's Agg backend its cost is mostly text (Matplotlib 3.11 lays out and
rasterises every character on its own, tens of µs each): a window keeps a 300-segment trace
as quick to draw as a 50-segment one. See benchmarks/bench_plots.py.

What was drawn is listed in ``ax.tcpsim`` (see ``ladder``) so that tests and notebooks can
check it, and every arrow has the gid ``seg-<i>`` in SVG output.
"""
from __future__ import annotations

import bisect
import math
import re

from ._common import as_trace, isnan, rel
from .scene import Arrow, Frame, Lines, Rect, Scene, Text, draw, to_svg
from .style import (DROP_COLOUR, DROP_MARK, FIG_WIDTH, FONT, IGNORED_COLOUR, IGNORED_MARK,
                    MUTED, flag_label, host_colours, host_order, new_figure)

ROW_IN = 0.42          # inches per row in "auto" mode
SAME_TIME_STEP = 0.55  # rows between segments sent at the same instant by the same host
MIN_STEP, MAX_STEP = 0.7, 1.6
BREAK_STEP = 1.5
X = (0.0, 1.0)         # the two timelines
MAX_SEGMENTS = 50      # segments drawn when ``segments`` is not given
TIMELINE = "#333333"


# ------------------------------------------------------------------------ the time axis
class _TimeAxis:
    """Maps (time, slot) to y. ``slot`` separates segments a host sends at the same instant."""

    def __init__(self, points, mode, gap):
        self.mode = mode
        self.breaks = []           # (y_before, y_after, seconds cut)
        pts = sorted(set(points))
        self.keys, self.ys = [], []
        if mode == "linear":
            return
        times = sorted({p[0] for p in pts})
        dts = [b - a for a, b in zip(times, times[1:]) if b - a > 0]
        dmin = max(min(dts), 1e-6) if dts else 1e-3
        y = 0.0
        prev = None
        for p in pts:
            if prev is not None:
                dt = p[0] - prev[0]
                if dt <= 0:
                    y += SAME_TIME_STEP
                elif dt >= gap:
                    self.breaks.append((y, y + BREAK_STEP, dt))
                    y += BREAK_STEP
                else:
                    y += min(MAX_STEP, MIN_STEP + 0.3 * math.log10(dt / dmin))
            self.keys.append(p)
            self.ys.append(y)
            prev = p
        self.first_y, self.last_y = {}, {}
        for p, yy in zip(self.keys, self.ys):
            self.first_y.setdefault(p[0], yy)
            self.last_y[p[0]] = yy
        self.times = sorted(self.first_y)

    def y(self, t, slot=0):
        """The row of (t, slot); between rows, interpolated between first rows."""
        if self.mode == "linear":
            return float(t)
        k = bisect.bisect_left(self.keys, (t, slot))
        if k < len(self.keys) and self.keys[k] == (t, slot):
            return self.ys[k]
        # interpolate between the first rows of the neighbouring times
        j = bisect.bisect_left(self.times, t)
        if j <= 0:
            return self.first_y[self.times[0]] if self.times else 0.0
        if j >= len(self.times):
            return self.first_y[self.times[-1]]
        t0, t1 = self.times[j - 1], self.times[j]
        y0, y1 = self.first_y[t0], self.first_y[t1]
        return y0 + (y1 - y0) * (t - t0) / (t1 - t0)

    def time_to_y(self, t):
        """The y of time ``t`` (seconds), for a cursor: ``ax.axhline(time_to_y(t))``.

        At a time that has rows, its first row (a segment's send time: the top of its
        arrow, or of the first arrow of a burst sent at that instant). Between rows, the
        time is interpolated from the last row of the earlier instant to the first row of
        the later one, so the cursor passes below every segment already sent, and crosses
        a cut-out idle gap in proportion to its time. Before the first row or after the last
        one, the first or last row. ``time_axis="linear"``: ``t`` itself.
        """
        t = float(t)
        if self.mode == "linear":
            return t
        if not self.times:
            return 0.0
        t = round(t, 9)
        j = bisect.bisect_left(self.times, t)
        if j < len(self.times) and self.times[j] == t:
            return self.first_y[t]
        if j <= 0:
            return self.first_y[self.times[0]]
        if j >= len(self.times):
            return self.last_y[self.times[-1]]
        t0, t1 = self.times[j - 1], self.times[j]
        y0, y1 = self.last_y[t0], self.first_y[t1]
        return y0 + (y1 - y0) * (t - t0) / (t1 - t0)


def _rt(t):
    return None if isnan(t) else round(float(t), 9)


def _fmt_time(t, decimals):
    return f"{t:.{decimals}f}"


def _decimals(times):
    ts = sorted(set(times))
    gaps = [b - a for a, b in zip(ts, ts[1:]) if b - a > 0]
    if not gaps:
        return 3
    g = min(gaps)
    return int(min(6, max(3, math.ceil(-math.log10(g) - 1e-6))))


def _fmt_gap(dt):
    if dt >= 100:
        return f"+{dt:.0f} s"
    return f"+{dt:.1f} s"


# ------------------------------------------------------------------------------ labels
def _options_text(opts, base_peer):
    if not opts:
        return ""
    out = []
    if "mss" in opts:
        out.append(f"mss={opts['mss']}")
    if opts.get("sack_perm"):
        out.append("sackOK")
    if opts.get("ts"):
        out.append(f"TS={opts['ts'][0]}/{opts['ts'][1]}")
    if opts.get("wscale") is not None:
        out.append(f"ws={opts['wscale']}")
    if opts.get("sack"):
        blocks = []
        for left, right in opts["sack"]:
            if base_peer is not None:
                left, right = rel(left, base_peer), rel(right, base_peer)
            blocks.append(f"{left}-{right}")
        out.append("SACK " + ",".join(blocks))
    return " ".join(out)


def segment_label(row, labels="relative", options=False, isns=None):
    """The text on a segment's arrow: ``"PSH,ACK seq=1 ack=1 len=100"``."""
    flags = row.get("flags") or ""
    if labels == "absolute":
        seq, ack = row.get("seq"), row.get("ack")
    else:
        seq, ack = row.get("rel_seq"), row.get("rel_ack")
    parts = [flag_label(flags)]
    if not isnan(seq):
        parts.append(f"seq={int(seq)}")
    if "A" in flags and not isnan(ack):
        parts.append(f"ack={int(ack)}")
    parts.append(f"len={int(row.get('len') or 0)}")
    text = " ".join(parts)
    if row.get("retransmission"):
        text += "  rtx"
    if options:
        # SACK edges acknowledge the peer's data: relative to the peer's ISN
        base = isns.get(row.get("dst")) if labels != "absolute" and isns else None
        o = _options_text(row.get("options") or {}, base)
        if o:
            text += "\n" + o
    return text


def _isns(trace):
    """{host: ISN} per host from the trace (SYN rows win over hosts[] for the first conn)."""
    out = {h: (info or {}).get("isn") for h, info in (trace.hosts or {}).items()}
    for row in trace.doc.get("segments", []):
        if "S" in (row.get("flags") or "") and not row.get("retransmission"):
            out.setdefault(row["src"], row["seq"])
            if out.get(row["src"]) is None:
                out[row["src"]] = row["seq"]
    return out


CALL_TEXT = {"listen": "listen()", "connect": "connect()", "accept": "accept()",
             "send": "send()", "read": "read()", "shutdown": "shutdown()", "close": "close()",
             "abort": "abort()"}


def _call_text(ev):
    call, result = ev.get("call"), ev.get("result")
    name = CALL_TEXT.get(call, f"{call}()")
    if call == "read" and result in (0, "0"):
        return "read() = 0 (EOF)"
    if call in ("read", "send") and isinstance(result, (int, float)) and not isnan(result):
        return f"{name} = {int(result)} B"
    return f"{name} \u2192 {result}"


# ------------------------------------------------------------------- the window drawn
def _end(row):
    """When a segment is done: its arrival, or its send time when it was dropped."""
    return row["t"] if isnan(row.get("arrival")) else row["arrival"]


def _window(rows, segments, tlim):
    """The segments to draw, and the time range (lo, hi) of the states and calls drawn.

    ``rows``: every segment between the two hosts. ``tlim`` keeps those sent in
    [t0, t1]; ``segments=(first, stop)`` those numbered first <= i < stop; ``"all"`` keeps
    everything; ``None`` the first ``MAX_SEGMENTS``. States and calls are drawn from the
    first drawn segment's send time (from the start when none before it is left out) to the
    last drawn segment's arrival (to the end when none after it is left out).
    """
    lo, hi = -math.inf, math.inf
    chosen = rows
    if tlim is not None:
        lo, hi = float(tlim[0]), float(tlim[1])
        if not lo <= hi:
            raise ValueError(f"tlim=({tlim[0]}, {tlim[1]}): t0 must not be after t1")
        chosen = [r for r in rows if lo <= r["t"] <= hi]
    if segments is None:
        picked = chosen[:MAX_SEGMENTS]
    elif isinstance(segments, str):
        if segments != "all":
            raise ValueError("segments must be None, 'all' or (first, stop)")
        picked = chosen
    else:
        first, stop = segments
        first = 0 if first is None else int(first)
        stop = math.inf if stop is None else int(stop)
        picked = [r for r in chosen if first <= r["i"] < stop]
        if chosen and not picked:
            numbers = f"{chosen[0]['i']}..{chosen[-1]['i']}"
            raise ValueError(f"segments=({first}, {segments[1]}) selects none of the "
                             f"segments drawable (i = {numbers})")
    if picked and picked[0] is not chosen[0]:
        lo = max(lo, picked[0]["t"])
    if picked and picked[-1] is not chosen[-1]:
        hi = min(hi, max(_end(r) for r in picked))
    return picked, (lo, hi)


def _window_note(picked, rows):
    """The note under a ladder that leaves segments out (None when all are drawn)."""
    total = len(rows)
    if len(picked) == total:
        return None
    if not picked:
        return f"no segment in this time range ({total} in the trace)"
    first, last = picked[0]["i"], picked[-1]["i"]
    text = f"segments {first}\u2013{last} of {total} drawn; pass "
    if last < rows[-1]["i"]:
        text += f"segments=({last + 1}, {last + 1 + MAX_SEGMENTS}) for the next ones"
    else:
        text += f"segments=({max(rows[0]['i'], first - MAX_SEGMENTS)}, {first}) " \
                "for the previous ones"
    return text + ", segments='all' for all"


def _state_at(states, host, t):
    """The state ``host`` is in just before time ``t`` (its first state when t is -inf)."""
    before = [r for r in states if r["host"] == host and r["t"] < t]
    if before:
        return before[-1]["to"]
    first = next((r for r in states if r["host"] == host), None)
    return first["from"] if first is not None else None


# ----------------------------------------------------------------------- the main call
def ladder(trace, ax=None, labels="relative", options=False, hosts=None, time_axis="auto",
           gap=2.0, reads=False, title=True, segments=None, tlim=None, ignored=False,
           conn=None):
    """Draw the ladder diagram of ``trace``.

    labels: ``"relative"`` (Wireshark-style relative seq/ack) or ``"absolute"``.
    options: also write each segment's TCP options (a second line).
    hosts: the two host names, left one first (default: the trace's order).
    time_axis: ``"auto"`` (rows, long idle gaps cut out) or ``"linear"``.
    gap: in ``"auto"`` mode, idle gaps of at least this many seconds are cut.
    reads: also mark the application's ``read`` events that returned data (EOF and errors
    are always marked).
    segments: ``(first, stop)``: draw the segments numbered ``first <= i < stop`` (the
    trace's ``i``, as in ``trace.segments.iloc[first:stop]``; ``None`` for an open end);
    ``"all"``: every one; ``None`` (default): the first ``MAX_SEGMENTS`` (50). When some are
    left out, a note at the bottom says which are drawn and how to see the others.
    tlim: ``(t0, t1)``: only the segments sent from t0 to t1 (and the states and calls in
    that time); combined with ``segments`` when both are given.
    ignored: also show the segments that arrived and changed nothing (``trace.ignored``):
    the arrow ends in a purple ⊗ and its label says why, in short. Off by default.
    conn: draw only connection ``conn`` (``plots.connection_trace``; its segments are
    numbered from 0, so ``segments`` counts within it).

    Returns the Figure (or ``ax`` when one was given). ``ax.tcpsim`` is a dict:
    ``arrows`` {segment i: FancyArrowPatch}, ``drops`` {i: the ✗ Text}, ``labels``
    {i: Text}, ``ignored`` {i: the ⊗ Text} (empty unless ``ignored``), ``gaps`` [Text "+59.9 s"], ``states`` [Text], ``calls`` [Text], ``times``
    [Text], ``note`` (Text or None), ``window`` (first, stop) of the segments drawn (None
    when none is), ``total`` (segments in the trace), ``segment_y`` {i: (y at the send,
    y at the arrival or the ✗)}, ``time_to_y`` (a function: the y of a time, for a cursor
    line), ``time_axis``, ``scene`` (the ``LadderScene`` drawn: ``ladder_svg`` draws the
    same one as SVG).
    """
    axes_in = None
    if ax is not None:
        bbox = ax.get_position()
        axes_in = (bbox.width * ax.figure.get_figwidth(), bbox.height * ax.figure.get_figheight())
    layout = ladder_scene(trace, labels=labels, options=options, hosts=hosts,
                          time_axis=time_axis, gap=gap, reads=reads, title=title,
                          segments=segments, tlim=tlim, axes_in=axes_in, ignored=ignored,
                          conn=conn)
    scene = layout.scene
    created = ax is None
    if created:
        fig = new_figure(scene.height_in, scene.width_in)
        left, bottom, width, height = scene.axes
        fig.subplots_adjust(left=left, right=left + width, bottom=bottom, top=bottom + height)
        ax = fig.add_subplot(1, 1, 1)
    artists = draw(scene, ax)
    reg = {"arrows": {}, "drops": {}, "labels": {}, "ignored": {}, "gaps": [], "states": [], "calls": [],
           "times": [], "note": None, "window": layout.window, "total": layout.total,
           "segment_y": layout.segment_y, "time_to_y": layout.axis.time_to_y,
           "time_axis": layout.axis, "scene": layout}
    for (role, key), artist in zip(layout.roles, artists):
        if role in ("arrows", "drops", "labels", "ignored"):
            reg[role][key] = artist
        elif role == "note":
            reg["note"] = artist
        elif role is not None:
            reg[role].append(artist)
    ax.tcpsim = reg
    return ax.figure if created else ax


def ladder_svg(trace, **options) -> str:
    """The same ladder as ``ladder(trace, **options)``, written directly as SVG text (text
    as text): the same scene, so the same positions, labels and colours, in a millisecond
    or two instead of Matplotlib's tens. What the widgets show."""
    return to_svg(ladder_scene(trace, **options).scene)


class LadderScene:
    """A ladder as geometry: ``scene`` (a ``tcpsim.plots.scene.Scene``), ``roles`` (what
    each item is: ``(role, key)`` aligned with ``scene.items``), ``axis`` (the time axis:
    ``axis.time_to_y(t)``), ``segment_y``, ``window``, ``total``, ``header_px`` (the pixel
    rows above the Axes: title and host names)."""

    def __init__(self, scene, roles, axis, segment_y, window, total):
        self.scene, self.roles, self.axis = scene, roles, axis
        self.segment_y, self.window, self.total = segment_y, window, total

    @property
    def header_px(self) -> int:
        return int(self.scene.axes_pixels()[1])

    def row_of(self, t) -> float:
        """The pixel row (from the top) of time ``t``: where a cursor line goes."""
        return self.scene.to_pixels(0, self.axis.time_to_y(t))[1]


def ladder_scene(trace, labels="relative", options=False, hosts=None, time_axis="auto",
                 gap=2.0, reads=False, title=True, segments=None, tlim=None,
                 axes_in=None, ignored=False, conn=None) -> LadderScene:
    """The ladder's geometry (arguments as ``ladder``); ``axes_in``: (width, height) of the
    Axes in inches when drawing on a given Axes (default: the ladder's own figure)."""
    if labels not in ("relative", "absolute"):
        raise ValueError("labels must be 'relative' or 'absolute'")
    if time_axis not in ("auto", "linear"):
        raise ValueError("time_axis must be 'auto' or 'linear'")
    trace = as_trace(trace)
    if conn is not None:      # one connection of several (tcpsim/plots/connections.py)
        from .connections import connection_trace
        trace = connection_trace(trace, conn)
    names = host_order(trace, hosts)
    if len(names) < 2:
        raise ValueError("a ladder needs two hosts")
    left, right = names[0], names[1]
    xpos = {left: X[0], right: X[1]}
    colours = host_colours(trace, names)
    rows = [r for r in trace.doc.get("segments", [])
            if r.get("src") in xpos and r.get("dst") in xpos]
    segs, (t_lo, t_hi) = _window(rows, segments, tlim)
    note = _window_note(segs, rows)
    all_states = [r for r in trace.doc.get("states", []) if r.get("host") in xpos]
    states = [r for r in all_states if t_lo <= r["t"] <= t_hi]
    events = [r for r in trace.doc.get("events", [])
              if r.get("host") in xpos and t_lo <= r["t"] <= t_hi]
    if not reads:
        events = [e for e in events
                  if not (e.get("call") == "read" and isinstance(e.get("result"), (int, float))
                          and e.get("result") not in (0,))]
    isns = _isns(trace)

    # --- slots: segments a host sends at the same instant get separate rows
    slots, seen = [], {}
    for r in segs:
        key = (r["src"], _rt(r["t"]))
        slots.append(seen.get(key, 0))
        seen[key] = seen.get(key, 0) + 1
    delays = sorted(_rt(r["arrival"]) - _rt(r["t"]) for r in (segs or rows)
                    if not isnan(r.get("arrival")))
    typical_delay = delays[len(delays) // 2] if delays else 0.0
    points = []
    for r, s in zip(segs, slots):
        points.append((_rt(r["t"]), s))
        if not isnan(r.get("arrival")):
            points.append((_rt(r["arrival"]), s))
        else:   # a dropped segment gets a row for where it would have arrived
            points.append((_rt(r["t"] + typical_delay), s))
    points += [(_rt(r["t"]), 0) for r in states] + [(_rt(e["t"]), 0) for e in events]
    if not points:
        points = [(0.0 if math.isinf(t_lo) else _rt(t_lo), 0)]
    axis = _TimeAxis(points, time_axis, gap)

    ys_all = [axis.y(*p) for p in points]
    y_top, y_bottom = min(ys_all), max(ys_all)
    if time_axis == "auto":
        span = (y_bottom - y_top) + 2.2 + (0.8 if note else 0.0)
        height = min(max(4.0, span * ROW_IN + 1.3), 200.0)
    else:
        height = min(max(4.0, 0.3 * len(segs) + 1.8), 30.0)
    axes = (0.10, 0.25 / height, 0.985 - 0.10, 1 - 0.85 / height - 0.25 / height)
    if axes_in is None:
        axes_in = (axes[2] * FIG_WIDTH, axes[3] * height)
    ax_w_in, ax_h_in = axes_in

    xlim = (-0.78, 1.78)
    pad = 1.1 if time_axis == "auto" else max(typical_delay, (y_bottom - y_top) * 0.03, 1e-4)
    ylim = (y_bottom + pad + (0.8 if note else 0.0) * (1 if time_axis == "auto" else pad),
            y_top - pad)
    in_per_x = ax_w_in / (xlim[1] - xlim[0])
    in_per_y = ax_h_in / abs(ylim[0] - ylim[1])

    scene = Scene(FIG_WIDTH, height, axes, xlim, ylim)
    roles = []

    def put(item, role=None, key=None):
        scene.add(item)
        roles.append((role, key))

    segment_y = {}
    reasons = _ignored_reasons(trace, segs) if ignored else {}
    _draw_timelines(put, axis, names, xpos, xlim, ylim)
    _draw_hosts(put, trace, names, xpos, colours)
    state_boxes = _state_boxes(states, axis, names, xpos, in_per_x, in_per_y)
    _draw_segments(put, segs, slots, axis, xpos, colours, labels, options, isns,
                   time_axis, typical_delay, in_per_x, in_per_y, segment_y, reasons,
                   state_boxes)
    if reasons:
        _draw_ignored(put, segs, reasons, xpos, segment_y)

    # --- state names beside each timeline, application calls further out
    ticks_by_colour = {}

    def side_column(items, x, ha, min_sep_in, role):
        """items: [(y, text, kw)] -> Texts, pushed down so none overlap, and pulled back in
        where a long one (``read() → ECONNRESET``) would run past the picture's edge."""
        last = None
        char_w = 0.6 * FONT["small"] / 72           # inches per character, as the labels
        for y, text, kw in sorted(items, key=lambda it: it[0]):
            yy = y if last is None else max(y, last + min_sep_in / in_per_y)
            width = (max(len(line) for line in text.split("\n")) * char_w + 0.05) / in_per_x
            tx = min(x, xlim[1] - width) if ha == "left" else max(x, xlim[0] + width)
            put(Text(tx, yy, text, ha=ha, va="center", zorder=5, **kw), role)
            if abs(yy - y) > 1e-9:     # pushed down: a thin line back to where it happened
                lx = x + (-0.01 if ha == "left" else 0.01)
                ticks_by_colour.setdefault((MUTED, 0.6), []).append(((lx, y), (lx, yy)))
            last = yy

    for h in names:
        side = -1 if h == left else 1
        x = xpos[h]
        ha = "right" if side < 0 else "left"
        items = []
        first_state = _state_at(all_states, h, t_lo)
        if first_state is not None:
            items.append((y_top - 0.55 * (1 if time_axis == "auto" else pad), first_state,
                          dict(size=FONT["small"], colour=MUTED, weight="bold")))
        for r in states:
            if r["host"] != h:
                continue
            y = axis.y(_rt(r["t"]), 0)
            items.append((y, r["to"], dict(size=FONT["small"], colour=colours[h], weight="bold",
                                           frame=Frame("white", colours[h], 0.8, pad=0.2))))
            ticks_by_colour.setdefault((colours[h], 2.2), []).append(
                ((x - 0.025, y), (x + 0.025, y)))
        side_column(items, x + side * 0.05, ha, 0.24, "states")
        calls = [(axis.y(_rt(e["t"]), 0), _call_text(e),
                  dict(size=FONT["small"], colour="#333333", style="italic"))
                 for e in events if e["host"] == h]
        side_column(calls, x + side * 0.40, ha, 0.2, "calls")
    for (colour, lw), lines in ticks_by_colour.items():   # one collection per colour
        put(Lines(tuple(lines), colour, lw, zorder=4 if lw > 1 else 2))

    _draw_time_labels(put, segs, slots, axis, time_axis, in_per_y, ylim, ax_w_in)
    if note:
        put(Text(0.5, 0.004, note, size=FONT["small"], colour="#444444", style="italic",
                 coords="axes", va="bottom", zorder=6, gid="window-note",
                 frame=Frame("#F2F2F2", None, pad=0.3)), "note")
    # the left spine, light grey
    put(Lines((((0, 0), (0, 1)),), "#BBBBBB", 0.8, cap="projecting", coords="axes",
              zorder=2.5, clip=False))
    if title and trace.name:
        put(Text(0, 1, str(trace.name), size=FONT["title"], ha="left", va="baseline",
                 coords="axes", offset_pt=(0, 40), zorder=3, title=True))
    window = (segs[0]["i"], segs[-1]["i"] + 1) if segs else None
    return LadderScene(scene, roles, axis, segment_y, window, len(rows))


# --------------------------------------------------------------------- the parts drawn
def _draw_timelines(put, axis, names, xpos, xlim, ylim):
    """The host timelines, broken where idle gaps are cut out (zig-zag, grey band, "+60 s")."""
    cuts = [(a, b) for a, b, _ in axis.breaks]
    pieces, start = [], ylim[1]
    for a, b in cuts:
        pieces.append((start, a + 0.25))
        start = b - 0.25
    pieces.append((start, ylim[0]))
    solid, dotted, zigzags = [], [], []
    for h in names:
        x = xpos[h]
        solid += [((x, a), (x, b)) for a, b in pieces]
        dotted += [((x, a + 0.25), (x, b - 0.25)) for a, b in cuts]
    for k, (a, b, dt) in enumerate(axis.breaks):
        mid = (a + b) / 2
        put(Rect(xlim[0], a + 0.35, xlim[1] - xlim[0], b - a - 0.7, "#F2F2F2", zorder=0))
        for h in names:          # the zig-zag "broken axis" mark on each timeline
            x = xpos[h]
            zx = [x - 0.035, x - 0.012, x + 0.012, x + 0.035]
            for dy in (-0.12, 0.12):
                zy = [mid + dy + 0.08, mid + dy - 0.08, mid + dy + 0.08, mid + dy - 0.08]
                zigzags.append(tuple(zip(zx, zy)))
        put(Text(0.5, mid, _fmt_gap(dt) + " (idle, not to scale)", size=FONT["small"],
                 colour="#444444", style="italic", gid=f"gap-{k}", zorder=5,
                 frame=Frame("#F2F2F2", None, pad=0.25)), "gaps")
    put(Lines(tuple(solid), TIMELINE, 1.6, zorder=1))
    if dotted:
        put(Lines(tuple(dotted), TIMELINE, 1.2, dash_pt=(1.2, 2.4), cap="butt", zorder=1))
    if zigzags:
        put(Lines(tuple(zigzags), TIMELINE, 1.3, join="round", zorder=4))


def _draw_hosts(put, trace, names, xpos, colours):
    """Each host's name above its timeline, its address:port under the name."""
    for h in names:
        info = (trace.hosts or {}).get(h) or {}
        sub = ":".join(str(v) for v in (info.get("addr"), info.get("port")) if v is not None)
        put(Text(xpos[h], 1.0, h, size=FONT["label"] + 1, colour=colours[h], weight="bold",
                 va="bottom", coords="xaxis", offset_pt=(0, 17)))
        if sub:
            put(Text(xpos[h], 1.0, sub, size=FONT["small"], colour="#444444", va="bottom",
                     coords="xaxis", offset_pt=(0, 3)))


# label positions tried along an arrow: (fraction of the way, shift in label heights)
_LABEL_SPOTS = ((0.5, 0), (0.3, 0), (0.7, 0), (0.5, -1), (0.5, 1), (0.3, -1), (0.7, 1),
                (0.3, 1), (0.7, -1), (0.5, -2), (0.5, 2))
_DROPPED_SPOTS = ((0.45, -1.2), (0.45, 1.2), (0.3, -1.2), (0.3, 1.2), (0.5, -2.2), (0.5, 0))


def _state_boxes(states, axis, names, xpos, in_per_x, in_per_y) -> tuple:
    """(box centre ys, boxes): where the state names beside the timelines will be, in inches
    (x0, x1, y0, y1), sorted by their centre's y, estimated as the labels' boxes are; the
    segment labels keep out of them. (A name pushed down by the one above it is placed at
    the time of its change here, which is where it usually is.)"""
    char_w = 0.66 * FONT["small"] / 72     # bold
    height = 1.25 * FONT["small"] / 72 + 0.1
    boxes = []
    for r in states:
        h = r["host"]
        side = -1 if h == names[0] else 1
        x = (xpos[h] + side * 0.05) * in_per_x
        w = len(r["to"]) * char_w + 0.12
        cy = axis.y(_rt(r["t"]), 0) * in_per_y
        x0, x1 = (x - w, x) if side < 0 else (x, x + w)
        boxes.append((cy, (x0, x1, cy - height / 2, cy + height / 2)))
    boxes.sort(key=lambda item: item[0])
    return [cy for cy, _ in boxes], [box for _, box in boxes]


def _overlap(box, others) -> float:
    """The area that ``box`` shares with the boxes ``others`` (x0, x1, y0, y1), in square inches."""
    return sum(max(0.0, min(box[1], b[1]) - max(box[0], b[0])) *
               max(0.0, min(box[3], b[3]) - max(box[2], b[2])) for b in others)


def _draw_segments(put, segs, slots, axis, xpos, colours, labels, options, isns, time_axis,
                   typical_delay, in_per_x, in_per_y, segment_y, ignored=None,
                   state_boxes=((), ())):
    """One arrow per segment, its label, a ✗ where a dropped one was lost; no head on the
    arrows of ``ignored`` segments ({i: reason}: ``_draw_ignored`` ends them in a ⊗).

    Labels are placed with estimated sizes (characters x average width), never measured:
    measuring text costs as much as drawing it. A label keeps out of the other labels and
    of the state names beside the timelines (``state_boxes``, from ``_state_boxes``).
    """
    placed = []     # label boxes in inches (x0, x1, y0, y1), to avoid overlaps
    state_ys, state_rects = state_boxes
    dys = [axis.y(_rt(r["arrival"]), s) - axis.y(_rt(r["t"]), s)
           for r, s in zip(segs, slots) if not isnan(r.get("arrival"))]
    typical_dy = sorted(dys)[len(dys) // 2] if dys else (MIN_STEP if time_axis == "auto"
                                                          else typical_delay)
    char_w = 0.6 * FONT["small"] / 72      # inches per character (DejaVu Sans, approx.)
    line_h = 1.25 * FONT["small"] / 72
    for r, s in zip(segs, slots):
        i = r.get("i")
        x0, x1 = xpos[r["src"]], xpos[r["dst"]]
        y0 = axis.y(_rt(r["t"]), s)
        dropped = bool(r.get("dropped")) or isnan(r.get("arrival"))
        colour = colours[r["src"]]
        if dropped:
            xe, ye = (x0 + x1) / 2, y0 + max(typical_dy, 1e-9) / 2
        else:
            xe, ye = x1, axis.y(_rt(r["arrival"]), s)
        segment_y[i] = (y0, ye)
        rtx = bool(r.get("retransmission"))
        put(Arrow((x0, y0), (xe, ye), colour, 1.5, dash_pt=(7.5, 4.5) if rtx else None,
                  head=not dropped and not (ignored and i in ignored), zorder=3,
                  gid=f"seg-{i}"), "arrows", i)
        if dropped:
            put(Text(xe, ye, DROP_MARK, size=17, colour=DROP_COLOUR, weight="bold", zorder=7,
                     gid=f"drop-{i}"), "drops", i)
        # label: try points along the arrow, keep the first that overlaps nothing
        text = segment_label(r, labels, options, isns)
        if ignored and i in ignored:     # a line more: why it changed nothing
            text += f"\n{IGNORED_MARK} ignored: {short_reason(ignored[i])}"
        lines = text.split("\n")
        w = max(len(line) for line in lines) * char_w + 0.08
        hgt = len(lines) * line_h + 0.05
        best = None
        own = []     # an ignored segment's own ⊗ at its arrival: the label keeps off it too
        if ignored and i in ignored:
            mx, my, half = xe * in_per_x, ye * in_per_y, 0.09
            own = [(mx - half, mx + half, my - half, my + half)]
        for f, shift in (_DROPPED_SPOTS if dropped else _LABEL_SPOTS):
            lx, ly = x0 + (xe - x0) * f, y0 + (ye - y0) * f
            ly += shift * (hgt / 2 + 0.03) / in_per_y
            cx, cy = lx * in_per_x, ly * in_per_y
            box = (cx - w / 2, cx + w / 2, cy - hgt / 2, cy + hgt / 2)
            lo, hi = min(box[2], box[3]) - 0.3, max(box[2], box[3]) + 0.3
            near = state_rects[bisect.bisect_left(state_ys, lo):bisect.bisect_right(state_ys, hi)]
            overlap = _overlap(box, placed[-40:]) + _overlap(box, near) + _overlap(box, own)
            if best is None or overlap < best[3] - 1e-12:
                best = (lx, ly, box, overlap)
            if overlap == 0:
                break
        lx, ly, box, _ = best
        ha = "center"
        if dropped:   # past the ✗, where the arrow would have gone: never over the mark
            direction = 1 if x1 > x0 else -1
            lx, ly, ha = xe + direction * 0.035, ye, ("left" if direction > 0 else "right")
            text = text.replace("\n", "  (dropped)\n", 1) if "\n" in text else text + "  (dropped)"
            bx = lx * in_per_x
            box = (bx, bx + w, ly * in_per_y - hgt / 2, ly * in_per_y + hgt / 2) if direction > 0 \
                else (bx - w, bx, ly * in_per_y - hgt / 2, ly * in_per_y + hgt / 2)
        placed.append(box)
        put(Text(lx, ly, text, size=FONT["small"], colour="#111111", ha=ha, zorder=5,
                 gid=f"label-{i}", linespacing=1.1, tooltip=ignored.get(i) if ignored else None,
                 frame=Frame("white", colour, 0.6, pad=0.15, alpha=0.92)), "labels", i)


def _ignored_reasons(trace, segs) -> dict:
    """{segment i: reason} for the drawn segments that the trace's ``ignored`` rows name
    (a duplicated segment ignored twice: both reasons, once each)."""
    drawn = {r.get("i") for r in segs}
    reasons = {}
    for row in trace.doc.get("ignored", []) or []:
        i = row.get("segment")
        if i in drawn:
            said = reasons.setdefault(i, [])
            if row.get("reason") not in said:
                said.append(row.get("reason"))
    return {i: "; ".join(str(r) for r in said) for i, said in reasons.items()}


def short_reason(reason) -> str:
    """An ignored segment's reason without its citations: "outside the receive window (RFC
    9293 §3.10.7.4 first check): ACK sent" -> "outside the receive window: ACK sent"."""
    return re.sub(r"\s*\([^()]*\)", "", str(reason)).strip()


def _draw_ignored(put, segs, reasons, xpos, segment_y):
    """A ⊗ where each ignored segment arrived (its label says why: ``_draw_segments``);
    the whole reason, citations and all, is the mark's SVG tooltip."""
    for r in segs:
        i = r.get("i")
        if i in reasons:
            put(Text(xpos[r["dst"]], segment_y[i][1], IGNORED_MARK, size=15,
                     colour=IGNORED_COLOUR, weight="bold", zorder=7, gid=f"ignored-{i}",
                     tooltip=f"ignored: {reasons[i]}"), "ignored", i)


def _draw_time_labels(put, segs, slots, axis, time_axis, in_per_y, ylim, ax_w_in):
    """The real send times on the left: one number per instant, a tick per row.

    Segments sent at the same instant (a burst) share one number; a thin bracket joins
    their ticks. Each character drawn costs time, and ten "0.050" said nothing more.
    In ``"linear"`` mode: round times, evenly spaced.
    """
    if time_axis != "auto":
        from matplotlib.ticker import MaxNLocator
        lo, hi = sorted(ylim)
        values = [v for v in MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
                  if lo <= v <= hi]
        out_tick = 3 / 72 / ax_w_in        # 3 points outside the Axes
        put(Lines(tuple(((0, v), (-out_tick, v)) for v in values), "#444444", 0.8,
                  cap="butt", coords="yaxis", clip=False))
        for v in values:
            put(Text(0, v, f"{v:g}", size=FONT["tiny"], colour="#444444", ha="right",
                     coords="yaxis", offset_pt=(-5, 0)), "times")
        put(Text(0, 0.5, "time (s)  \u2193", size=FONT["text"], rotation=90, va="bottom",
                 coords="axes", offset_pt=(-36, 0)))
        return
    rows_at = {}                 # send time -> the ys of the rows sent then
    for r, s in zip(segs, slots):
        t = _rt(r["t"])
        rows_at.setdefault(t, []).append(axis.y(t, s))
    dec = _decimals(list(rows_at))
    ticks, brackets, texts, last = [], [], [], None
    for t in sorted(rows_at, key=lambda t_: min(rows_at[t_])):
        ys = sorted(set(rows_at[t]))
        ticks += ys
        if len(ys) > 1:
            brackets.append(((0.003, ys[0]), (0.003, ys[-1])))
        y = ys[0]
        if last is not None and (y - last) * in_per_y < 0.17:
            continue
        texts.append((y, _fmt_time(t, dec)))
        last = y
    for y, lab in texts:
        put(Text(-0.008, y, lab, size=FONT["tiny"], colour="#444444", ha="right",
                 coords="yaxis"), "times")
    if ticks or brackets:
        put(Lines(tuple(((0, y), (0.006, y)) for y in ticks) + tuple(brackets), "#BBBBBB",
                  0.8, coords="yaxis"))
    put(Text(0, 0.5, "send time (s)  \u2193", size=FONT["text"], rotation=90, va="bottom",
             coords="axes", offset_pt=(-42, 0)))
