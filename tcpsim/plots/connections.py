"""Several connections in one trace: pick one, or see them all at once.

    plots.connection_ids(trace)          # [0, 1, 2, ...]: the conn ids that appear
    plots.connection_trace(trace, 3)     # a Trace of connection 3 alone (any picture takes it)
    plots.ladder(trace, conn=3)          # the same as plots.ladder(connection_trace(trace, 3))
    plots.connections(trace)             # one row per connection, its states as coloured bars
    plots.connection_spans(trace)        # the data of that picture

A host numbers its connections 0, 1, 2, ... in creation order (the contract's ``conn``); the
two ends of a connection share the number when every ``connect`` is accepted in order, as
in the course's scenarios. ``connection_trace`` keeps, for ``conn = k``, the segments whose
``conn`` is k (both directions: each end writes its own id), the state rows and events of
connection k of either host, and the ignored rows of those segments. Segment rows are
renumbered from 0 (``i``; the original number is kept as ``trace_i``) so that every picture
and player works on it unchanged.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..trace import TCB_COLUMNS, Trace
from .style import FIG_WIDTH, FONT, MUTED, OKABE_ITO, host_order, new_figure

# One colour per state (Okabe-Ito where it has enough; opening blue, open green, closing
# warm, TIME-WAIT grey): the same in every picture of this module.
STATE_COLOURS = {
    "LISTEN": "#D9D9D9",
    "SYN-SENT": OKABE_ITO["sky_blue"],
    "SYN-RECEIVED": OKABE_ITO["blue"],
    "ESTABLISHED": OKABE_ITO["bluish_green"],
    "FIN-WAIT-1": OKABE_ITO["orange"],
    "FIN-WAIT-2": OKABE_ITO["yellow"],
    "CLOSE-WAIT": OKABE_ITO["reddish_purple"],
    "CLOSING": OKABE_ITO["vermillion"],
    "LAST-ACK": "#8E3B6E",
    "TIME-WAIT": OKABE_ITO["grey"],
}
MAX_ROWS = 40            # connections drawn by default; a note names the rest
ROW_HEIGHT_IN = 0.32
MIN_HEIGHT_IN = 2.8      # room for the legend of every state
# The "broken" time axis: a stretch in which no state starts or ends, longer than this
# fraction of the whole trace, is drawn squeezed (a 60 s TIME-WAIT after connections of a
# few milliseconds would otherwise leave the handshakes one pixel wide) ...
QUIET_FRACTION = 0.25
# ... to this fraction of the busy time's width, marked // on the axis with its true length.
QUIET_SHOWN = 0.25


def _doc(trace):
    return trace.doc if isinstance(trace, Trace) else trace


def connection_ids(trace) -> list:
    """The conn ids that appear on segment or state rows, in increasing order."""
    doc = _doc(trace)
    ids = {r.get("conn") for r in doc.get("segments", ())}
    ids |= {r.get("conn") for r in doc.get("states", ())}
    return sorted(i for i in ids if i is not None)


def connection_trace(trace, conn) -> Trace:
    """Connection ``conn`` alone, as a Trace (see the module docstring)."""
    doc = _doc(trace)
    if conn not in connection_ids(doc):
        raise ValueError(f"conn: no connection {conn!r} in this trace "
                         f"(it has {_shown_ids(connection_ids(doc))})")
    renumber, segments = {}, []
    for row in doc.get("segments", ()):
        if row.get("conn") == conn:
            renumber[row["i"]] = len(segments)
            segments.append({**row, "i": len(segments), "trace_i": row["i"]})
    ignored = [{**r, "segment": renumber[r["segment"]]} for r in doc.get("ignored", ())
               if r.get("segment") in renumber]
    one = {**doc, "name": f"{doc.get('name')} (conn {conn})", "segments": segments,
           "states": [r for r in doc.get("states", ()) if r.get("conn") == conn],
           "events": [r for r in doc.get("events", ()) if r.get("conn") == conn],
           "ignored": ignored}
    hosts = dict(doc.get("hosts", {}))
    for name in list(hosts):           # the ports and ISN of this connection
        syn = next((r for r in segments if r["src"] == name and "S" in r["flags"]), None)
        if syn is not None:
            hosts[name] = {**hosts[name], "isn": syn["seq"],
                           **({"port": syn["sport"]} if "sport" in syn else {})}
    one["hosts"] = hosts
    delivered = getattr(trace, "delivered", None) if isinstance(trace, Trace) else None
    at = TCB_COLUMNS.index("conn")     # the rows are plain tuples in TCB_COLUMNS order
    tcb = [r for r in getattr(trace, "_tcb_rows", ()) if r[at] == conn]
    return Trace(one, delivered, tcb)


def connection_label(trace, conn) -> str:
    """A line that names connection ``conn``: its ports (from its first segment) and when
    its segments were sent, e.g. ``conn 2: client:40002 → server:80, 0.300–0.701 s``."""
    doc = _doc(trace)
    segments = [r for r in doc.get("segments", ()) if r.get("conn") == conn]
    if not segments:
        return f"conn {conn}"
    first = segments[0]
    ends = (f"{first['src']}:{first['sport']} → {first['dst']}:{first['dport']}"
            if "sport" in first and "dport" in first else f"{first['src']} → {first['dst']}")
    return (f"conn {conn}: {ends}, {segments[0]['t']:.3f}–{segments[-1]['t']:.3f} s "
            f"({len(segments)} segments)")


def _shown_ids(ids):
    if len(ids) <= 6:
        return ", ".join(map(str, ids)) or "none"
    return f"{ids[0]} to {ids[-1]}"


def _end_time(doc):
    times = [r["t"] for r in doc.get("states", ())]
    times += [r["arrival"] if r.get("arrival") is not None else r["t"]
              for r in doc.get("segments", ())]
    return max(times, default=0.0)


def connection_spans(trace, hosts=None) -> dict:
    """``{conn: {host: [(t0, t1, state), ...]}}``: each end's states over time, from its
    state rows. The listening socket is left out; CLOSED is not a span; a state the trace
    ends in lasts to the trace's last event (``t1`` is that time)."""
    doc = _doc(trace)
    names = host_order(trace if isinstance(trace, Trace) else Trace(doc), hosts)
    end = _end_time(doc)
    open_state, spans = {}, {}
    for r in doc.get("states", ()):
        conn, host = r.get("conn"), r["host"]
        if conn is None or host not in names or str(r.get("socket", host)).endswith(":listen"):
            continue
        ends = spans.setdefault(conn, {name: [] for name in names})
        key = (conn, host)
        if key in open_state:
            t0, state = open_state.pop(key)
            if r["t"] > t0 or state != "CLOSED":
                ends[host].append((t0, r["t"], state))
        if r["to"] not in ("CLOSED",):
            open_state[key] = (r["t"], r["to"])
    for (conn, host), (t0, state) in open_state.items():
        spans[conn][host].append((t0, end, state))
    for ends in spans.values():        # drop zero-length spans of passing states
        for host, items in ends.items():
            ends[host] = [s for s in items if s[2] != "CLOSED"]
    return dict(sorted(spans.items()))


