"""Ephemeral-port choice (tcpsim.ports): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_ports.py

Fills a 5 000-port range for one destination (every port stays held, as in TIME-WAIT), once
with ``EphemeralPorts.connect()`` (the kernel's port-by-port scan, one ``usable()`` call per
port passed) and once with ``connect_held()`` (the same choices from a ``HeldPorts``), then the
whole default range [32768, 60999] with ``connect_held()`` only (the scan would take
minutes: about 2e8 ``usable()`` calls). Printed beside a calibration figure (a 10-million-
step Python loop) and as ratios measured in the same run.
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
    }


def main():
    for name, value in run().items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
