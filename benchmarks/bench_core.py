"""Simulator speed (issue "tcpsim core", issue 10): prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_core.py
    .venv/bin/python benchmarks/bench_core.py --baseline ../old/tcpsim   # side by side

* a 10 MB transfer at MTU 1500 with 1% random loss (target: under 0.5 s);
* 10 000 short connections, each its own scenario: handshake, 100 bytes each way,
  close (target: under 3 s in all);
* simulated segments per second for both;
* the calibration figure: a 10-million-step Python loop, timed in the same process
  (0.4 s on some of this project's machines, 1.0-1.5 s on others).

Each figure is also printed as a ratio against a baseline measured in the same process
(parsing the same scenarios without simulating), so runs on different machines compare.
With ``--baseline DIR`` (or TCPSIM_BASELINE=DIR), DIR being another copy's ``tcpsim``
package (say a ``git worktree`` of an older commit), that copy runs the same work,
interleaved with this one, best of ``--repeat`` runs each: the ratio new / old is the
"no slower" figure of issue 10.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))          # scenarios.py
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # this copy's tcpsim

import tcpsim  # noqa: E402
from tcpsim.scenario import parse_scenario  # noqa: E402

from scenarios import bulk  # noqa: E402
from calibration import calibration_s  # noqa: E402

BULK_BYTES = 10_000_000
SHORT_CONNECTIONS = 10_000


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


def load_baseline(package_dir):
    """Import another copy of tcpsim (a directory holding its package) as tcpsim_baseline."""
    package_dir = Path(package_dir).resolve()
    if not (package_dir / "__init__.py").exists():
        raise SystemExit(f"--baseline: {package_dir} is not a tcpsim package directory")
    link_dir = Path(tempfile.mkdtemp(prefix="tcpsim-baseline-"))
    (link_dir / "tcpsim_baseline").symlink_to(package_dir)
    sys.path.insert(0, str(link_dir))
    return importlib.import_module("tcpsim_baseline")


def work(module, scenarios, n_bytes):
    """The two workloads, run with ``module`` (this tcpsim or the baseline)."""
    return {
        "bulk": lambda: module.run(bulk(n_bytes)),
        "short": lambda: sum(len(module.run(s).doc["segments"]) for s in scenarios),
    }


def run(quick=False, baseline=None, repeat=3) -> dict:
    """Measure; figure name -> number. ``baseline``: another tcpsim package directory;
    ``quick``: 200 kB and 100 short connections (``python -m benchmarks --quick``), whose
    figures are named by their sizes."""
    n_bytes, n_short = (200_000, 100) if quick else (BULK_BYTES, SHORT_CONNECTIONS)
    bulk_label = f"{n_bytes / 1e6:g} MB"
    short_label = f"{n_short:,} short connections".replace(",", " ")
    figures = {"calibration loop (10M steps) s": round(calibration_s(), 3)}
    scenarios = [short_scenario(seed) for seed in range(n_short)]
    parse_s, _ = timed(lambda: [parse_scenario(s) for s in scenarios])
    mine = work(tcpsim, scenarios, n_bytes)
    theirs = work(load_baseline(baseline), scenarios, n_bytes) if baseline else None
    best = {}
    for _ in range(repeat if theirs else 1):
        for name in mine:
            for who, jobs in (("new", mine), ("old", theirs)):
                if jobs is None:
                    continue
                elapsed, result = timed(jobs[name])
                if (who, name) not in best or elapsed < best[(who, name)][0]:
                    best[(who, name)] = (elapsed, result)
    bulk_s, trace = best[("new", "bulk")]
    n = len(trace.doc["segments"])
    figures.update({
        f"{bulk_label}, 1% loss s": round(bulk_s, 3),
        f"{bulk_label} segments": n,
        f"{bulk_label} segments/s": round(n / bulk_s),
        f"{bulk_label} delivered intact": trace.delivered["server"] == tcpsim.scenario.payload_pattern(n_bytes),
    })
    short_s, segments = best[("new", "short")]
    figures.update({
        f"{short_label} s": round(short_s, 3),
        "short connections segments/s": round(segments / short_s),
        "short connections / parsing alone": round(short_s / parse_s, 1),
    })
    if theirs:
        for name, label in (("bulk", bulk_label), ("short", short_label)):
            old_s = best[("old", name)][0]
            figures[f"{label} baseline s"] = round(old_s, 3)
            figures[f"{label} new / baseline"] = round(best[("new", name)][0] / old_s, 3)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=os.environ.get("TCPSIM_BASELINE"),
                        help="another copy's tcpsim package directory, run side by side")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (with --baseline)")
    args = parser.parse_args(argv)
    figures = run(baseline=args.baseline, repeat=args.repeat)
    print(f"calibration: 10-million-step loop {figures['calibration loop (10M steps) s']:.3f} s")
    print(f"10 MB at MTU 1500, 1% loss: {figures['10 MB, 1% loss s']:.3f} s (target < 0.5 s), "
          f"{figures['10 MB segments']} segments, {figures['10 MB segments/s']:,} segments/s, "
          f"delivered intact: {figures['10 MB delivered intact']}")
    print(f"10 000 short connections: {figures['10 000 short connections s']:.3f} s (target < 3 s), "
          f"{figures['short connections segments/s']:,} segments/s; simulation = "
          f"{figures['short connections / parsing alone']}x parsing")
    for label in ("10 MB", "10 000 short connections"):
        if f"{label} baseline s" in figures:
            print(f"{label}: baseline {figures[f'{label} baseline s']:.3f} s, this copy "
                  f"{figures['10 MB, 1% loss s' if label == '10 MB' else '10 000 short connections s']:.3f} s, "
                  f"ratio new / baseline {figures[f'{label} new / baseline']:.3f}")


if __name__ == "__main__":
    main()
