"""Simulator speed (issue "tcpsim core"): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_core.py

* a 10 MB transfer at MTU 1500 with 1% random loss (target: under 0.5 s);
* 10 000 short connections, each its own scenario: handshake, 100 bytes each way,
  close (target: under 3 s in all);
* simulated segments per second for both.

Each figure is also printed as a ratio against a baseline measured in the same process
(parsing the same scenarios without simulating), so runs on different machines compare.
"""
from __future__ import annotations

import time

import tcpsim
from tcpsim.scenario import parse_scenario

from scenarios import bulk


def short_scenario(seed):
    return {"profile": "linux", "seed": seed,
            "hosts": {"client": {"port": None}, "server": {"port": 5001}},
            "actions": [{"at": 0, "host": "server", "do": "listen"},
                        {"at": 0, "host": "client", "do": "connect", "to": "server"},
                        {"at": 0.001, "host": "client", "do": "send", "bytes": 100},
                        {"at": 0.002, "host": "server", "do": "send", "bytes": 100},
                        {"at": 0.003, "host": "client", "do": "close"},
                        {"on": "eof", "host": "server", "do": "close"}]}


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    elapsed, trace = timed(lambda: tcpsim.run(bulk(10_000_000)))
    n = len(trace.doc["segments"])
    ok = trace.delivered["server"] == tcpsim.scenario.payload_pattern(10_000_000)
    print(f"10 MB at MTU 1500, 1% loss: {elapsed:.3f} s (target < 0.5 s), {n} segments, "
          f"{n / elapsed:,.0f} segments/s, delivered intact: {ok}")

    scenarios = [short_scenario(seed) for seed in range(10_000)]
    parse_s, _ = timed(lambda: [parse_scenario(s) for s in scenarios])
    # Count each run's segments and let its trace go, as a widget does with the previous one.
    elapsed, n = timed(lambda: sum(len(tcpsim.run(s).doc["segments"]) for s in scenarios))
    print(f"10 000 short connections: {elapsed:.3f} s (target < 3 s), {n} segments, "
          f"{n / elapsed:,.0f} segments/s; parsing alone {parse_s:.3f} s "
          f"(simulation = {elapsed / parse_s:.1f}x parsing)")


if __name__ == "__main__":
    main()
