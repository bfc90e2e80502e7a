"""Simulator speed (issue "tcpsim core"): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_core.py

* a 10 MB transfer at MTU 1500 with 1% random loss (target: under 0.5 s);
* 10 000 short connections, each its own scenario: handshake, 100 bytes each way,
  close (target: under 3 s in all);
* simulated segments per second for both.

``run()`` returns the figures (``python -m benchmarks`` prints them with the others).
Each figure is also given as a ratio against a baseline measured in the same process
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


def run(quick=False) -> dict:
    """The figures: a bulk transfer (10 MB; 200 kB with ``quick``) and many short
    connections (10 000; 100 with ``quick``), against parsing the same scenarios."""
    n_bytes, n_short = (200_000, 100) if quick else (10_000_000, 10_000)
    elapsed, trace = timed(lambda: tcpsim.run(bulk(n_bytes)))
    n = len(trace.doc["segments"])
    ok = trace.delivered["server"] == tcpsim.scenario.payload_pattern(n_bytes)
    figures = {f"bulk {n_bytes / 1e6:g} MB, 1% loss: s": round(elapsed, 3),
               "bulk: target s": 0.5 if not quick else None,
               "bulk: segments": n, "bulk: segments/s": round(n / elapsed),
               "bulk: delivered intact": ok}

    scenarios = [short_scenario(seed) for seed in range(n_short)]
    parse_s, _ = timed(lambda: [parse_scenario(s) for s in scenarios])
    # Count each run's segments and let its trace go, as a widget does with the previous one.
    elapsed, n = timed(lambda: sum(len(tcpsim.run(s).doc["segments"]) for s in scenarios))
    figures.update({f"{n_short} short connections: s": round(elapsed, 3),
                    "short connections: target s": 3.0 if not quick else None,
                    "short connections: segments/s": round(n / elapsed),
                    "short connections: parsing alone s": round(parse_s, 3),
                    "short connections: simulation / parsing": round(elapsed / parse_s, 1)})
    return {k: v for k, v in figures.items() if v is not None}


def main():
    for name, value in run().items():
        print(f"  {name:45s} {value}")


if __name__ == "__main__":
    main()
