"""Helpers shared by the plots: accept a Trace or a trace document, get an Axes."""
from __future__ import annotations

import math

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
