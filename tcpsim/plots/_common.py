"""Helpers shared by the plots: accept a Trace or a trace document, get an Axes."""
from __future__ import annotations

import math

import numpy as np

from ..trace import Trace
from .style import new_figure

MOD = 2 ** 32


def as_trace(trace) -> Trace:
    """A ``Trace`` from a Trace, a trace document (dict) or its JSON text."""
    if isinstance(trace, Trace):
        return trace
    if isinstance(trace, str):
        import json
        trace = json.loads(trace)
    if isinstance(trace, dict):
        return Trace(trace)
    raise TypeError(f"expected a tcpsim Trace or a trace document, got {type(trace).__name__}")


def get_ax(ax, height, width=None):
    """(fig, ax): the given Axes and its figure, or a new Figure with one Axes."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(height) if width is None else new_figure(height, width)
    return fig, fig.add_subplot(1, 1, 1)


def isnan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def rel(value, base):
    """``value - base`` mod 2^32 (None if either is unknown)."""
    if isnan(value) or isnan(base):
        return None
    return (int(value) - int(base)) % MOD


def seg_rows(trace):
    return trace.doc.get("segments", [])


def tcb_at(trace, host, t):
    """The host's last TCB snapshot at or before ``t``, as a dict (None if none yet).

    Each host's rows are read out of ``trace.tcb`` once (kept on the trace), so that a
    player's step looks a snapshot up by bisection instead of filtering the DataFrame
    (about 1 ms a host)."""
    by_host = getattr(trace, "_tcb_rows_by_host", None)
    if by_host is None:
        tcb = trace.tcb
        by_host = {}
        for name in tcb["host"].unique() if not tcb.empty else ():
            rows = tcb[tcb["host"] == name]
            by_host[name] = (rows["t"].to_numpy(), [row.to_dict() for _, row in rows.iterrows()])
        trace._tcb_rows_by_host = by_host
    if host not in by_host:
        return None
    times, records = by_host[host]
    k = int(np.searchsorted(times, t, side="right")) - 1
    return records[k] if k >= 0 else None
