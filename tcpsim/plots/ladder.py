"""The ladder (sequence, time-line) diagram: two host timelines, time running down.

Every segment is one arrow from its sender's timeline at its send time to the receiver's
timeline at its arrival time. A dropped segment stops halfway with a red ✗; a retransmission
is dashed and says "rtx". State changes are written beside each timeline, application calls
further out.

Time axis: ``time_axis="linear"`` draws true time. ``"auto"`` (the default) gives every
segment its own row: short gaps are stretched (log scale), and idle gaps of ``gap`` seconds
or more (TIME-WAIT, SYN back-off) are cut out, drawn short with a zig-zag and labelled with
their length ("+59.9 s"). The y labels always give the real times.

What was drawn is listed in ``ax.tcpsim`` (see ``ladder``) so that tests and notebooks can
check it, and every arrow has the gid ``seg-<i>`` in SVG output.
"""
from __future__ import annotations

import bisect
import math

from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Rectangle

from ._common import as_trace, get_ax, isnan, rel
from .style import (DROP_COLOUR, DROP_MARK, FIG_WIDTH, FONT, FONT_FAMILY, MUTED, flag_label,
                    host_colours, host_order)

ROW_IN = 0.42          # inches per row in "auto" mode
SAME_TIME_STEP = 0.55  # rows between segments sent at the same instant by the same host
MIN_STEP, MAX_STEP = 0.7, 1.6
BREAK_STEP = 1.5
X = (0.0, 1.0)         # the two timelines


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
        self.first_y = {}
        for p, yy in zip(self.keys, self.ys):
            self.first_y.setdefault(p[0], yy)
        self.times = sorted(self.first_y)

    def y(self, t, slot=0):
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


