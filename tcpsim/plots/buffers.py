"""Send and receive buffers (the sliding window) at one instant, from ``trace.tcb``.

For each direction of the connection one panel, in the sender's relative sequence space:

* the sender's bar: acked | in flight (SND.UNA..SND.NXT) | sendable, the usable window
  (SND.NXT..SND.UNA+SND.WND) | beyond the window;
* the receiver's bar: delivered to the application | buffered in order (..RCV.NXT) |
  buffered out of order (where the segments that arrived put it) | free window
  (..RCV.NXT+RCV.WND).

The numbers come from the last TCB snapshot at or before ``t`` of each host
(``buffer_numbers``), relative to the ISNs (SND.* to the host's ISS, RCV.* to its IRS).
"""
from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ._common import MOD, as_trace, isnan, rel, tcb_at
from .scene import Frame, Lines, Rect, Scene, Text, draw, to_svg
from .style import FIG_WIDTH, FONT, LIGHT, host_colours, host_order, new_figure

KEYS = ("snd_una", "snd_nxt", "snd_max", "snd_wnd", "cwnd", "usable", "snd_buffered",
        "rcv_nxt", "rcv_wnd", "rcv_buffered", "rcv_out_of_order", "delivered")


def buffer_numbers(trace, t):
    """{host: numbers} drawn by ``buffers`` at time ``t``.

    Per host: ``t`` (of the snapshot), ``state``, ``conn``, ``iss``, ``irs`` (absolute);
    relative: ``snd_una``, ``snd_nxt``, ``snd_max`` (to the ISS), ``rcv_nxt`` (to the IRS);
    bytes: ``snd_wnd``, ``cwnd``, ``snd_buffered``, ``rcv_wnd``, ``rcv_buffered``,
    ``rcv_out_of_order``; derived: ``usable`` = SND.UNA + SND.WND − SND.NXT (≥ 0),
    ``delivered`` = RCV.NXT − rcv_buffered (relative: the first byte the application has not
    read). Hosts without a snapshot yet are left out.
    """
    trace = as_trace(trace)
    tcb = trace.tcb
    out = {}
    if tcb.empty:
        return out
    for host in host_order(trace):
        s = tcb_at(trace, host, t)
        if s is None:
            continue
        iss, irs = int(s["iss"]), (None if isnan(s["irs"]) else int(s["irs"]))
        una, nxt = rel(s["snd_una"], iss), rel(s["snd_nxt"], iss)
        rcv_nxt = rel(s["rcv_nxt"], irs) if irs is not None else None
        n = {"t": float(s["t"]), "state": s["state"], "conn": s["conn"], "iss": iss, "irs": irs,
             "snd_una": una, "snd_nxt": nxt, "snd_max": rel(s["snd_max"], iss),
             "snd_wnd": int(s["snd_wnd"]), "cwnd": int(s["cwnd"]),
             "snd_buffered": int(s["snd_buffered"]),
             "usable": max(0, una + int(s["snd_wnd"]) - nxt),
             "rcv_nxt": rcv_nxt, "rcv_wnd": int(s["rcv_wnd"]),
             "rcv_buffered": int(s["rcv_buffered"]),
             "rcv_out_of_order": int(s["rcv_out_of_order"]),
             "delivered": (None if rcv_nxt is None else max(0, rcv_nxt - int(s["rcv_buffered"])))}
        out[host] = n
    return out


def _ooo_blocks(trace, sender, t, rcv_nxt, iss, conn):
    """Out-of-order ranges at the receiver: data from ``sender`` that arrived by ``t`` above
    RCV.NXT (relative, merged)."""
    spans = []
    for r in trace.doc.get("segments", []):
        if r["src"] != sender or r.get("dropped") or isnan(r.get("arrival")):
            continue
        if conn is not None and r.get("conn") not in (conn, None):
            continue
        if r["arrival"] > t or not r.get("len"):
            continue
        lo = (int(r["seq"]) - iss) % MOD
        hi = lo + int(r["len"])
        if lo > rcv_nxt:
            spans.append((lo, hi))
    spans.sort()
    merged = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _marks(put, xlim, items, y, above, colour="#222222"):
    """Tick + label for each (x, text); labels that would collide go on further rows."""
    x0, x1 = xlim
    width = x1 - x0
    rows = []
    for x, text in sorted(items):
        est = (len(text) * 0.0065 + 0.01) * width    # label width, in data units (approx.)
        level = 0
        while any(abs(x - px) < (est + pw) / 2 for px, pw, lv in rows if lv == level):
            level += 1
        rows.append((x, est, level))
        dy = (0.2 + 0.3 * level) * (1 if above else -1)
        put(Lines((((x, y), (x, y + dy * 0.9)),), colour, 0.9, zorder=5))
        frac = (x - x0) / width
        ha = "right" if frac > 0.85 else ("left" if frac < 0.1 else "center")
        put(Text(x, y + dy, text, size=FONT["tiny"] + 0.5, colour=colour, ha=ha,
                 va="bottom" if above else "top", zorder=6))


