"""Time drawing tcpsim pictures (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_plots.py

Main figures (the issue's targets; "drawn" = built and saved as PNG with Agg at 100 dpi,
which is what a student waits for):

* a 300-segment trace's ladder, as ``plots.ladder(trace)`` draws it by default (a window of
  the first ``MAX_SEGMENTS``): target < 300 ms. For reference, the whole trace
  (``segments="all"``, what ``ladder`` drew before it drew windows), measured here too.
* small ladders of about 10 segments, as PNG: a handshake with data (9 segments) and a close
  with TIME-WAIT (11). No target: the widgets, which redraw on every change, write SVG from
  the pictures' scenes instead (the last table: the same pictures, SVG against PNG, timed in
  turn in one loop; benchmarks/bench_explorer.py has the widgets' own figures).

Each ladder is also compared with its "text floor": a plain figure of the same size holding
only the same texts (no boxes, arrows or lines). With Matplotlib 3.11 Agg, text costs about
80 µs per character drawn, so the floor is what the picture's words cost by themselves.
"""
from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import tcpsim  # noqa: E402
from tcpsim import plots  # noqa: E402
from tcpsim.plots.ladder import MAX_SEGMENTS  # noqa: E402

from scenarios import bulk  # noqa: E402

TARGET_LONG_MS = 300


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


def first_segments(trace, n):
    """The trace with only its first ``n`` segments (states and calls kept)."""
    return tcpsim.Trace(dict(trace.doc, segments=trace.doc["segments"][:n]))


HOSTS = {"client": {"port": 40000}, "server": {"port": 5001}}
OPEN = [{"at": 0, "host": "server", "do": "listen"},
        {"at": 0, "host": "client", "do": "connect", "to": "server"}]


def data_trace():
    """Handshake, 2000 bytes and a 100-byte reply, no close: 9 segments."""
    actions = OPEN + [{"at": 0.05, "host": "client", "do": "send", "bytes": 2000},
                      {"at": 0.2, "host": "server", "do": "send", "bytes": 100}]
    return tcpsim.run({"name": "data", "link": {"delay": 0.01, "mtu": 1500}, "hosts": HOSTS,
                       "actions": actions, "until": 1})


def close_trace():
    """Handshake, 100 bytes each way, the client closes first: 11 segments, TIME-WAIT."""
    actions = OPEN + [{"at": 0.25, "host": "client", "do": "send", "bytes": 100},
                      {"at": 0.25, "host": "server", "do": "send", "bytes": 50},
                      {"at": 0.5, "host": "client", "do": "close"},
                      {"at": 1.0, "host": "server", "do": "close"}]
    return tcpsim.run({"name": "close", "link": {"delay": 0.001}, "hosts": HOSTS,
                       "actions": actions})