def quiet_stretches(spans, fraction=QUIET_FRACTION) -> list:
    """``[(t0, t1)]``: the stretches between two consecutive instants at which some state of
    ``spans`` (``connection_spans``) starts or ends, longer than ``fraction`` of the time from
    the first such instant to the last."""
    times = sorted({t for ends in spans.values() for items in ends.values()
                    for t0, t1, _ in items for t in (t0, t1)})
    if len(times) < 2:
        return []
    whole = times[-1] - times[0]
    return [(a, b) for a, b in zip(times, times[1:]) if b - a > fraction * whole]


def squeezed_time(quiet, first, last, shown=QUIET_SHOWN):
    """(forward, inverse): a piecewise-linear time axis from ``first`` to ``last`` on which
    each quiet stretch ``(t0, t1)`` takes ``shown`` times the busy time's width, and busy
    time keeps its scale (matplotlib's ``FuncScale`` takes the pair)."""
    busy = (last - first) - sum(b - a for a, b in quiet)
    width = shown * max(busy, 1e-9)
    far = 1e9                                   # outside the knots: the true scale
    xs, ys = [first - far, first], [first - far, first]
    for a, b in quiet:
        ys.append(ys[-1] + (a - xs[-1]))
        xs.append(a)
        xs.append(b)
        ys.append(ys[-1] + width)
    xs.append(last + far)
    ys.append(ys[-1] + far)
    xs, ys = np.array(xs), np.array(ys)
    return (lambda t: np.interp(t, xs, ys)), (lambda y: np.interp(y, ys, xs))


