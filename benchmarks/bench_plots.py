"""Time drawing tcpsim pictures (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_plots.py

Main figure: a 300-segment ladder, built and rendered to PNG (Agg) — target < 300 ms.
"""
from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")

import tcpsim  # noqa: E402
from tcpsim import plots  # noqa: E402


def bulk_trace(target=300):
    """A scenario whose trace has about ``target`` segments (a lossy bulk transfer)."""
    n_bytes = 60000
    while True:
        sc = {"tcpsim": 1, "name": "bench", "profile": "linux", "seed": 3,
              "link": {"delay": 0.02, "mtu": 1500},
              "hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
              "actions": [{"at": 0, "host": "server", "do": "listen"},
                          {"at": 0, "host": "client", "do": "connect", "to": "server"},
                          {"at": 0.05, "host": "client", "do": "send", "bytes": n_bytes},
                          {"at": 3, "host": "client", "do": "close"},
                          {"on": "eof", "host": "server", "do": "close"}],
              "faults": [{"loss": {"p": 0.03, "from": "client"}}], "until": 5}
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


def main():
    trace = bulk_trace()
    segs = trace.doc["segments"][:300]
    doc = dict(trace.doc, segments=segs)
    small = tcpsim.Trace(doc)
    n = len(segs)
    print(f"ladder, {n} segments:")
    print("  build only      best %.0f ms  median %.0f ms" % best_of(lambda: plots.ladder(small)))
    print("  build + PNG     best %.0f ms  median %.0f ms  (target < 300 ms)"
          % best_of(lambda: render(plots.ladder(small))))
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
