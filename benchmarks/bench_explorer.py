"""Time the explorer widget: one control change = set the value, re-simulate, redraw to SVG (text as text).

    .venv/bin/python benchmarks/bench_explorer.py

For each of the course's small scenarios an explorer is built (synchronous: debounce 0),
then controls are changed many times, as a student drags a slider or picks a segment to
drop: the delay slider (cycling through values, so every change re-simulates), the profile
toggle, and the drop list. Prints the median and worst time per scenario and overall,
against the targets (median < 50 ms, worst < 150 ms, never over 100 ms perceived), and
what one change costs part by part (simulate, ladder build, ladder SVG) to show where the
time goes. Then the player: building it, and one step through the trace. Prints figures;
asserts nothing.
"""
from __future__ import annotations

import json
import os
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import tcpsim  # noqa: E402
from tcpsim import plots, widgets  # noqa: E402
from tcpsim.widgets._pictures import figure_png, figure_svg  # noqa: E402
from tcpsim.widgets.explorer import NO_DROP  # noqa: E402

CAPTURES = os.path.join(os.path.dirname(__file__), "..", "data", "captures")
TARGET_MEDIAN_MS, TARGET_WORST_MS, TARGET_PERCEIVED_MS = 50, 150, 100
CHANGES = 30          # changes timed per control and scenario
DELAYS_MS = (0.01, 0.1, 1.0, 10.0, 20.0)


