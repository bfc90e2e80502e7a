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
from matplotlib.patches import Rectangle

from ._common import MOD, as_trace, isnan, rel
from .style import FONT, FONT_FAMILY, LIGHT, host_colours, host_order, new_figure

KEYS = ("snd_una", "snd_nxt", "snd_max", "snd_wnd", "cwnd", "usable", "snd_buffered",
        "rcv_nxt", "rcv_wnd", "rcv_buffered", "rcv_out_of_order", "delivered")


def _snapshot(tcb, host, t):
    rows = tcb[(tcb["host"] == host) & (tcb["t"] <= t)]
    if rows.empty:
        return None
    return rows.iloc[-1]


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
        s = _snapshot(tcb, host, t)
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


def _marks(ax, items, y, above, colour="#222222"):
    """Tick + label for each (x, text); labels that would collide go on further rows."""
    x0, x1 = ax.get_xlim()
    width = x1 - x0
    rows = []
    for x, text in sorted(items):
        est = (len(text) * 0.0065 + 0.01) * width    # label width, in data units (approx.)
        level = 0
        while any(abs(x - px) < (est + pw) / 2 for px, pw, lv in rows if lv == level):
            level += 1
        rows.append((x, est, level))
        dy = (0.2 + 0.3 * level) * (1 if above else -1)
        ax.plot([x, x], [y, y + dy * 0.9], color=colour, lw=0.9, zorder=5)
        frac = (x - x0) / width
        ha = "right" if frac > 0.85 else ("left" if frac < 0.1 else "center")
        ax.text(x, y + dy, text, ha=ha, va="bottom" if above else "top",
                fontsize=FONT["tiny"] + 0.5, family=FONT_FAMILY, color=colour, zorder=6)


def _bar(ax, y, parts, h=0.42):
    """parts: [(lo, hi, facecolor, hatch, label)] drawn as one horizontal bar at y."""
    x0, x1 = ax.get_xlim()
    for lo, hi, fc, hatch, label in parts:
        lo, hi = max(lo, x0), min(hi, x1)
        if hi <= lo:
            continue
        ax.add_patch(Rectangle((lo, y - h / 2), hi - lo, h, facecolor=fc, edgecolor="#333333",
                               lw=0.8, hatch=hatch, zorder=3))
        if label and (hi - lo) / (x1 - x0) > len(label) * 0.0075 + 0.01:
            ax.text((lo + hi) / 2, y, label, ha="center", va="center", zorder=4,
                    fontsize=FONT["tiny"] + 0.5, family=FONT_FAMILY, color="#111111",
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.75))


def buffers(trace, t, ax=None, title=True):
    """Draw both directions' send and receive buffers at time ``t``.

    ``ax``: None, or the Axes to draw on, one per direction: a list or tuple of two Axes,
    or the numpy array ``fig.subplots(2, 1)`` returns (a single Axes draws the first
    direction only). Returns the Figure (or the list of Axes drawn on).
    ``fig.tcpsim["numbers"]`` is ``buffer_numbers(trace, t)``.
    """
    trace = as_trace(trace)
    nums = buffer_numbers(trace, t)
    names = host_order(trace)
    colours = host_colours(trace)
    created = ax is None
    if created:
        fig = new_figure(5.6)
        axes = fig.subplots(2, 1)
        fig.subplots_adjust(left=0.13, right=0.97, top=0.88, bottom=0.04, hspace=0.35)
    else:
        axes = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object)))
        fig = axes[0].figure
    for k, a in enumerate(axes[:2]):
        snd, rcv = names[k], names[1 - k]
        a.set_axis_off()
        S, R = nums.get(snd), nums.get(rcv)
        a.set_title(f"{snd} \u2192 {rcv}: {snd}'s send buffer, {rcv}'s receive buffer "
                    f"(sequence numbers relative to {snd}'s ISN)", fontsize=FONT["text"],
                    family=FONT_FAMILY, loc="left", color=colours[snd])
        if S is None:
            a.text(0.5, 0.5, f"{snd} has no connection yet at t = {t:g} s", ha="center",
                   transform=a.transAxes, fontsize=FONT["text"], family=FONT_FAMILY)
            continue
        una, nxt, wnd = S["snd_una"], S["snd_nxt"], S["snd_wnd"]
        right_edge = una + wnd
        written = una + S["snd_buffered"]
        have_r = R is not None and R.get("rcv_nxt") is not None and R["irs"] == S["iss"]
        lefts = [una] + ([R["delivered"]] if have_r else [])
        rights = [right_edge, nxt, written] + ([R["rcv_nxt"] + R["rcv_wnd"]] if have_r else [])
        lo_x, hi_x = min(lefts), max(rights)
        span = max(hi_x - lo_x, 10)
        x0 = max(0, lo_x - 0.22 * span)
        x1 = hi_x + 0.12 * span
        a.set_xlim(x0, x1)
        a.set_ylim(-1.45, 2.0)
        ys, yr = 0.55, -0.55
        _bar(a, ys, [(0, una, LIGHT, None, "acked"),
                     (una, nxt, colours[snd], None, "in flight"),
                     (nxt, max(nxt, right_edge), "#BFE6D8", None, "usable window"),
                     (max(nxt, right_edge), x1, "white", "//", "beyond the window")])
        a.text(x0 - 0.01 * (x1 - x0), ys, f"{snd}\nsends\n({S['state']})", ha="right",
               va="center", fontsize=FONT["small"], family=FONT_FAMILY, color=colours[snd])
        marks = [(una, f"SND.UNA={una}"), (nxt, f"SND.NXT={nxt}"),
                 (right_edge, f"SND.UNA+SND.WND={right_edge} (SND.WND={wnd})")]
        if nxt == una:
            marks = [(una, f"SND.UNA=SND.NXT={una}"), marks[2]]
        if written > nxt:
            marks.append((written, f"written: {written}"))
        _marks(a, marks, ys + 0.21, above=True)
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
            _bar(a, yr, parts)
            a.text(x0 - 0.01 * (x1 - x0), yr, f"{rcv}\nreceives\n({R['state']})", ha="right",
                   va="center", fontsize=FONT["small"], family=FONT_FAMILY, color=colours[rcv])
            _marks(a, [(rn, f"RCV.NXT={rn}"),
                       (rn + rw, f"RCV.NXT+RCV.WND={rn + rw} (RCV.WND={rw})")],
                   yr - 0.21, above=False)
    if title and created:
        fig.suptitle(f"Buffers at t = {t:g} s" + (f"  ({trace.name})" if trace.name else ""),
                     x=0.01, ha="left", fontsize=FONT["title"], family=FONT_FAMILY)
    fig.tcpsim = {"numbers": nums, "t": t}
    return fig if created else axes[:2]