def _bar(put, xlim, y, parts, h=0.42):
    """parts: [(lo, hi, facecolor, hatch, label)] drawn as one horizontal bar at y."""
    x0, x1 = xlim
    for lo, hi, fc, hatch, label in parts:
        lo, hi = max(lo, x0), min(hi, x1)
        if hi <= lo:
            continue
        put(Rect(lo, y - h / 2, hi - lo, h, fc, edge="#333333", edge_width_pt=0.8, hatch=hatch,
                 zorder=3))
        if label and (hi - lo) / (x1 - x0) > len(label) * 0.0075 + 0.01:
            put(Text((lo + hi) / 2, y, label, size=FONT["tiny"] + 0.5, colour="#111111", zorder=4,
                     frame=Frame("white", None, pad=0.1, alpha=0.75)))


def panel_rects(left, right, top, bottom, hspace, rows=2) -> list:
    """The (left, bottom, width, height) of ``rows`` Axes one under the other, as
    ``fig.subplots(rows, 1)`` and ``subplots_adjust`` place them."""
    height = (top - bottom) / (rows + hspace * (rows - 1))
    return [(left, top - k * height * (1 + hspace) - height, right - left, height)
            for k in range(rows)]


BUFFERS_SIZE_IN = (FIG_WIDTH, 5.6)
BUFFERS_RECTS = panel_rects(left=0.13, right=0.97, top=0.88, bottom=0.04, hspace=0.35)


