"""Time-sequence graph (Stevens / tcptrace style) of the data one host sends.

x: time (s); y: relative sequence number (bytes from the host's ISN, Wireshark style).
Each data segment is an I-bar from seq to seq + len at its send time; retransmissions are in
purple with a marker, dropped segments grey with a red ✗. The ACK line (what the peer has
acknowledged, when it reaches the sender), the receive-window line (ack + win × 2^wscale;
the scale is the one the peer announced in its SYN, used only if both SYNs carried the
option, and never applied to SYN segments, RFC 7323 §2.2) and the SACK blocks the peer
reports (green bars) come from the peer's segments.
"""
from __future__ import annotations

import textwrap

from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation

from ._common import MOD, as_trace, get_ax, isnan
from .style import (DROP_COLOUR, DROP_MARK, FONT, FONT_FAMILY, MUTED, RTX_COLOUR, SACK_COLOUR,
                    WINDOW_COLOUR, host_colours, host_order)


def _conn_rows(trace, conn):
    rows = trace.doc.get("segments", [])
    if conn is None:
        conns = [r.get("conn") for r in rows if r.get("conn") is not None]
        conn = conns[0] if conns else None
    if conn is None:
        return rows, None
    return [r for r in rows if r.get("conn") in (conn, None)], conn


def window_scales(rows, host, peer):
    """(shift applied to windows the peer sends, shift applied to the host's):
    each side's SYN wscale, or (0, 0) unless both SYNs carried one (RFC 7323 §1.3)."""
    ws = {}
    for r in rows:
        if "S" in (r.get("flags") or "") and r["src"] not in ws:
            ws[r["src"]] = (r.get("options") or {}).get("wscale")
    if ws.get(host) is None or ws.get(peer) is None:
        return 0, 0
    return int(ws[peer]), int(ws[host])


def time_sequence_data(trace, host=None, conn=None):
    """The numbers the graph draws, as plain lists (for tests and notebooks)."""
    trace = as_trace(trace)
    names = host_order(trace)
    host = host or names[0]
    peer = next(h for h in names if h != host)
    rows, conn = _conn_rows(trace, conn)
    mine = [r for r in rows if r["src"] == host]
    if not mine:
        raise ValueError(f"{host} sends nothing in this trace")
    base = (int(mine[0]["seq"]) - int(mine[0]["rel_seq"])) % MOD
    peer_shift, _ = window_scales(rows, host, peer)
    data, acks, wins, sacks = [], [], [], []
    for r in mine:
        if (r.get("len") or 0) > 0:
            lo = (int(r["seq"]) - base) % MOD
            data.append({"i": r.get("i"), "t": r["t"], "lo": lo, "hi": lo + int(r["len"]),
                         "rtx": bool(r.get("retransmission")), "dropped": bool(r.get("dropped"))})
    for r in rows:
        if r["src"] != peer or r.get("dropped") or "A" not in (r.get("flags") or ""):
            continue
        t = r["arrival"] if not isnan(r.get("arrival")) else r["t"]
        ack = (int(r["ack"]) - base) % MOD
        scale = 0 if "S" in r["flags"] else peer_shift
        acks.append((t, ack))
        wins.append((t, ack + int(r.get("win") or 0) * (1 << scale)))
        for left, right in (r.get("options") or {}).get("sack") or []:
            sacks.append((t, (int(left) - base) % MOD, (int(right) - base) % MOD))
    return {"host": host, "peer": peer, "conn": conn, "isn": base, "wscale": peer_shift,
            "data": data, "acks": acks, "windows": wins, "sacks": sacks}


class TimeFormatter(Formatter):
    """Plain tick labels for a time axis, never an offset ("1e-5+3e-1"): in seconds, or in
    milliseconds (``scale`` 1000), with as many decimals as the tick spacing needs."""

    def __init__(self, scale=1.0):
        self.scale = scale
        self.decimals = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        values = [x * self.scale for x in locs]
        steps = [b - a for a, b in zip(values, values[1:]) if b > a]
        tolerance = (min(steps) if steps else 1.0) * 1e-3
        self.decimals = next((d for d in range(10)
                              if all(abs(v - round(v, d)) <= tolerance for v in values)), 9)

    def __call__(self, x, pos=None):
        return f"{x * self.scale:.{self.decimals}f}"


MS_BELOW_S = 0.02      # a time axis shorter than this is labelled in milliseconds


def _title(ax, text, name, fontsize):
    """The title, with the trace's name on a second line when one line would not fit in the
    Axes' width (the name shortened with "..." if it is still too long)."""
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    max_chars = int(width_pt / (0.58 * fontsize))      # DejaVu Sans: about 0.58 em a character
    if not name:
        return text
    if len(text) + len(name) + 4 <= max_chars:
        return f"{text}  ({name})"
    return f"{text}\n" + textwrap.shorten(name, max_chars, placeholder="...")