# ----------------------------------------------------------------------- the main call
def ladder(trace, ax=None, labels="relative", options=False, hosts=None, time_axis="auto",
           gap=2.0, reads=False, title=True):
    """Draw the ladder diagram of ``trace``.

    labels: ``"relative"`` (Wireshark-style relative seq/ack) or ``"absolute"``.
    options: also write each segment's TCP options (a second line).
    hosts: the two host names, left one first (default: the trace's order).
    time_axis: ``"auto"`` (rows, long idle gaps cut out) or ``"linear"``.
    gap: in ``"auto"`` mode, idle gaps of at least this many seconds are cut.
    reads: also mark the application's ``read`` events that returned data (EOF and errors
    are always marked).

    Returns the Figure (or ``ax`` when one was given). ``ax.tcpsim`` is a dict:
    ``arrows`` {segment i: FancyArrowPatch}, ``drops`` {i: the ✗ Text}, ``labels``
    {i: Text}, ``gaps`` [Text "+59.9 s"], ``states`` [Text], ``calls`` [Text].
    """
    if labels not in ("relative", "absolute"):
        raise ValueError("labels must be 'relative' or 'absolute'")
    if time_axis not in ("auto", "linear"):
        raise ValueError("time_axis must be 'auto' or 'linear'")
    trace = as_trace(trace)
    names = host_order(trace, hosts)
    if len(names) < 2:
        raise ValueError("a ladder needs two hosts")
    left, right = names[0], names[1]
    xpos = {left: X[0], right: X[1]}
    colours = host_colours(trace, names)
    segs = [r for r in trace.doc.get("segments", [])
            if r.get("src") in xpos and r.get("dst") in xpos]
    states = [r for r in trace.doc.get("states", []) if r.get("host") in xpos]
    events = [r for r in trace.doc.get("events", []) if r.get("host") in xpos]
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
    delays = sorted(_rt(r["arrival"]) - _rt(r["t"]) for r in segs if not isnan(r.get("arrival")))
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
        points = [(0.0, 0)]
    axis = _TimeAxis(points, time_axis, gap)

    ys_all = [axis.y(*p) for p in points]
    y_top, y_bottom = min(ys_all), max(ys_all)
    if time_axis == "auto":
        span = (y_bottom - y_top) + 2.2
        height = min(max(4.0, span * ROW_IN + 1.3), 200.0)
        row_in = ROW_IN
    else:
        height = min(max(4.0, 0.3 * len(segs) + 1.8), 30.0)
        row_in = None
    created = ax is None
    fig, ax = get_ax(ax, height)
    if created:
        fig.subplots_adjust(left=0.10, right=0.985, top=1 - 0.85 / height,
                            bottom=0.25 / height)
    bbox = ax.get_position()
    ax_w_in = bbox.width * fig.get_figwidth()
    ax_h_in = bbox.height * fig.get_figheight()

    xlim = (-0.78, 1.78)
    pad = 1.1 if time_axis == "auto" else max(typical_delay, (y_bottom - y_top) * 0.03, 1e-4)
    ylim = (y_bottom + pad, y_top - pad)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    in_per_x = ax_w_in / (xlim[1] - xlim[0])
    in_per_y = ax_h_in / abs(ylim[0] - ylim[1])
    if row_in is None:
        row_in = in_per_y * (typical_delay or 1.0)

    reg = {"arrows": {}, "drops": {}, "labels": {}, "gaps": [], "states": [], "calls": [],
           "time_axis": axis}
    ax.tcpsim = reg

    # --- timelines, with breaks
    cuts = [(a, b) for a, b, _ in axis.breaks]
    pieces, start = [], ylim[1]
    for a, b in cuts:
        pieces.append((start, a + 0.25))
        start = b - 0.25
    pieces.append((start, ylim[0]))
    for h in names:
        x = xpos[h]
        for a, b in pieces:
            ax.add_line(Line2D([x, x], [a, b], color="#333333", lw=1.6, zorder=1))
        for a, b in cuts:
            ax.add_line(Line2D([x, x], [a + 0.25, b - 0.25], color="#333333", lw=1.2,
                               ls=(0, (1, 2)), zorder=1))
    for k, (a, b, dt) in enumerate(axis.breaks):
        mid = (a + b) / 2
        ax.add_patch(Rectangle((xlim[0], a + 0.35), xlim[1] - xlim[0], b - a - 0.7,
                               facecolor="#F2F2F2", edgecolor="none", zorder=0))
        for h in names:          # the zig-zag "broken axis" mark on each timeline
            x = xpos[h]
            zx = [x - 0.035, x - 0.012, x + 0.012, x + 0.035]
            for dy in (-0.12, 0.12):
                zy = [mid + dy + 0.08, mid + dy - 0.08, mid + dy + 0.08, mid + dy - 0.08]
                ax.add_line(Line2D(zx, zy, color="#333333", lw=1.3, zorder=4))
        txt = ax.text(0.5, mid, _fmt_gap(dt) + " (idle, not to scale)", ha="center", va="center",
                      fontsize=FONT["small"], family=FONT_FAMILY, color="#444444",
                      style="italic", gid=f"gap-{k}", zorder=5,
                      bbox=dict(boxstyle="round,pad=0.25", fc="#F2F2F2", ec="none"))
        reg["gaps"].append(txt)

    # --- host headers
    for h in names:
        info = (trace.hosts or {}).get(h) or {}
        sub = ":".join(str(v) for v in (info.get("addr"), info.get("port")) if v is not None)
        ax.annotate(h, xy=(xpos[h], 1.0), xycoords=("data", "axes fraction"), xytext=(0, 17),
                    textcoords="offset points", ha="center", va="bottom", color=colours[h],
                    fontsize=FONT["label"] + 1, fontweight="bold", family=FONT_FAMILY,
                    annotation_clip=False)
        if sub:
            ax.annotate(sub, xy=(xpos[h], 1.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                        color="#444444", fontsize=FONT["small"], family=FONT_FAMILY,
                        annotation_clip=False)

    # --- segments
    placed = []     # label boxes in inches (x0, x1, y0, y1), to avoid overlaps
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
        rtx = bool(r.get("retransmission"))
        arrow = FancyArrowPatch((x0, y0), (xe, ye), arrowstyle="-" if dropped else "-|>",
                                mutation_scale=13, lw=1.5, color=colour,
                                linestyle=(0, (5, 3)) if rtx else "-", shrinkA=0, shrinkB=0,
                                zorder=3, gid=f"seg-{i}")
        ax.add_artist(arrow)      # add_artist: limits are set by hand, skip autoscale work
        reg["arrows"][i] = arrow
        if dropped:
            mark = ax.text(xe, ye, DROP_MARK, ha="center", va="center", color=DROP_COLOUR,
                           fontsize=17, fontweight="bold", family=FONT_FAMILY, zorder=7,
                           gid=f"drop-{i}")
            reg["drops"][i] = mark
        # label: try points along the arrow, keep the first that overlaps nothing
        text = segment_label(r, labels, options, isns)
        lines = text.split("\n")
        w = max(len(line) for line in lines) * char_w + 0.08
        hgt = len(lines) * line_h + 0.05
        fracs = ((0.5, 0), (0.3, 0), (0.7, 0), (0.5, -1), (0.5, 1), (0.3, -1), (0.7, 1),
                 (0.3, 1), (0.7, -1), (0.5, -2), (0.5, 2))
        if dropped:
            fracs = ((0.45, -1.2), (0.45, 1.2), (0.3, -1.2), (0.3, 1.2), (0.5, -2.2), (0.5, 0))
        best = None
        for f, shift in fracs:
            lx, ly = x0 + (xe - x0) * f, y0 + (ye - y0) * f
            ly += shift * (hgt / 2 + 0.03) / in_per_y
            cx, cy = lx * in_per_x, ly * in_per_y
            box = (cx - w / 2, cx + w / 2, cy - hgt / 2, cy + hgt / 2)
            overlap = sum(max(0.0, min(box[1], b[1]) - max(box[0], b[0])) *
                          max(0.0, min(box[3], b[3]) - max(box[2], b[2])) for b in placed[-40:])
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
        lab = ax.text(lx, ly, text, ha=ha, va="center", fontsize=FONT["small"],
                      family=FONT_FAMILY, color="#111111", zorder=5, gid=f"label-{i}",
                      linespacing=1.1,
                      bbox=dict(boxstyle="round,pad=0.15", fc="white", ec=colour, lw=0.6,
                                alpha=0.92))
        reg["labels"][i] = lab

    # --- state names beside each timeline, application calls further out
    def side_column(items, x, ha, min_sep_in):
        """items: [(y, text, kw)] -> Text artists, pushed down so none overlap."""
        out, last = [], None
        for y, text, kw in sorted(items, key=lambda it: it[0]):
            yy = y if last is None else max(y, last + min_sep_in / in_per_y)
            t = ax.text(x, yy, text, ha=ha, va="center", family=FONT_FAMILY, zorder=5, **kw)
            if abs(yy - y) > 1e-9:
                lx = x + (-0.01 if ha == "left" else 0.01)
                ax.add_line(Line2D([lx, lx], [y, yy], color=MUTED, lw=0.6, zorder=2))
            last = yy
            out.append(t)
        return out

    for h in names:
        side = -1 if h == left else 1
        x = xpos[h]
        ha = "right" if side < 0 else "left"
        items = []
        first = next((r for r in states if r["host"] == h), None)
        if first is not None:
            items.append((y_top - 0.55 * (1 if time_axis == "auto" else pad), first["from"],
                          dict(fontsize=FONT["small"], color=MUTED, fontweight="bold")))
        for r in states:
            if r["host"] != h:
                continue
            y = axis.y(_rt(r["t"]), 0)
            name = r["to"]
            items.append((y, name, dict(fontsize=FONT["small"], color=colours[h],
                                        fontweight="bold",
                                        bbox=dict(boxstyle="round,pad=0.2", fc="white",
                                                  ec=colours[h], lw=0.8))))
            ax.add_line(Line2D([x - 0.025, x + 0.025], [y, y], color=colours[h], lw=2.2,
                               zorder=4))
        reg["states"] += side_column(items, x + side * 0.05, ha, 0.24)
        calls = [(axis.y(_rt(e["t"]), 0), _call_text(e),
                  dict(fontsize=FONT["small"], color="#333333", style="italic"))
                 for e in events if e["host"] == h]
        reg["calls"] += side_column(calls, x + side * 0.40, ha, 0.2)

    # --- the time labels (real times) on the left
    send_ys = [(axis.y(_rt(r["t"]), s), _rt(r["t"])) for r, s in zip(segs, slots)]
    reg["times"] = []
    if time_axis == "auto":
        dec = _decimals([t for _, t in send_ys])
        ticks, labels_t, last = [], [], None
        for y, t in sorted(send_ys):
            if last is not None and (y - last) * in_per_y < 0.17:
                continue
            ticks.append(y)
            labels_t.append(_fmt_time(t, dec))
            last = y
        # plain texts, not ticks: 300 Tick objects cost more than the whole picture
        tr = ax.get_yaxis_transform()
        reg["times"] = [ax.text(-0.008, y, lab, transform=tr, ha="right", va="center",
                                fontsize=FONT["tiny"], family=FONT_FAMILY, color="#444444")
                        for y, lab in zip(ticks, labels_t)]
        # one collection for the tick marks: 300 Line2D cost ~90 ms to add and draw
        ax.add_collection(LineCollection([[(0, y), (0.006, y)] for y in ticks], transform=tr,
                                         colors="#BBBBBB", linewidths=0.8), autolim=False)
        ax.set_yticks([])
        ax.set_ylabel("send time (s)  \u2193", fontsize=FONT["text"], family=FONT_FAMILY,
                      labelpad=42)
    else:
        ax.set_ylabel("time (s)  \u2193", fontsize=FONT["text"], family=FONT_FAMILY)
    ax.tick_params(axis="y", labelsize=FONT["tiny"], length=3, colors="#444444")
    ax.set_xticks([])
    for sp in ("top", "right", "bottom"):
        ax.spines[sp].set_visible(False)
    ax.spines["left"].set_color("#BBBBBB")
    if title and trace.name:
        ax.set_title(str(trace.name), fontsize=FONT["title"], family=FONT_FAMILY, loc="left",
                     pad=40)
    return fig if created else ax
