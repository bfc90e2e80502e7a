"""Time the explorer and the player against the peer, in one run.

    .venv/bin/python benchmarks/bench_explorer.py

Explorer: for each of the course's small scenarios an explorer is built (synchronous:
``debounce_s=0``), then controls are changed as a student drags a slider or picks a segment to
drop: the delay slider (every change re-simulates), the profile toggle, and the drop list. One
change = set the value, simulate, write the ladder's SVG (``plots.ladder.ladder_svg``) and the
summary line.

Peer: what the same change costs the usual way, in the same run, on the same scenarios:
simulate, build the same ladder with Matplotlib (``plots.ladder``) and write the PNG that
``%matplotlib inline`` sends (``bbox_inches="tight"``). The ratio peer / explorer is the
figure that compares across machines.

Player: building one, then stepping through every instant twice (the first pass draws each
picture for the first time, the second reuses them); and showing it once (its mimebundle,
with the static PNG for viewers without widgets).

Calibration: the time of a plain 10-million-step Python loop (0.4 s on a fast machine, 1.0 to
1.5 s on the slow ones). Prints figures beside the previous ones; asserts nothing.
"""
from __future__ import annotations

import io
import json
import os
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import tcpsim  # noqa: E402
from tcpsim import plots, widgets  # noqa: E402
from tcpsim.widgets.explorer import NO_DROP  # noqa: E402
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))  # calibration.py, as a script too
from calibration import calibration_s  # noqa: E402

CAPTURES = os.path.join(os.path.dirname(__file__), "..", "data", "captures")
TARGETS = {"explorer median ms": 15, "explorer worst ms": 50, "peer / explorer": 10,
           "player step worst ms": 30, "player build ms": 300}
# "player build ms" is the worst of the builds after the first one; the first one of a process
# may also pay one-time costs (font metrics, the state graph's arcs), printed on its own line
# the figures before the explorer drew its own SVG (main 5234d7f, this project's machine)
PREVIOUS = {"explorer median ms": 33.8, "explorer p95 ms": 49.9, "explorer worst ms": 59.7,
            "changes": 623, "player first-pass step median ms": 110}
CHANGES = 30          # changes timed per control and scenario
PEER_RUNS = 5         # peer changes timed per control and scenario
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


def peer_change(scenario) -> float:
    """Wall ms of the peer's change: simulate, Matplotlib ladder, the inline backend's PNG."""
    start = time.perf_counter()
    trace = tcpsim.run(scenario)
    fig = plots.ladder(trace)
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    return (time.perf_counter() - start) * 1000


def peer_changes(explorer, name, values):
    """The peer's time for the scenarios the explorer ran for these control values."""
    widget, times = explorer.controls[name], []
    for value in values[:PEER_RUNS]:
        widget.value = value
        times.append(peer_change(explorer.scenario))
    return times


def percentile(times, p):
    return sorted(times)[min(len(times) - 1, int(p * len(times)))]