def _busy_ticks(ax, quiet, start, end):
    """A few round ticks in each busy stretch, and // with the true length on each quiet one."""
    edges = [start] + [t for a, b in quiet for t in (a, b)] + [end]
    ticks = []
    for lo, hi in zip(edges[::2], edges[1::2]):
        ticks += [t for t in MaxNLocator(nbins=3).tick_values(lo, hi) if lo <= t <= hi]
    ax.set_xticks(sorted(set(ticks)))
    ax.set_xticklabels([f"{t:g}" for t in sorted(set(ticks))])
    for a, b in quiet:
        for edge in (a, b):
            ax.axvline(edge, color=MUTED, linewidth=0.6, linestyle=":", zorder=0)
        middle = (a + b) / 2
        ax.text(middle, 0, "//", transform=ax.get_xaxis_transform(), ha="center",
                va="center", fontsize=FONT["small"], color="black", clip_on=False,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.text(middle, -0.02, f"{b - a:.3g} s", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=FONT["tiny"], color=MUTED)


def connections(trace, ax=None, hosts=None, conns=None, max_rows=MAX_ROWS, title=True,
                tlim=None, time_axis="auto"):
    """One row per connection: each end's states over time as coloured bars, the first
    host's above the second's. ``conns``: the ids to draw (default: the first ``max_rows``;
    a note says how many are left out). ``tlim``: ``(t0, t1)`` seconds to show.
    ``time_axis``: ``"auto"`` squeezes each stretch in which no drawn state starts or ends
    and that lasts over a quarter of the trace (typically TIME-WAIT's 60 s after
    millisecond-long connections) to a short piece marked // with its true length, so that
    the handshakes stay visible; ``"linear"`` keeps the true proportions everywhere.
    Returns the Figure (or ``ax``); ``ax.tcpsim`` is
    ``{"rows": {conn: y}, "bars": {(conn, host): [(t0, t1, state)]}, "note": Text|None,
    "quiet": [(t0, t1)]}`` (the squeezed stretches).
    """
    if time_axis not in ("auto", "linear"):
        raise ValueError(f"time_axis: {time_axis!r}; use 'auto' or 'linear'")
    doc = _doc(trace)
    tr = trace if isinstance(trace, Trace) else Trace(doc)
    names = host_order(tr, hosts)
    spans = connection_spans(tr, names)
    ids = list(spans) if conns is None else [c for c in conns if c in spans]
    left_out = len(ids) - max_rows if conns is None and len(ids) > max_rows else 0
    if left_out:
        ids = ids[:max_rows]
    created = ax is None
    if created:
        height = max(MIN_HEIGHT_IN, 1.3 + ROW_HEIGHT_IN * max(len(ids), 1))
        fig = new_figure(height, FIG_WIDTH)
        ax = fig.add_subplot(1, 1, 1)
    rows, bars = {}, {}
    used = []
    for row, conn in enumerate(ids):
        y = len(ids) - 1 - row               # conn 0 at the top
        rows[conn] = y
        for k, host in enumerate(names):
            items = spans[conn].get(host, [])
            bars[(conn, host)] = items
            if not items:
                continue
            bottom = y + (0.02 if k else 0.48)
            ax.broken_barh([(t0, max(t1 - t0, 1e-9)) for t0, t1, _ in items], (bottom, 0.44),
                           facecolors=[STATE_COLOURS.get(s, MUTED) for _, _, s in items],
                           edgecolor="white", linewidth=0.3)
            used += [s for _, _, s in items]
    drawn = {c: spans[c] for c in ids}
    quiet = quiet_stretches(drawn) if time_axis == "auto" and tlim is None else []
    if quiet:
        times = [t for ends in drawn.values() for items in ends.values()
                 for t0, t1, _ in items for t in (t0, t1)]
        first, last = min(times), max(times)
        ax.set_xscale("function", functions=squeezed_time(quiet, first, last))
        ax.set_xlim(first, last)
        _busy_ticks(ax, quiet, first, last)
    ax.set_yticks([rows[c] + 0.5 for c in ids])
    ax.set_yticklabels([f"conn {c}" for c in ids], fontsize=FONT["small"])
    ax.set_ylim(0, max(len(ids), 1))
    if tlim is not None:
        ax.set_xlim(*tlim)
    ax.set_xlabel("time (s)", fontsize=FONT["text"])
    ax.tick_params(axis="x", labelsize=FONT["small"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if len(names) == 2:
        ax.text(1.0, 1.0, f"upper bar: {names[0]}   lower bar: {names[1]}",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=FONT["small"],
                color=MUTED)
    order = [s for s in STATE_COLOURS if s in used]
    if order:
        ax.legend(handles=[Patch(color=STATE_COLOURS[s], label=s) for s in order],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=FONT["tiny"],
                  frameon=False)
    note = None
    if left_out:
        note = ax.figure.text(0.01, 0.01, f"{left_out} more connections not drawn "
                              "(conns=[...] chooses which)", ha="left", va="bottom",
                              fontsize=FONT["small"], color=MUTED)
    if title and created:
        ax.set_title(f"{doc.get('name') or 'trace'}: {len(spans)} connection"
                     f"{'s' if len(spans) != 1 else ''}", fontsize=FONT["title"], loc="left")
    ax.tcpsim = {"rows": rows, "bars": bars, "note": note, "quiet": quiet}
    if created:
        fig.subplots_adjust(left=0.1, right=0.8, top=1 - 0.6 / height, bottom=0.7 / height)
        return fig
    return ax