def capture_scenario(name):
    with open(os.path.join(CAPTURES, f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def two_hosts(name, actions, faults=(), server_options=None):
    return {"name": name, "profile": "linux", "seed": 1, "link": {"mtu": 1500},
            "hosts": {"client": {"port": 40000},
                      "server": {"port": 5001, "options": server_options or {}}},
            "actions": actions, "faults": list(faults)}


def scenarios():
    """The course's scenarios: (label, scenario dict)."""
    listen = {"at": 0.0, "host": "server", "do": "listen"}
    connect = {"at": 0.1, "host": "client", "do": "connect", "to": "server"}
    return [
        ("handshake", capture_scenario("handshake")),
        ("refused connect", capture_scenario("refused")),
        ("SYN loss", capture_scenario("syn-loss")),
        ("SYN-ACK loss", capture_scenario("synack-loss")),
        ("close, TIME-WAIT", capture_scenario("server-closes-first")),
        ("old SYN, two-way", two_hosts(
            "old duplicate SYN on a two-way handshake",
            [listen, {"at": 1.0, "host": "client", "do": "connect", "to": "server"},
             {"at": 1.5, "host": "client", "do": "send", "bytes": 100}],
            faults=[{"inject": {"at": 0.5, "from": "client", "flags": "S", "seq": 1000000}}],
            server_options={"handshake": "two-way"})),
        ("transfer, 1 lost", two_hosts(
            "small transfer, the 4th segment lost",
            [listen, connect, {"at": 0.3, "host": "client", "do": "send", "bytes": 14480},
             {"at": 0.8, "host": "client", "do": "close"},
             {"on": "eof", "host": "server", "do": "close"}],
            faults=[{"drop": {"from": "client", "data_segment": 4}}])),
    ]


def timed_changes(explorer, name, values):
    """Set control ``name`` to each value in turn: [(wall ms, CPU ms)] of each change.

    Wall time is what the student waits for; CPU time (this process only) is what it
    would be on an idle machine, when other programs share the processor."""
    widget = explorer.controls[name]
    times = []
    for value in values:
        if widget.value == value:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        widget.value = value          # observers run synchronously: simulate + SVG
        times.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        assert explorer.error is None, explorer.error
    return times


def parts(scenario):
    """Median CPU ms of: simulate, ladder build, ladder SVG (the explorer's picture), and
    the same ladder as PNG (the baseline the SVG replaced), for the scenario as given."""
    sim, build, svg, png = [], [], [], []
    for _ in range(15):
        t0 = time.process_time()
        trace = tcpsim.run(scenario)
        t1 = time.process_time()
        fig = plots.ladder(trace)
        t2 = time.process_time()
        figure_svg(fig)
        t3 = time.process_time()
        figure_png(fig)
        t4 = time.process_time()
        sim.append(t1 - t0)
        build.append(t2 - t1)
        svg.append(t3 - t2)
        png.append(t4 - t3)
    return ([statistics.median(x) * 1000 for x in (sim, build, svg, png)],
            len(trace.doc["segments"]))


def verdict(median, worst):
    ok = median < TARGET_MEDIAN_MS and worst < TARGET_WORST_MS
    return "met" if ok else "NOT met"


def median_worst(times):
    return statistics.median(times), max(times)


def main():
    print(f"explorer: one control change = set value + simulate + ladder SVG "
          f"(synchronous, {CHANGES} changes per control)")
    print(f"targets: median < {TARGET_MEDIAN_MS} ms, worst < {TARGET_WORST_MS} ms, "
          f"perceived < {TARGET_PERCEIVED_MS} ms")
    print("cells: median / worst ms; wall = waited, CPU = this process only (an idle "
          "machine's wall time)\n")
    print(f"  {'scenario':18s} {'segs':>4s} | {'delay':>6s} {'profile':>7s} {'drop':>6s} | "
          f"{'all, wall':>15s} | {'all, CPU':>15s} | CPU: simulate  build    SVG | PNG (baseline)")
    walls, cpus, svg_ratios = [], [], []
    for label, scenario in scenarios():
        e = widgets.explorer(scenario, controls=("profile", "delay_ms", "drop"), debounce_s=0)
        delays = [DELAYS_MS[k % len(DELAYS_MS)] for k in range(CHANGES + 1)]
        by_control = {"delay_ms": timed_changes(e, "delay_ms", delays)}
        by_control["profile"] = timed_changes(e, "profile", ["rfc9293", "linux"] * (CHANGES // 2))
        drops = [value for _, value in e.controls["drop"].options]
        by_control["drop"] = timed_changes(e, "drop", [drops[k % len(drops)]
                                                       for k in range(CHANGES)])
        e.controls["drop"].value = NO_DROP
        control_medians = " ".join(f"{statistics.median([w for w, _ in times]):{width}.1f}"
                                   for times, width in zip(by_control.values(), (6, 7, 6)))
        wall = [w for times in by_control.values() for w, _ in times]
        cpu = [c for times in by_control.values() for _, c in times]
        walls += wall
        cpus += cpu
        (sim, build, svg, png), n = parts(scenario)
        svg_ratios.append(png / svg)
        print(f"  {label:18s} {n:4d} | {control_medians} | "
              "%6.1f / %6.1f | %6.1f / %6.1f |" % (median_worst(wall) + median_worst(cpu)) +
              f"      {sim:6.1f} {build:6.1f} {svg:6.1f} | {png:6.1f}")
    print(f"\n  the ladder as SVG (text as text) is made {statistics.median(svg_ratios):.1f}x "
          "faster than as PNG (median over the scenarios)")
    for what, times in (("wall", walls), ("CPU", cpus)):
        median, worst = median_worst(times)
        p95 = sorted(times)[int(0.95 * len(times))]
        over = sum(1 for t in times if t > TARGET_PERCEIVED_MS)
        print(f"\n  overall, {what}: median {median:.1f} ms, 95th percentile {p95:.1f} ms, worst "
              f"{worst:.1f} ms over {len(times)} changes: targets {verdict(median, worst)}; "
              f"{over} changes over {TARGET_PERCEIVED_MS} ms", end="")
    print("\n\n  perceived = one change's time: the first change of a burst is drawn at once;"
          " changes within debounce_s after it wait, and only the latest is drawn")


def player_steps():
    """The player on each scenario: building it, then stepping through every instant twice
    (the first pass draws each state graph and buffer picture once, the second reuses them)."""
    print("\nplayer: build, then one step = move the slider + redraw every view "
          "(wall ms, median / worst)")
    print(f"  {'scenario':18s} {'steps':>5s} | {'build':>6s} | {'first pass':>15s} | "
          f"{'second pass':>15s}")
    for label, scenario in scenarios():
        trace = tcpsim.run(scenario)
        t0 = time.perf_counter()
        p = widgets.player(trace)
        build = (time.perf_counter() - t0) * 1000
        passes = []
        for _ in range(2):
            p.slider.index = 0
            steps = []
            for _ in range(len(p.times) - 1):
                t0 = time.perf_counter()
                p.step(+1)
                steps.append((time.perf_counter() - t0) * 1000)
            passes.append("%6.1f / %6.1f" % median_worst(steps))
        print(f"  {label:18s} {len(p.times) - 1:5d} | {build:6.0f} | {passes[0]} | {passes[1]}")



def run(quick=False) -> dict:
    """The overall figures that main() and player_steps() print (``python -m benchmarks``):
    every change of every control over the course's scenarios (with ``quick``: the first
    scenario, 4 changes per control), and one step of the player."""
    cases = scenarios()[:1] if quick else scenarios()
    changes = 4 if quick else CHANGES
    walls, cpus, steps, builds = [], [], [], []
    for _label, scenario in cases:
        e = widgets.explorer(scenario, controls=("profile", "delay_ms", "drop"), debounce_s=0)
        drops = [value for _, value in e.controls["drop"].options]
        for name, values in (("delay_ms", [DELAYS_MS[k % len(DELAYS_MS)]
                                           for k in range(changes + 1)]),
                             ("profile", ["rfc9293", "linux"] * (changes // 2)),
                             ("drop", [drops[k % len(drops)] for k in range(changes)])):
            for wall, cpu in timed_changes(e, name, values):
                walls.append(wall)
                cpus.append(cpu)
        trace = tcpsim.run(scenario)
        t0 = time.perf_counter()
        p = widgets.player(trace)
        builds.append((time.perf_counter() - t0) * 1000)
        for _ in range(len(p.times) - 1):
            t0 = time.perf_counter()
            p.step(+1)
            steps.append((time.perf_counter() - t0) * 1000)
    figures = {"explorer changes": len(walls)}
    for what, times in (("wall", walls), ("CPU", cpus)):
        median, worst = median_worst(times)
        figures[f"explorer change, {what}: median ms"] = round(median, 1)
        figures[f"explorer change, {what}: worst ms"] = round(worst, 1)
    figures[f"explorer targets (median < {TARGET_MEDIAN_MS}, worst < {TARGET_WORST_MS} ms, "
            "wall)"] = verdict(*median_worst(walls))
    figures["player build: median ms"] = round(statistics.median(builds), 1)
    figures["player step (first pass): median ms"] = round(statistics.median(steps), 1)
    figures["player step (first pass): worst ms"] = round(max(steps), 1)
    return figures


if __name__ == "__main__":
    main()
    player_steps()