def time_sequence(trace, host=None, ax=None, conn=None, window=True, sack=True, title=True,
                  tlim=None):
    """Draw the time-sequence graph of the data ``host`` sends (default: the first host).

    tlim: (t0, t1) to zoom; by default the span of the data transfer (first data segment to
    the ACK of the last one), with the window line clipped a little above the data.

    Returns the Figure (or ``ax``). ``ax.tcpsim`` holds the numbers
    (``time_sequence_data``) and the artists: ``data``, ``rtx``, ``dropped``
    (LineCollections), ``drops`` [✗ Text], ``ack`` and ``window`` (Line2D), ``sack``,
    ``legend`` (under the time axis, outside the Axes, so that it hides no data).
    """
    trace = as_trace(trace)
    d = time_sequence_data(trace, host, conn)
    host, peer = d["host"], d["peer"]
    colour = host_colours(trace)[host]
    created = ax is None
    fig, ax = get_ax(ax, 7.0)
    if created:    # room under the time axis for the legend (two rows of three)
        fig.subplots_adjust(left=0.11, right=0.98, top=0.89, bottom=0.2)
    reg = {"numbers": d, "drops": []}

    def ibars(items, col, lw, gid):
        segs = []
        for it in items:
            segs.append([(it["t"], it["lo"]), (it["t"], it["hi"])])
        lc = LineCollection(segs, colors=col, linewidths=lw, zorder=4, gid=gid)
        ax.add_collection(lc)
        return lc

    normal = [x for x in d["data"] if not x["rtx"] and not x["dropped"]]
    rtx = [x for x in d["data"] if x["rtx"] and not x["dropped"]]
    dropped = [x for x in d["data"] if x["dropped"]]
    reg["data"] = ibars(normal, colour, 2.0, "data")
    reg["rtx"] = ibars(rtx, RTX_COLOUR, 2.6, "rtx")
    reg["dropped"] = ibars(dropped, MUTED, 2.0, "dropped")
    if rtx:
        ax.plot([x["t"] for x in rtx], [x["hi"] for x in rtx], ls="none", marker="D",
                ms=4.5, color=RTX_COLOUR, zorder=5)
    for x in dropped:
        reg["drops"].append(ax.text(x["t"], x["hi"], DROP_MARK, color=DROP_COLOUR, ha="center",
                                    va="bottom", fontsize=11, fontweight="bold",
                                    family=FONT_FAMILY, zorder=6, gid=f"drop-{x['i']}"))
    if d["acks"]:
        ts, ys = zip(*d["acks"])
        reg["ack"], = ax.step(ts, ys, where="post", color="#222222", lw=1.3, zorder=3,
                              label=f"ACK from {peer}")
    if window and d["windows"]:
        ts, ys = zip(*d["windows"])
        reg["window"], = ax.step(ts, ys, where="post", color=WINDOW_COLOUR, lw=1.5, zorder=2,
                                 label=f"receive window of {peer}")
    if sack and d["sacks"]:
        segs = [[(t, lo), (t, hi)] for t, lo, hi in d["sacks"]]
        # drawn 5 points right of their time so that they do not hide the data bars
        shift = ScaledTranslation(5 / 72, 0, ax.figure.dpi_scale_trans)
        reg["sack"] = LineCollection(segs, colors=SACK_COLOUR, linewidths=3.5, alpha=0.6,
                                     zorder=3, gid="sack", transform=ax.transData + shift)
        ax.add_collection(reg["sack"])
    # axes
    if d["data"]:
        top = max(x["hi"] for x in d["data"])
        if tlim is None:
            t0 = min(x["t"] for x in d["data"])
            done = [t for t, a in d["acks"] if a >= top and t >= t0]
            t1 = min(done) if done else max(x["t"] for x in d["data"])
            pad = (t1 - t0) * 0.03 or 0.001
            tlim = (t0 - pad, t1 + pad)
        ax.set_xlim(*tlim)
        ax.set_ylim(0, top * 1.12 + 1)
    elif tlim is not None:
        ax.set_xlim(*tlim)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(v):,}"))
    x0, x1 = ax.get_xlim()
    in_ms = abs(x1 - x0) < MS_BELOW_S
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(TimeFormatter(1000.0 if in_ms else 1.0))
    ax.set_xlabel("time (ms)" if in_ms else "time (s)", fontsize=FONT["label"], family=FONT_FAMILY)
    ax.set_ylabel(f"relative sequence number ({host}'s data)", fontsize=FONT["label"],
                  family=FONT_FAMILY)
    ax.tick_params(labelsize=FONT["small"])
    ax.grid(True, color="#E6E6E6", lw=0.7, zorder=0)
    for sp in ("top", "right"):
        ax.spines[sp].set_visible(False)
    handles = [Line2D([], [], color=colour, lw=2.2, label=f"data sent by {host}")]
    if rtx:
        handles.append(Line2D([], [], color=RTX_COLOUR, lw=2.6, marker="D", ms=4.5,
                              label="retransmission"))
    if dropped:
        handles.append(Line2D([], [], color=MUTED, lw=2.0, marker="$\u2717$", ms=8,
                              markeredgecolor=DROP_COLOUR, markerfacecolor=DROP_COLOUR,
                              label="dropped"))
    if d["acks"]:
        handles.append(Line2D([], [], color="#222222", lw=1.3, label=f"ACK from {peer}"))
    if window and d["windows"]:
        scale = f" (wscale {d['wscale']})" if d["wscale"] else ""
        handles.append(Line2D([], [], color=WINDOW_COLOUR, lw=1.5,
                              label=f"ACK + receive window{scale}"))
    if sack and d["sacks"]:
        handles.append(Line2D([], [], color=SACK_COLOUR, lw=4.5, alpha=0.55,
                              label="SACK blocks (drawn just right of their time)"))
    # under the time axis, outside the Axes: a legend inside hides data somewhere (on
    # data-loss-middle it hid the one retransmission the picture is about)
    # (tick labels and the axis label take about 36 points under the Axes; on a given Axes,
    # leave about 0.9 inch under it for the legend)
    below = 36 / (ax.get_position().height * ax.figure.get_figheight() * 72)
    reg["legend"] = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -below),
                              ncol=3, frameon=False, borderaxespad=0.0, columnspacing=1.6,
                              prop={"family": FONT_FAMILY, "size": FONT["small"]})
    if title:
        ax.set_title(_title(ax, f"Time-sequence graph: {host} \u2192 {peer}", trace.name,
                            FONT["title"]), fontsize=FONT["title"], family=FONT_FAMILY, loc="left")
    ax.tcpsim = reg
    return fig if created else ax