def explorer_figures(out, cases, changes):
    print(f"explorer: one change = set a control, simulate, ladder SVG + summary (synchronous, "
          f"{changes} changes per control); peer = simulate + Matplotlib ladder + inline PNG")
    print(f"  {'scenario':18s} {'segs':>4s} | {'explorer ms: median / worst':>26s} | "
          f"{'peer ms: median':>15s} | {'ratio':>5s}")
    walls, cpus, peers = [], [], []
    for label, scenario in cases:
        e = widgets.explorer(scenario, controls=("profile", "delay_ms", "drop"), debounce_s=0)
        delays = [DELAYS_MS[k % len(DELAYS_MS)] for k in range(changes + 1)]
        drops = [value for _, value in e.controls["drop"].options]
        drops = [drops[k % len(drops)] for k in range(changes)]
        profiles = ["rfc9293", "linux"] * (changes // 2)
        times = (timed_changes(e, "delay_ms", delays) + timed_changes(e, "profile", profiles)
                 + timed_changes(e, "drop", drops))
        e.controls["drop"].value = NO_DROP
        peer = (peer_changes(e, "delay_ms", delays[1:]) + peer_changes(e, "drop", drops[1:])
                + peer_changes(e, "profile", profiles))
        e.controls["drop"].value = NO_DROP
        wall = [w for w, _ in times]
        walls += wall
        cpus += [c for _, c in times]
        peers += peer
        ratio = statistics.median(peer) / statistics.median(wall)
        print(f"  {label:18s} {len(e.trace.doc['segments']):4d} | "
              f"{statistics.median(wall):12.1f} / {max(wall):11.1f} | "
              f"{statistics.median(peer):15.1f} | {ratio:5.1f}")
    median, worst = statistics.median(walls), max(walls)
    out.update({"explorer changes": len(walls), "explorer median ms": round(median, 2),
                "explorer p95 ms": round(percentile(walls, 0.95), 2),
                "explorer worst ms": round(worst, 2),
                "explorer CPU median ms": round(statistics.median(cpus), 2),
                "explorer CPU worst ms": round(max(cpus), 2),
                "peer median ms": round(statistics.median(peers), 1),
                "peer / explorer": round(statistics.median(peers) / median, 1)})


def player_figures(out, cases):
    print("\nplayer: build, then one step = move the slider + redraw every view (ms, median / "
          "worst; CPU = this process only); show = its mimebundle (widget + static PNG)")
    print(f"  {'scenario':18s} {'steps':>5s} | {'build':>6s} | {'first pass, wall':>16s} | "
          f"{'first pass, CPU':>15s} | {'second pass':>15s} | {'show':>5s}")
    builds, first, first_cpu, second = [], [], [], []
    for label, scenario in cases:
        trace = tcpsim.run(scenario)
        _ = trace.tcb                 # the TCB table (pandas) is the trace's, not the player's
        start = time.perf_counter()
        p = widgets.player(trace)
        builds.append((time.perf_counter() - start) * 1000)
        passes, cpu = [], []
        for _ in range(2):
            p.slider.index = 0
            steps = []
            for _ in range(len(p.times) - 1):
                start, start_cpu = time.perf_counter(), time.process_time()
                p.step(+1)
                steps.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            passes.append(steps)
        first += passes[0]
        first_cpu += cpu[:len(passes[0])]
        second += passes[1]
        start = time.perf_counter()
        p._repr_mimebundle_()
        show = (time.perf_counter() - start) * 1000
        print(f"  {label:18s} {len(p.times) - 1:5d} | {builds[-1]:6.0f} | "
              "%7.1f / %6.1f | %6.1f / %6.1f | %6.1f / %6.1f" % (
                  statistics.median(passes[0]), max(passes[0]),
                  statistics.median(cpu[:len(passes[0])]), max(cpu[:len(passes[0])]),
                  statistics.median(passes[1]), max(passes[1])) + f" | {show:5.0f}")
    out.update({"player first build ms": round(builds[0], 1),
                "player build ms": round(max(builds[1:]), 1),
                "player step median ms": round(statistics.median(first), 2),
                "player step worst ms": round(max(first), 2),
                "player step CPU worst ms": round(max(first_cpu), 2),
                "player second-pass median ms": round(statistics.median(second), 2)})


def run(quick=False) -> dict:
    """Every figure, measured now (the calibration loop first and last); ``quick``: two
    scenarios and 4 changes per control (``python -m benchmarks --quick``, a smoke test)."""
    cases = scenarios()[:2] if quick else scenarios()
    out = {"calibration loop s": round(calibration_s(), 3)}
    explorer_figures(out, cases, 4 if quick else CHANGES)
    player_figures(out, cases)
    out["calibration loop s (after)"] = round(calibration_s(), 3)
    for name, target in TARGETS.items():
        ok = out[name] >= target if name == "peer / explorer" else out[name] < target
        out[f"target {name}"] = f"{'met' if ok else 'NOT met'} ({'>=' if 'peer' in name else '<'}"\
                                f" {target})"
    return out


def main():
    out = run()
    print("\nfigures (calibration: a plain 10-million-step Python loop took "
          f"{out['calibration loop s']} s before, {out['calibration loop s (after)']} s after)")
    for name, value in out.items():
        before = PREVIOUS.get(name)
        print(f"  {name:32s} {value!s:>14}" + (f"   (before: {before})" if before else ""))
    print(f"  {'previous player first-pass step':32s} {'':>14}   "
          f"(before: median {PREVIOUS['player first-pass step median ms']} ms)")




if __name__ == "__main__":
    main()