def timed(*fns, n=7):
    """[(median, best)] in ms of each function, run ``n`` times in turn (so that a busy
    machine slows them alike and their ratio still holds)."""
    times = [[] for _ in fns]
    for _ in range(n):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    out = []
    for ts in times:
        ts.sort()
        out.append((ts[len(ts) // 2] * 1000, ts[0] * 1000))
    return out if len(fns) > 1 else out[0]


def render(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")


def text_floor(fig):
    """A plain figure of ``fig``'s size with only its visible texts, at the same places."""
    floor = Figure(figsize=fig.get_size_inches(), dpi=fig.dpi)
    w, h = fig.bbox.width, fig.bbox.height
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text():
            continue
        x, y = t.get_transform().transform(t.get_position())
        floor.text(x / w, y / h, t.get_text(), fontsize=t.get_fontsize(),
                   family=t.get_fontfamily(), fontweight=t.get_fontweight(),
                   style=t.get_style(), ha=t.get_ha(), va=t.get_va())
    return floor


def ladder_line(label, make, target=None, ref=None, ref_label="", runs=7, figures=None):
    """Print build and build + PNG times of ``make()`` (a Figure), the text floor, the
    target; put them into ``figures`` (a dict) too. Returns the build + PNG median ms."""
    fig = make()
    chars = sum(len(t.get_text()) for t in fig.findobj(Text) if t.get_visible())
    build = timed(make, n=runs)[0]
    (png, best), (floor, _) = timed(lambda: render(make()), lambda: render(text_floor(fig)),
                                    n=runs)
    out = (f"  {label:30s} build {build:5.0f} ms   build+PNG {png:5.0f} ms (best {best:4.0f})"
           f"   {fig.get_size_inches()[1]:4.1f} in, {chars:4d} chars,"
           f" {png / floor:.1f}x its text floor ({floor:.0f} ms)")
    if figures is not None:
        figures[f"{label}: build ms"] = round(build, 1)
        figures[f"{label}: build + PNG ms"] = round(png, 1)
        figures[f"{label}: / its text floor"] = round(png / floor, 1)
    if ref is not None:
        out += f", {png / ref:.2f}x {ref_label}"
        if figures is not None:
            figures[f"{label}: / {ref_label}"] = round(png / ref, 2)
    if target is not None:
        out += f"   target < {target} ms: {'met' if png < target else 'NOT met'}"
        if figures is not None:
            figures[f"{label}: target < {target} ms"] = "met" if png < target else "NOT met"
    if figures is None:
        print(out)
    return png


def svg_lines(trace, figures, runs=7, verbose=False):
    """The pictures the widgets show, as SVG written from their scenes, against the same
    pictures built and saved as PNG by Matplotlib (timed in turn, in the same loop);
    ``trace``: a simulated one (with TCB snapshots, for the buffers)."""
    from tcpsim.plots.ladder import ladder_svg
    small = data_trace()
    assert not trace.tcb.empty
    t = trace.doc["segments"][len(trace.doc["segments"]) // 3]["t"]
    if verbose:
        print("the same pictures as SVG from their scenes (what the widgets show) vs "
              f"Matplotlib build + PNG, median of {runs}:")
    for name, png, svg in (
            ("ladder, 9 segments", lambda: render(plots.ladder(small)),
             lambda: ladder_svg(small)),
            (f"ladder, first {MAX_SEGMENTS}", lambda: render(plots.ladder(trace)),
             lambda: ladder_svg(trace)),
            ("state_graph", lambda: render(plots.state_graph(trace, host="client")),
             lambda: plots.state_graph_svg(trace, host="client")),
            ("buffers", lambda: render(plots.buffers(trace, t)),
             lambda: plots.buffers_svg(trace, t))):
        (png_ms, _), (svg_ms, _) = timed(png, svg, n=runs)
        if verbose:
            print(f"  {name:22s} SVG {svg_ms:6.1f} ms   PNG {png_ms:6.0f} ms   {png_ms / svg_ms:5.0f}x")
        figures[f"{name} SVG ms"] = round(svg_ms, 2)
        figures[f"{name} PNG / SVG"] = round(png_ms / svg_ms, 1)


def run(quick=False, verbose=False) -> dict:
    """The figures (``verbose``: also print each line as it is measured)."""
    runs = 1 if quick else 7
    figures = {}
    out = None if verbose else figures
    trace = bulk_trace(60 if quick else 300)
    long = first_segments(trace, 60 if quick else 300)
    n = len(long.doc["segments"])
    if verbose:
        print(f"ladder of a {n}-segment trace (median of 7 runs, 3 for all segments):")
    figures["long trace: segments"] = n
    whole = ladder_line("all segments (segments='all')",
                        lambda: plots.ladder(long, segments="all"), runs=min(runs, 3),
                        figures=out)
    ladder_line(f"default: first {MAX_SEGMENTS} + note", lambda: plots.ladder(long),
                TARGET_LONG_MS, whole, "all segments", runs=runs, figures=out)
    middle = (120, 120 + MAX_SEGMENTS)
    if not quick:
        ladder_line(f"segments={middle}", lambda: plots.ladder(long, segments=middle),
                    TARGET_LONG_MS, whole, "all segments", runs=runs, figures=out)
    if verbose:
        print("small ladders, PNG (the explorer draws SVG: see bench_explorer.py):")
    for what, small in (("handshake + data", data_trace()), ("close, TIME-WAIT", close_trace())):
        ladder_line(f"{what} ({len(small.doc['segments'])} segments)",
                    lambda: plots.ladder(small), runs=runs, figures=out)
    if verbose:
        print("other pictures (build + PNG, median / best of 7):")
    for name, make in (("state_graph", lambda: plots.state_graph(trace, host="client")),
                       ("time_sequence", lambda: plots.time_sequence(trace, host="client")),
                       ("buffers", lambda: plots.buffers(trace, 0.2)),
                       ("header", lambda: plots.header(trace.segments.iloc[0], trace=trace))):
        median, best = timed(lambda: render(make()), n=runs)
        figures[f"{name}: build + PNG median ms"] = round(median, 1)
        if verbose:
            print("  %-15s %4.0f ms / %4.0f ms" % (name, median, best))
    svg_lines(trace, figures, runs=runs, verbose=verbose)
    return figures


def main():
    run(verbose=True)


if __name__ == "__main__":
    main()
