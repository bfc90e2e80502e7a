"""Time drawing the state graph (``plots.state_graph``): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_states.py

The player (``tcpsim.widgets.player``) shows both hosts' state graphs side by side, each
6 x 5.3 in at 80 dpi (480 px wide), and draws a new one for every new state at time ``t``
on its first pass through a trace: what a student waits for is build + PNG at that size
(target < 60 ms). Measured here as the player does it (``StateGraphPictures.draw``), and at
the notebook's size (9.5 in at 100 dpi, ``plots.state_graph(trace, host=...)``), for each
state of both hosts of the handshake capture (connect, 100 B each way, close, TIME-WAIT).

BEFORE holds the same figures for the code before the issue "Pictures and players"
(FancyArrowPatch arcs clipped to the boxes by Matplotlib, every label drawn at every size),
measured once on the machine that ran this file then.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import tcpsim  # noqa: E402
from tcpsim import plots  # noqa: E402
from tcpsim.widgets.views import StateGraphPictures  # noqa: E402

TRACE = Path(__file__).resolve().parents[1] / "data" / "captures" / "handshake.json"
TARGET_PLAYER_MS = 60
BEFORE = {"player": 193.0, "notebook build": 74.0, "notebook": 223.0}   # median ms


def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1000


def png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def run(quick=False, runs=7) -> dict:
    """Median ms over the pictures of each way of drawing, with the before/now ratio."""
    if quick:
        runs = 1
    trace = tcpsim.run(str(TRACE))
    cases = [(host, row["t"]) for host in ("client", "server")
             for row in trace.doc["states"] if row["host"] == host]
    if quick:
        cases = cases[:2]
    player = {host: StateGraphPictures(trace, host) for host in ("client", "server")}
    for host, t in cases[:2]:                      # warm up (fonts, caches)
        player[host].draw(t)
        png(plots.state_graph(trace, host=host, t=t))
    now = {
        "player": [median_ms(lambda: player[h].draw(t), runs) for h, t in cases],
        "notebook build": [median_ms(lambda: plots.state_graph(trace, host=h, t=t), runs)
                           for h, t in cases],
        "notebook": [median_ms(lambda: png(plots.state_graph(trace, host=h, t=t)), runs)
                     for h, t in cases],
    }
    figures = {"pictures": len(cases), "runs each": runs}
    for name, what in (("player", "player, 6 in at 80 dpi, build + PNG"),
                       ("notebook build", "notebook, 9.5 in at 100 dpi, build"),
                       ("notebook", "notebook, 9.5 in at 100 dpi, build + PNG")):
        times = sorted(now[name])
        middle = times[len(times) // 2]
        figures[f"{what}: median ms"] = round(middle, 1)
        figures[f"{what}: max ms"] = round(times[-1], 1)
        figures[f"{what}: before / now"] = round(BEFORE[name] / middle, 1)
    figures[f"player target < {TARGET_PLAYER_MS} ms"] = (
        "met" if figures["player, 6 in at 80 dpi, build + PNG: median ms"] < TARGET_PLAYER_MS
        else "NOT met")
    return figures


def main():
    print(f"state graph: each state of both hosts of {TRACE.name}, median of 7 runs each, "
          "then the median over the pictures:")
    for name, value in run().items():
        print(f"  {name:50s} {value}")


if __name__ == "__main__":
    main()
