"""Ephemeral-port choice (tcpsim.ports): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_ports.py

Fills a 5 000-port range for one destination (every port stays held, as in TIME-WAIT), once
with ``EphemeralPorts.connect()`` (the kernel's port-by-port scan, one ``usable()`` call per
port passed) and once with ``connect_held()`` (the same choices from a ``HeldPorts``), then the
whole default range [32768, 60999] with ``connect_held()`` only (the scan would take
minutes: about 2e8 ``usable()`` calls). Printed beside a calibration figure (a 10-million-
step Python loop) and as ratios measured in the same run.

Then the simulator itself (issue 14's speed target): 30 000 sequential short connections
through one client with ephemeral ports in ONE run (``short_connections_scenario``): each
``connect`` is followed at once by ``close`` (the client closes first and keeps TIME-WAIT,
so up to 12 000 4-tuples are held at a time), the server closes at end of file, and the
next ``connect`` comes 5 ms after the previous one returned. Target: under 5 s on this
project's machines (calibration 0.4-1.5 s); also printed per connection and as a multiple
of the calibration loop.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from tcpsim.keyedhash import secret_from_seed
from tcpsim.ports import EphemeralPorts, PortsExhausted

sys.path.insert(0, str(Path(__file__).resolve().parent))  # calibration.py, as a script too
from calibration import calibration_s as _calibration  # noqa: E402

DEST = ("10.0.0.1", "10.0.0.2", 80)
SHORT_CONNECTIONS = 30_000
CONNECT_GAP_S = 0.005      # 60 s of TIME-WAIT / 5 ms: 12 000 held ports, under 28 232


def short_connections_scenario(n=SHORT_CONNECTIONS, gap_s=CONNECT_GAP_S):
    """n sequential short connections from one client with ephemeral ports, one run."""
    return {"tcpsim": 1, "name": f"{n} short connections", "profile": "linux", "seed": 1,
            "until": (n - 0.5) * gap_s,
            "hosts": {"client": {"port": None}, "server": {"port": 80}},
            "actions": [
                {"at": 0, "host": "server", "do": "listen"},
                {"at": 0, "host": "client", "do": "connect", "to": "server"},
                {"after": "connect", "host": "client", "do": "close"},
                {"on": "eof", "host": "server", "do": "close"},
                {"after": "connect", "host": "client", "delay": gap_s, "do": "connect",
                 "to": "server"}]}


def run_short_connections(n=SHORT_CONNECTIONS):
    import tcpsim
    scenario = short_connections_scenario(n)
    start, cpu = time.perf_counter(), time.process_time()
    trace = tcpsim.run(scenario)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    ok = sum(1 for e in trace.doc["events"] if e["call"] == "connect" and e["result"] == "ok")
    ports = {s["sport"] for s in trace.doc["segments"] if s["flags"] == "S"}
    return elapsed, cpu, ok, len(ports), len(trace.doc["segments"])


def fill_scan(port_range):
    ports, held, calls = EphemeralPorts(secret_from_seed(1, "ports"), port_range), set(), [0]

    def usable(port):
        calls[0] += 1
        return port not in held
    start = time.perf_counter()
    try:
        while True:
            held.add(ports.connect(*DEST, usable))
    except PortsExhausted:
        pass
    return time.perf_counter() - start, len(held), calls[0]


def fill_held(port_range):
    ports = EphemeralPorts(secret_from_seed(1, "ports"), port_range)
    held, n = ports.held_ports(), 0
    start = time.perf_counter()
    try:
        while True:
            held.hold(ports.connect_held(*DEST, held))
            n += 1
    except PortsExhausted:
        pass
    return time.perf_counter() - start, n


def run(quick=False, calibration_s=None) -> dict:
    """The figures; ``quick`` (``python -m benchmarks --quick``): a 500-port range, 1 000
    short connections, no full-range fill."""
    cal = calibration_s if calibration_s is not None else _calibration()
    small = (40000, 40499) if quick else (40000, 44999)
    n_small = small[1] - small[0] + 1
    scan_s, n_scan, calls = fill_scan(small)
    held_s, n_held = fill_held(small)
    figures = {
        "calibration: 10M-step loop (s)": round(cal, 3),
        f"fill {n_small} ports, port-by-port scan (s)": round(scan_s, 3),
        f"fill {n_small} ports, usable() calls": calls,
        f"fill {n_small} ports, HeldPorts (s)": round(held_s, 3),
        "scan / HeldPorts": round(scan_s / held_s, 1),
    }
    same = n_scan == n_held == n_small
    if not quick:
        full_s, n_full = fill_held((32768, 60999))
        figures["fill 28232 ports (default range), HeldPorts (s)"] = round(full_s, 3)
        figures["HeldPorts: us per connect, full default range"] = round(full_s / n_full * 1e6, 1)
        same = same and n_full == 28232
    figures["same number of ports chosen"] = same
    figures.update(short_connection_figures(cal, 1000 if quick else SHORT_CONNECTIONS))
    return figures


def short_connection_figures(cal, n=SHORT_CONNECTIONS):
    elapsed, cpu, ok, n_ports, n_segments = run_short_connections(n)
    return {
        f"simulator: {n} short connections, one client, one run (s)":
            round(elapsed, 3),
        "simulator: the same, CPU time of this process (s)": round(cpu, 3),
        "simulator: connections completed": ok,
        "simulator: distinct ephemeral ports": n_ports,
        "simulator: segments": n_segments,
        "simulator: us per connection": round(elapsed / max(ok, 1) * 1e6, 1),
        "simulator: run / calibration loop": round(elapsed / cal, 2),
    }


def main():
    if "--simulator" in sys.argv:         # only the simulator's figure
        cal = _calibration()
        figures = {"calibration: 10M-step loop (s)": round(cal, 3), **short_connection_figures(cal)}
    else:
        figures = run()
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
