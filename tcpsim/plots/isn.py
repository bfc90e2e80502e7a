"""Notebook 03's pictures: ISN generators over time, the stale-segment Monte Carlo, and a
flooded listener's SYN queue (data from ``tcpsim.isn_experiments``)."""
from __future__ import annotations

from ._common import get_ax
from .style import FONT, MUTED, OKABE_ITO, new_figure, text_kw

SEQ_SPACE = 2 ** 32
STRATEGY_COLOURS = {"zero": OKABE_ITO["vermillion"], "clock": OKABE_ITO["blue"],
                    "rfc6528": OKABE_ITO["bluish_green"], "random": OKABE_ITO["orange"]}
PANEL_TITLES = {"clock": "RFC 793: a 4 µs clock (the rfc9293 profile)",
                "rfc6528": "RFC 6528: keyed hash of the 4-tuple + 64 ns clock (Linux)",
                "random": "random ISNs"}


def _time_axis(seconds_max):
    """(divisor, unit) so that the axis reads in s, min or h."""
    if seconds_max >= 3 * 3600:
        return 3600.0, "h"
    if seconds_max >= 600:
        return 60.0, "min"
    return 1.0, "s"


def isn_generators(table, strategies=("clock", "rfc6528", "random")):
    """ISNs of successive connections against time, one panel per strategy (a
    ``isn_experiments.generator_table``); a clock's wrap shows as a drop to 0."""
    fig = new_figure(1.0 + 2.3 * len(strategies))
    divisor, unit = _time_axis(float(table["t_s"].max()))
    axes = []
    for k, strategy in enumerate(strategies):
        ax = fig.add_subplot(len(strategies), 1, k + 1, sharex=axes[0] if axes else None)
        axes.append(ax)
        rows = table[table["strategy"] == strategy]
        for series, part in rows.groupby("series", sort=False):
            fixed = series == "one 4-tuple"
            ax.plot(part["t_s"] / divisor, part["isn"] / 1e9, "o" if not fixed else "s",
                    ms=3.5 if not fixed else 3.0, ls="none",
                    color=STRATEGY_COLOURS[strategy] if not fixed else OKABE_ITO["black"],
                    label=f"{series} (port {int(part['port'].iloc[0])})" if fixed else series)
        ax.axhline(SEQ_SPACE / 1e9, color=MUTED, lw=0.8, ls="--")
        ax.text(0.995, SEQ_SPACE / 1e9, "2³²", transform=ax.get_yaxis_transform(),
                ha="right", va="bottom", color=MUTED, fontsize=FONT["small"])
        ax.set_ylim(0, 4.6)
        ax.set_ylabel("ISN (×10⁹)", fontsize=FONT["label"])
        ax.set_title(PANEL_TITLES.get(strategy, strategy), fontsize=FONT["text"], loc="left")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=FONT["tiny"],
                  frameon=False, ncol=2, borderaxespad=0.2)
    axes[-1].set_xlabel(f"time of the connect() ({unit})", fontsize=FONT["label"])
    fig.tight_layout()
    return fig


def stale_acceptance(result, expected=None, wraps=None, ax=None):
    """The Monte Carlo's fractions (an ``isn_experiments.stale_acceptance`` table) against
    the time between incarnations, log-log. A point with no accepted run is drawn on the
    bottom edge, hollow; ``expected``: {label: fraction} horizontal dashed lines; ``wraps``:
    {strategy: seconds}, a dotted line at each clock's wrap time."""
    given = ax is not None
    fig, ax = get_ax(ax, 4.6)
    runs = int(result["runs"].max())
    floor = 0.3 / runs
    for k, (strategy, part) in enumerate(result.groupby("strategy", sort=False)):
        colour = STRATEGY_COLOURS.get(strategy, MUTED)
        bottom = floor * 1.25 ** k          # each strategy's "none" row a little apart
        hit = part[part["accepted"] > 0]
        miss = part[part["accepted"] == 0]
        ax.plot(part["gap_s"], part["fraction"].where(part["accepted"] > 0, bottom), "-",
                color=colour, lw=1, alpha=0.5)
        ax.plot(hit["gap_s"], hit["fraction"], "o", color=colour, ms=5,
                label=_label(strategy))
        ax.plot(miss["gap_s"], [bottom] * len(miss), "o", mfc="white", color=colour, ms=5)
    for label, value in (expected or {}).items():
        ax.axhline(value, color=MUTED, lw=0.9, ls="--", label=label)
    for strategy, period in (wraps or {}).items():
        ax.axvline(period, color=STRATEGY_COLOURS.get(strategy, MUTED), lw=0.8, ls=":")
        ax.text(period * 1.05, 0.5, f"{_label(strategy).split(':')[0]} wraps",
                rotation=90, va="top", **text_kw("tiny", color=MUTED))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(floor * 0.6, 1.0)
    ax.set_xlabel("time between the two incarnations' connect() (s)", fontsize=FONT["label"])
    ax.set_ylabel("fraction of stale segments accepted", fontsize=FONT["label"])
    ax.set_title(f"{runs:,} stale segments per point (hollow on the bottom edge: none "
                 "accepted)", fontsize=FONT["text"], loc="left")
    ax.legend(loc="center left", bbox_to_anchor=(0.16, 0.5), fontsize=FONT["small"],
              frameon=False)
    if given:
        return ax
    fig.tight_layout()
    return fig


def _label(strategy):
    from ..isn_experiments import STRATEGY_LABELS
    return STRATEGY_LABELS.get(strategy, strategy)


def flood_queue(queue, backlog=None, ax=None):
    """A flooded listener (``isn_experiments.flood_queue``): requests in its SYN queue and
    SYN cookies sent so far, against time. ``backlog``: a dashed line at the queue's limit
    (Linux holds backlog + 1)."""
    given = ax is not None
    fig, ax = get_ax(ax, 3.6)
    ax.step(queue["t"], queue["syn_queue"], where="post", color=OKABE_ITO["blue"], lw=2,
            label="requests in the SYN queue (SYN-RECEIVED, state kept)")
    ax.step(queue["t"], queue["cookies"], where="post", color=OKABE_ITO["vermillion"], lw=2,
            label="SYN-ACKs with a SYN cookie so far (no state kept)")
    if backlog is not None:
        ax.axhline(backlog + 1, color=MUTED, lw=0.9, ls="--")
        ax.text(queue["t"].max(), backlog + 1, f"backlog + 1 = {backlog + 1}", ha="right",
                va="bottom", **text_kw("small", color=MUTED))
    ax.set_xlabel("time (s)", fontsize=FONT["label"])
    ax.set_ylabel("count", fontsize=FONT["label"])
    ax.legend(loc="upper left", fontsize=FONT["small"], frameon=False)
    if given:
        return ax
    fig.tight_layout()
    return fig
