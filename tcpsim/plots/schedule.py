"""Retransmission schedules: when each of several traces sent a kind of segment.

One row per trace, one marker per segment with the chosen flags (for example every SYN),
labelled with its time since the first one; a connect() that failed is marked at the time
it failed. It answers "how long does Linux keep trying, and how does that compare with the
textbook?" at a glance, where a ladder of a two-minute SYN back-off would be mostly gaps.
"""
from __future__ import annotations

from ._common import as_trace, get_ax
from .style import DROP_COLOUR, FONT, HOST_COLOURS, MUTED, OKABE_ITO, text_kw

LINEAR_UP_TO_S = 5.0
ROW_COLOURS = (HOST_COLOURS[0], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"],
               OKABE_ITO["orange"])


def schedule_data(trace, flags: str = "S", host=None) -> dict:
    """``{"times": [...], "failed_at": t or None, "error": str or None}`` of one trace.

    ``times`` are the send times of the segments whose flags are exactly ``flags`` (from
    ``host`` when given), counted from the first of them; ``failed_at`` is when a
    ``connect`` of that host returned an error, on the same clock.
    """
    trace = as_trace(trace)
    rows = [r for r in trace.doc.get("segments", [])
            if r.get("flags") == flags and (host is None or r.get("src") == host)]
    if not rows:
        return {"times": [], "failed_at": None, "error": None}
    t0 = rows[0]["t"]
    sender = rows[0]["src"]
    failed_at, error = None, None
    for event in trace.doc.get("events", []):
        if (event.get("host") == sender and event.get("call") == "connect"
                and event.get("result") not in ("ok", None)):
            failed_at, error = event["t"] - t0, event["result"]
            break
    return {"times": [r["t"] - t0 for r in rows], "failed_at": failed_at, "error": error}


def schedule(traces: dict, flags: str = "S", host=None, ax=None, title=True):
    """Draw when each trace sent its ``flags`` segments: ``{label: trace}``, one row each.

    Returns the Figure (or ``ax`` when given). ``ax.tcpsim["rows"]`` is
    ``{label: schedule_data(...)}``, what was drawn.
    """
    if not traces:
        raise ValueError("schedule needs at least one trace: {label: trace}")
    data = {label: schedule_data(trace, flags, host) for label, trace in traces.items()}
    fig, ax = get_ax(ax, 0.9 + 0.75 * len(data))
    end = max([max(d["times"], default=0.0) for d in data.values()]
              + [d["failed_at"] or 0.0 for d in data.values()] + [1.0])
    for row, (label, d) in enumerate(data.items()):
        y = len(data) - 1 - row
        colour = ROW_COLOURS[row % len(ROW_COLOURS)]
        ax.axhline(y, color=MUTED, lw=0.6, zorder=0)
        ax.plot(d["times"], [y] * len(d["times"]), "o", color=colour, ms=7, zorder=2)
        for k, t in enumerate(d["times"]):
            ax.annotate(_fmt(t), (t, y), xytext=(0, 7 + 9 * (k % 2)),
                        textcoords="offset points", ha="center",
                        **text_kw("tiny", color=colour))
        if d["failed_at"] is not None:
            ax.plot([d["failed_at"]], [y], marker="X", color=DROP_COLOUR, ms=10, zorder=3)
            ax.annotate(f"{d['error']}\n{d['failed_at']:.4g} s", (d["failed_at"], y),
                        xytext=(0, -22), textcoords="offset points", ha="center",
                        **text_kw("tiny", color=DROP_COLOUR))
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels(list(data)[::-1], fontsize=FONT["small"])
    ax.set_ylim(-0.8, len(data) - 0.3)
    # linear for the first seconds (Linux's 1 s steps), logarithmic beyond: a doubling
    # back-off then shows as evenly spaced marks
    ax.set_xscale("symlog", linthresh=LINEAR_UP_TO_S, linscale=1.5)
    ax.set_xlim(-0.3, end * 1.25)
    ticks = [t for t in (0, 1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 500) if t <= end * 1.25]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks], fontsize=FONT["small"])
    ax.minorticks_off()
    ax.set_xlabel(f"seconds since the first {_flag_words(flags)} (linear up to "
                  f"{LINEAR_UP_TO_S:g} s, logarithmic beyond)", fontsize=FONT["small"])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(f"When each {_flag_words(flags)} was sent", fontsize=FONT["label"],
                     loc="left")
    fig.subplots_adjust(left=0.2, right=0.97, bottom=0.75 / fig.get_figheight(),
                        top=1 - 0.45 / fig.get_figheight())
    ax.tcpsim = {"rows": data}
    return fig if ax.figure is fig and len(fig.axes) == 1 else ax


def _fmt(t: float) -> str:
    return f"{t:.0f}" if abs(t - round(t)) < 0.0005 else f"{t:.2f}"


def _flag_words(flags: str) -> str:
    from .style import flag_label
    return flag_label(flags)
