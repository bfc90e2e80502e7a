"""Port exhaustion against the connection rate (``tcpsim.exhaustion.sweep``).

    table = exhaustion.sweep([1, 2, 3, 4, 5])
    plots.exhaustion_sweep(table)

Two panels over the same x axis (new connections per second to one server address and
port): the most connections the client held in TIME-WAIT at once, against the number of
ports; and how many ``connect()`` calls failed with EADDRNOTAVAIL. A dashed line marks the
back-of-envelope limit, ports / TIME-WAIT length.
"""
from __future__ import annotations

from .style import FIG_WIDTH, FONT, MUTED, OKABE_ITO, new_figure

COLUMNS = ("rate_per_s", "connects", "failures", "max_time_wait", "limit_per_s")


def exhaustion_sweep(table, ports: int | None = None, title: bool = True):
    """The sweep's table as a two-panel figure; ``ports``: the port count to draw as the
    ceiling of the TIME-WAIT panel (default: the limit times 60 s)."""
    missing = [c for c in COLUMNS if c not in getattr(table, "columns", ())]
    if missing:
        raise ValueError(f"table: needs the columns of exhaustion.sweep(); missing "
                         f"{', '.join(missing)}")
    if len(table) == 0:
        raise ValueError("table: no rows (run exhaustion.sweep with at least one rate)")
    limit = float(table["limit_per_s"].iloc[0])
    if ports is None:
        ports = round(limit * 60)
    fig = new_figure(5.2, FIG_WIDTH)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"hspace": 0.12})
    rates = table["rate_per_s"]
    top.plot(rates, table["max_time_wait"], "o-", color=OKABE_ITO["blue"],
             label="most connections in TIME-WAIT at once")
    top.axhline(ports, color=MUTED, linewidth=1, linestyle=":")
    top.text(rates.max(), ports, f"{ports} ports ", va="bottom", ha="right",
             fontsize=FONT["small"], color=MUTED)
    top.set_ylabel("in TIME-WAIT", fontsize=FONT["label"])
    top.set_ylim(0, ports * 1.18)
    share = table["failures"] / table["connects"] * 100
    bottom.bar(rates, share, width=(rates.max() - rates.min()) / max(len(rates), 1) * 0.5,
               color=OKABE_ITO["vermillion"], label="connect() failed (EADDRNOTAVAIL)")
    bottom.set_ylabel("failed connects, %", fontsize=FONT["label"])
    bottom.set_ylim(0, 100)
    bottom.set_xlabel("new connections per second (one server address and port)",
                      fontsize=FONT["label"])
    for ax, where in ((top, "lower right"), (bottom, "upper left")):
        ax.axvline(limit, color="black", linewidth=1, linestyle="--")
        ax.tick_params(labelsize=FONT["small"])
        ax.legend(loc=where, fontsize=FONT["small"], frameon=False)
    top.text(limit, ports * 0.5, f" ports / 60 s\n = {limit:.3g} per s", va="center",
             fontsize=FONT["small"])
    if title:
        top.set_title(f"{int(table['connects'].max())} connect() calls at the fastest rate; "
                      "every connection closes first and waits 60 s in TIME-WAIT",
                      fontsize=FONT["text"], loc="left")
    fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.11)
    return fig
