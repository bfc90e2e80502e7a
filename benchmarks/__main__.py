"""Every benchmark of the course in one run: ``python -m benchmarks`` (or ``make benchmarks``).

    .venv/bin/python -m benchmarks [--quick] [--only core,pcap,...] [--out DIR]

Prints, section by section:

* the machine: cores, Python, memory, load, and the calibration loop (a plain
  10-million-step Python loop, timed before and after the rest: a machine 2x slower, or
  twice as busy, shows twice the figure, so divide by it to compare machines);
* ``core``: simulator throughput (benchmarks/bench_core.py);
* ``ports``: ephemeral-port choice, and 30 000 short connections in one run (bench_ports.py);
* ``pcap``: reading a capture, against bare dpkt and scapy (bench_pcap.py);
* ``explorer``: the explorer's and the player's latency (bench_explorer.py);
* ``states`` and ``plots``: drawing the pictures (bench_states.py, bench_plots.py);
* ``notebooks``: each notebook's execution time and the total, and the peak memory of a
  kernel that ran it, against a bare kernel's (bench_notebooks.py).

Each bench_*.py has ``run() -> dict``; this calls them in turn, in this one process (the
notebooks run in kernels of their own), so every ratio against a baseline is measured in
the same run. It never fails: a section that raises is reported as such, the others go on.
It writes the same figures as JSON and the printed text next to each other:
``out/benchmarks/<UTC time>.json`` and ``.txt``. ``--quick`` runs every section on tiny
settings (what tests/test_benchmarks.py runs): the machinery, not meaningful figures.

The classroom on a real JupyterHub (bench_classroom.py) is not part of this run: it takes
minutes and its own environment (see docs/teaching-at-scale.md).
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # calibration.py, as a script too
from calibration import calibration_s  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SECTIONS = {       # name: (module, what it measures)
    "core": ("bench_core", "simulator throughput"),
    "ports": ("bench_ports", "ephemeral ports; 30 000 short connections in one run"),
    "pcap": ("bench_pcap", "pcap reading against bare dpkt and scapy"),
    "explorer": ("bench_explorer", "explorer and player latency"),
    "states": ("bench_states", "state graph pictures"),
    "plots": ("bench_plots", "ladder and other pictures"),
    "notebooks": ("bench_notebooks", "notebook execution time, kernel peak memory"),
}


def machine() -> dict:
    """What the figures were measured on."""
    figures = {"cores": os.cpu_count(),
               "cores usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count(),
               "python": f"{platform.python_implementation()} {platform.python_version()}",
               "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            figures["cpu"] = names[0]
        with open("/proc/meminfo") as f:
            total_kib = int(f.readline().split()[1])
        figures["memory GiB"] = round(total_kib / 2 ** 20, 1)
    except OSError:
        pass
    if hasattr(os, "getloadavg"):
        figures["load average (1 min) at start"] = round(os.getloadavg()[0], 2)
    return figures


def run_section(name, quick, calibration):
    """One section's figures; {"error": ...} if it raised (the run goes on)."""
    module_name, _ = SECTIONS[name]
    try:
        module = importlib.import_module(module_name)
        accepted = inspect.signature(module.run).parameters
        kwargs = {}
        if "quick" in accepted:
            kwargs["quick"] = quick
        if "calibration_s" in accepted:
            kwargs["calibration_s"] = calibration
        return module.run(**kwargs)
    except Exception as exc:  # noqa: BLE001 (never fail: say what went wrong and go on)
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return {"error": f"{type(exc).__name__}: {exc} "
                         f"({Path(last.filename).name}, line {last.lineno})"}


def format_section(title, figures) -> str:
    lines = [f"== {title}"]
    for key, value in figures.items():
        if isinstance(value, float):
            value = f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        lines.append(f"  {key:58s} {value}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings: checks the machinery, figures mean little")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections (default: all of {','.join(SECTIONS)})")
    parser.add_argument("--out", default=str(REPO / "out" / "benchmarks"),
                        help="folder for the JSON and text copies (default: out/benchmarks)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")

    sys.path.insert(0, str(HERE))       # the bench_*.py import each other as scripts do
    import matplotlib
    matplotlib.use("Agg")

    started = datetime.now(timezone.utc)
    report = {"started": started.isoformat(timespec="seconds"), "quick": args.quick,
              "machine": machine()}
    calibration = calibration_s()
    report["machine"]["calibration loop s (10M steps), at start"] = round(calibration, 3)
    texts = [f"tcpsim benchmarks, {report['started']}" + (" (--quick)" if args.quick else ""),
             format_section("machine", report["machine"])]
    print("\n\n".join(texts), flush=True)
    for name in chosen:
        t0 = time.perf_counter()
        figures = run_section(name, args.quick, calibration)
        figures["section wall s"] = round(time.perf_counter() - t0, 2)
        report[name] = figures
        texts.append(format_section(f"{name}: {SECTIONS[name][1]}", figures))
        print("\n" + texts[-1], flush=True)
    end = {"calibration loop s (10M steps), at end": round(calibration_s(), 3)}
    if hasattr(os, "getloadavg"):
        end["load average (1 min) at end"] = round(os.getloadavg()[0], 2)
    end["total wall s"] = round((datetime.now(timezone.utc) - started).total_seconds(), 1)
    report["end"] = end
    texts.append(format_section("end (a calibration far from the start's: the machine's "
                                "load changed during the run)", end))
    print("\n" + texts[-1])

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        stem = out / started.strftime("%Y%m%dT%H%M%SZ")
        stem.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
        stem.with_suffix(".txt").write_text("\n\n".join(texts) + "\n")
        print(f"\nwritten: {stem}.json and {stem}.txt")
    except OSError as exc:
        print(f"\ncould not write the copies into {out}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