def buffers_scenes(trace, t, title=True, size_in=BUFFERS_SIZE_IN, rects=BUFFERS_RECTS) -> list:
    """The two panels of ``buffers`` as scenes (``tcpsim.plots.scene``) of a picture
    ``size_in`` inches, the Axes at ``rects``; ``title``: the picture's title on top."""
    trace = as_trace(trace)
    nums = buffer_numbers(trace, t)
    names = host_order(trace)
    colours = host_colours(trace)
    scenes = []
    for k, rect in enumerate(rects[:2]):
        snd, rcv = names[k], names[1 - k]
        S, R = nums.get(snd), nums.get(rcv)
        xlim, ylim = (0.0, 1.0), (-1.45, 2.0)
        if S is not None:
            una, nxt, wnd = S["snd_una"], S["snd_nxt"], S["snd_wnd"]
            right_edge = una + wnd
            written = una + S["snd_buffered"]
            have_r = R is not None and R.get("rcv_nxt") is not None and R["irs"] == S["iss"]
            lefts = [una] + ([R["delivered"]] if have_r else [])
            rights = [right_edge, nxt, written] + ([R["rcv_nxt"] + R["rcv_wnd"]] if have_r else [])
            lo_x, hi_x = min(lefts), max(rights)
            span = max(hi_x - lo_x, 10)
            xlim = (max(0, lo_x - 0.22 * span), hi_x + 0.12 * span)
        scene = Scene(size_in[0], size_in[1], rect, xlim, ylim)
        put = scene.add
        scenes.append(scene)
        put(Text(0, 1, f"{snd} \u2192 {rcv}: {snd}'s send buffer, {rcv}'s receive buffer "
                 f"(sequence numbers relative to {snd}'s ISN)", size=FONT["text"],
                 colour=colours[snd], ha="left", va="baseline", coords="axes",
                 offset_pt=(0, 6), title=True))      # 6 points: the default title pad
        if S is None:
            put(Text(0.5, 0.5, f"{snd} has no connection yet at t = {t:g} s", size=FONT["text"],
                     va="baseline", coords="axes"))
            continue
        x0, x1 = xlim
        ys, yr = 0.55, -0.55
        _bar(put, xlim, ys, [(0, una, LIGHT, None, "acked"),
                             (una, nxt, colours[snd], None, "in flight"),
                             (nxt, max(nxt, right_edge), "#BFE6D8", None, "usable window"),
                             (max(nxt, right_edge), x1, "white", "//", "beyond the window")])
        put(Text(x0 - 0.01 * (x1 - x0), ys, f"{snd}\nsends\n({S['state']})", size=FONT["small"],
                 colour=colours[snd], ha="right"))
        marks = [(una, f"SND.UNA={una}"), (nxt, f"SND.NXT={nxt}"),
                 (right_edge, f"SND.UNA+SND.WND={right_edge} (SND.WND={wnd})")]
        if nxt == una:
            marks = [(una, f"SND.UNA=SND.NXT={una}"), marks[2]]
        if written > nxt:
            marks.append((written, f"written: {written}"))
        _marks(put, xlim, marks, ys + 0.21, above=True)
        if have_r:
            rn, rw = R["rcv_nxt"], R["rcv_wnd"]
            blocks = _ooo_blocks(trace, snd, t, rn, S["iss"], S["conn"])
            parts = [(0, R["delivered"], LIGHT, None, "read by the app"),
                     (R["delivered"], rn, colours[rcv], None, "in order")]
            free_lo = rn
            for lo, hi in blocks:
                parts.append((free_lo, lo, "white", None, "free"))
                parts.append((lo, hi, "#F5D5A8", "xx", "out of order"))
                free_lo = hi
            parts.append((free_lo, max(free_lo, rn + rw), "white", None, "free"))
            _bar(put, xlim, yr, parts)
            put(Text(x0 - 0.01 * (x1 - x0), yr, f"{rcv}\nreceives\n({R['state']})",
                     size=FONT["small"], colour=colours[rcv], ha="right"))
            _marks(put, xlim, [(rn, f"RCV.NXT={rn}"),
                               (rn + rw, f"RCV.NXT+RCV.WND={rn + rw} (RCV.WND={rw})")],
                   yr - 0.21, above=False)
    if title and scenes:
        # where Figure.suptitle puts it
        scenes[0].add(Text(0.01, 0.98, f"Buffers at t = {t:g} s" +
                           (f"  ({trace.name})" if trace.name else ""), size=FONT["title"],
                           ha="left", va="top", coords="figure"))
    for scene in scenes:
        scene.numbers = nums
    return scenes


def buffers_svg(trace, t, title=True, size_in=BUFFERS_SIZE_IN, rects=BUFFERS_RECTS) -> str:
    """The same picture as ``buffers`` (the same scenes), written directly as SVG."""
    return to_svg(buffers_scenes(trace, t, title, size_in, rects))


def buffers(trace, t, ax=None, title=True):
    """Draw both directions' send and receive buffers at time ``t``.

    ``ax``: None, or the Axes to draw on, one per direction: a list or tuple of two Axes,
    or the numpy array ``fig.subplots(2, 1)`` returns (a single Axes draws the first
    direction only). Returns the Figure (or the list of Axes drawn on).
    ``fig.tcpsim["numbers"]`` is ``buffer_numbers(trace, t)``. ``buffers_svg`` writes the
    same picture as SVG.
    """
    created = ax is None
    if created:
        fig = new_figure(BUFFERS_SIZE_IN[1])
        axes = fig.subplots(2, 1)
        fig.subplots_adjust(left=0.13, right=0.97, top=0.88, bottom=0.04, hspace=0.35)
    else:
        axes = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object)))
        fig = axes[0].figure
    axes = list(axes[:2])
    rects = [a.get_position().bounds for a in axes]
    scenes = buffers_scenes(trace, t, title=title and created,
                            size_in=(fig.get_figwidth(), fig.get_figheight()), rects=rects)
    for a, scene in zip(axes, scenes):
        draw(scene, a)
        a.set_axis_off()
    fig.tcpsim = {"numbers": scenes[0].numbers, "t": t}
    return fig if created else axes
