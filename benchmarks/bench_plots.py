"""Time drawing tcpsim pictures (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_plots.py

Main figure: a 300-segment ladder, built and rendered to PNG (Agg) — target < 300 ms.
"""
from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

import tcpsim  # noqa: E402
from tcpsim import plots  # noqa: E402

from scenarios import bulk  # noqa: E402


def bulk_trace(target=300):
    """A scenario whose trace has about ``target`` segments (a lossy bulk transfer)."""
    n_bytes = 60000
    while True:
        sc = bulk(n_bytes, loss_p=0.03, loss_from="client", delay_s=0.02, send_at=0.05,
                  close_at=3, until=5)
        trace = tcpsim.run(sc)
        if len(trace.doc["segments"]) >= target:
            return trace
        n_bytes = int(n_bytes * 1.3)


def best_of(fn, n=5):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, sorted(times)[len(times) // 2] * 1000


def render(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")


def draw(fig):
    FigureCanvasAgg(fig).draw()


def baseline(n):
    """A plain matplotlib figure of the same size with n lines and n short texts."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(9.5, 90), dpi=100)
    ax = fig.add_subplot()
    for k in range(n):
        ax.plot([0, 1], [k, k + 1])
        ax.text(0.5, k, f"seq={k * 1448}")
    return fig


def phases(label, make, ref=None):
    """build, Agg draw, build + PNG save (ms, best of 5); with the ratio to ``ref``."""
    b = best_of(make)[0]
    figs = [make() for _ in range(5)]
    d = min(best_of(lambda: draw(figs.pop()), n=5)[0], 1e9)
    s = best_of(lambda: render(make()))[0]
    out = f"  {label:14s} build {b:5.0f} ms  draw {d:5.0f} ms  build+PNG {s:5.0f} ms"
    if ref is not None:
        out += f"  ({s / ref:.1f}x baseline)"
    print(out)
    return s


def main():
    trace = bulk_trace()
    segs = trace.doc["segments"][:300]
    doc = dict(trace.doc, segments=segs)
    small = tcpsim.Trace(doc)
    n = len(segs)
    print(f"ladder, {n} segments (best of 5; target: build + PNG < 300 ms):")
    ref = phases("baseline", lambda: baseline(n))
    phases("ladder", lambda: plots.ladder(small), ref)
    print("other pictures (build + PNG):")
    print("  state_graph     best %.0f ms  median %.0f ms"
          % best_of(lambda: render(plots.state_graph(trace, host="client"))))
    print("  time_sequence   best %.0f ms  median %.0f ms"
          % best_of(lambda: render(plots.time_sequence(trace, host="client"))))
    print("  buffers         best %.0f ms  median %.0f ms"
          % best_of(lambda: render(plots.buffers(trace, 0.2))))
    print("  header          best %.0f ms  median %.0f ms"
          % best_of(lambda: render(plots.header(trace.segments.iloc[0], trace=trace))))


if __name__ == "__main__":
    main()
