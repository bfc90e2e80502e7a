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
from calibration import calibration_s  # noqa: E402

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
    start = time.perf_counter()
    trace = tcpsim.run(scenario)
    elapsed = time.perf_counter() - start
    ok = sum(1 for e in trace.doc["events"] if e["call"] == "connect" and e["result"] == "ok")
    ports = {s["sport"] for s in trace.doc["segments"] if s["flags"] == "S"}
    return elapsed, ok, len(ports), len(trace.doc["segments"])


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


def run() -> dict:
    cal = calibration_s()
    scan_s, n_scan, calls = fill_scan((40000, 44999))
    held_s, n_held = fill_held((40000, 44999))
    full_s, n_full = fill_held((32768, 60999))
    return {
        "calibration: 10M-step loop (s)": round(cal, 3),
        "fill 5000 ports, port-by-port scan (s)": round(scan_s, 3),
        "fill 5000 ports, usable() calls": calls,
        "fill 5000 ports, HeldPorts (s)": round(held_s, 3),
        "scan / HeldPorts": round(scan_s / held_s, 1),
        "fill 28232 ports (default range), HeldPorts (s)": round(full_s, 3),
        "HeldPorts: us per connect, full default range": round(full_s / n_full * 1e6, 1),
        "same number of ports chosen": n_scan == n_held == 5000 and n_full == 28232,
        **short_connection_figures(cal),
    }


def short_connection_figures(cal):
    elapsed, ok, n_ports, n_segments = run_short_connections()
    return {
        f"simulator: {SHORT_CONNECTIONS} short connections, one client, one run (s)":
            round(elapsed, 3),
        "simulator: connections completed": ok,
        "simulator: distinct ephemeral ports": n_ports,
        "simulator: segments": n_segments,
        "simulator: us per connection": round(elapsed / max(ok, 1) * 1e6, 1),
        "simulator: run / calibration loop": round(elapsed / cal, 2),
    }


def main():
    if "--simulator" in sys.argv:         # only the simulator's figure
        cal = calibration_s()
        figures = {"calibration: 10M-step loop (s)": round(cal, 3), **short_connection_figures(cal)}
    else:
        figures = run()
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
