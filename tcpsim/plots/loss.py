"""Pictures of notebook 06: the RTO over a trace, and the Monte Carlo of loss.

    plots.rto(trace, host="client")            # RTT samples, SRTT and RTO, and the re-sends
    plots.loss_sweep(rtx.transfer_times(...))  # transfer time against loss rate
"""
from __future__ import annotations

from ._common import as_trace, get_ax
from .style import DROP_COLOUR, FONT, HOST_COLOURS, MUTED, OKABE_ITO, RTX_COLOUR, text_kw

TRIGGER_MARKERS = {"ACK": "v", "timer": "X"}
PROFILE_COLOURS = {"linux": HOST_COLOURS[0], "rfc9293": HOST_COLOURS[1]}


def rto(trace, host="client", profile=None, ax=None, title=True, log=True):
    """The RTO ``host`` computes over the trace (``retransmissions.rto_timeline``): its RTT
    samples (dots), SRTT and the RTO (steps, ms, log scale by default), and a mark at each
    of its retransmissions (triangle: sent after an ACK; cross: after a timer), labelled
    with how long it had waited. ``ax.tcpsim`` holds ``timeline`` and ``retransmissions``."""
    from ..retransmissions import retransmissions, rto_timeline
    trace = as_trace(trace)
    timeline = rto_timeline(trace, host, profile)
    re_sent = retransmissions(trace)
    re_sent = re_sent[re_sent["src"] == host]
    fig, ax = get_ax(ax, 4.2)
    end = max([float(trace.segments["t"].max())] + list(timeline["t"]))
    ts = list(timeline["t"]) + [end]
    ax.step(ts, [v * 1000 for v in timeline["rto_s"]] + [timeline["rto_s"].iloc[-1] * 1000],
            where="post", color=OKABE_ITO["vermillion"], lw=1.8, label="RTO")
    sampled = timeline[timeline["sample_s"].notna()]
    if not sampled.empty:
        ax.step(list(sampled["t"]) + [end],
                [v * 1000 for v in sampled["srtt_s"]] + [sampled["srtt_s"].iloc[-1] * 1000],
                where="post", color=HOST_COLOURS[0], lw=1.4, label="SRTT")
        ax.plot(sampled["t"], sampled["sample_s"] * 1000, "o", color=HOST_COLOURS[0], ms=4,
                alpha=0.6, label="RTT sample")
    top = ax.get_ylim()[1]
    for trigger, marker in TRIGGER_MARKERS.items():
        rows = re_sent[re_sent["trigger"] == trigger]
        if rows.empty:
            continue
        ax.plot(rows["t"], [top] * len(rows), marker, color=RTX_COLOUR if trigger == "ACK"
                else DROP_COLOUR, ms=8, ls="none", clip_on=False,
                label=f"retransmission after {'an ACK' if trigger == 'ACK' else 'a timer'}")
        for t, waited in zip(rows["t"], rows["waited_s"]):
            if trigger == "timer":
                ax.annotate(f"{waited * 1000:.0f} ms", (t, top), xytext=(0, -14),
                            textcoords="offset points", ha="center",
                            **text_kw("tiny", color=DROP_COLOUR))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("time (s)", fontsize=FONT["small"])
    ax.set_ylabel("milliseconds", fontsize=FONT["small"])
    ax.grid(True, color="#EEEEEE", lw=0.6)
    ax.legend(fontsize=FONT["tiny"], loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        name = trace.name or "trace"
        ax.set_title(f"{host}: RTT samples, SRTT and RTO (RFC 6298) — {name}",
                     fontsize=FONT["label"], loc="left")
    fig.subplots_adjust(left=0.09, right=0.74, top=0.88, bottom=0.14)
    ax.tcpsim = {"timeline": timeline, "retransmissions": re_sent}
    return fig if ax.figure is fig and len(fig.axes) == 1 else ax


def loss_sweep(table, ax=None, title=True):
    """Transfer time against loss rate, one line per profile: the median and the 90th
    percentile of ``retransmissions.transfer_times``'s runs (shaded between), log scale.
    ``ax.tcpsim["summary"]`` is the DataFrame drawn."""
    summary = (table.groupby(["profile", "loss"])["seconds"]
               .agg(median="median", p90=lambda s: s.quantile(0.9), runs="count")
               .reset_index())
    fig, ax = get_ax(ax, 4.2)
    for profile, rows in summary.groupby("profile", sort=False):
        colour = PROFILE_COLOURS.get(profile, MUTED)
        x = rows["loss"] * 100
        ax.plot(x, rows["median"], "o-", color=colour, lw=1.8, label=f"{profile}: median")
        ax.plot(x, rows["p90"], "s--", color=colour, lw=1.2, ms=4,
                label=f"{profile}: 90th percentile")
        ax.fill_between(x, rows["median"], rows["p90"], color=colour, alpha=0.12, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("loss rate of the sender's segments (%)", fontsize=FONT["small"])
    ax.set_ylabel("transfer time (s)", fontsize=FONT["small"])
    ax.grid(True, color="#EEEEEE", lw=0.6)
    ax.legend(fontsize=FONT["tiny"], loc="upper left")
    if title:
        runs = int(summary["runs"].max()) if len(summary) else 0
        ax.set_title(f"Transfer time against random loss ({runs} runs per point)",
                     fontsize=FONT["label"], loc="left")
    fig.subplots_adjust(left=0.09, right=0.97, top=0.88, bottom=0.14)
    ax.tcpsim = {"summary": summary}
    return fig if ax.figure is fig and len(fig.axes) == 1 else ax
