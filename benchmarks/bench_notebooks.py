"""Each notebook's execution time, and the peak memory of the kernel that ran it.

    .venv/bin/python benchmarks/bench_notebooks.py [--quick]

Every ``notebooks/NN-*.ipynb`` (the students' edition once notebooks/ holds it, the
instructors' source before) runs top to bottom in a fresh ``python3`` kernel of this
environment, as a student's "Run All" would (``nbclient``, the notebook's folder as working
directory). For each one this prints:

* the wall time from kernel start to the last cell's result, and the cells' own time
  (nbclient's per-cell timestamps), also as a multiple of the calibration loop;
* the kernel's peak resident memory (``VmHWM``, asked of the kernel itself after the
  last cell) and its resident memory then, in MiB.

Baselines, in the same run: a bare kernel (one ``pass`` cell), and a kernel that only
imports what notebook 02's first cell imports (``tcpsim``, ``course``, ``exercises``,
``plots``, ``widgets``). The difference between them and a notebook's peak is what the
notebook's own cells cost. Notebook 02 also runs a second time with the widgets' static
pictures made as before (``AGG_STACK``): the memory the glued pixels save, in this run. Prints figures; asserts nothing: a notebook that fails is
reported as failed, with its error's first line.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_TIMEOUT_S = 300
MIB = 2 ** 20

# Run in the kernel after the notebook: its peak and current RSS, in bytes, as one JSON line.
# VmHWM, not getrusage's ru_maxrss: ru_maxrss survives exec, so a kernel started by a big
# process would report that process's size as its own peak.
MEMORY_PROBE = """\
import json as _json
with open("/proc/self/status") as _f:
    _kib = {_k: int(_v.split()[0]) for _k, _v in (_l.split(":", 1) for _l in _f)
            if _k in ("VmHWM", "VmRSS")}
print("TCPSIM-MEMORY" + _json.dumps({"peak": _kib["VmHWM"] * 1024, "now": _kib["VmRSS"] * 1024}))
"""
IMPORTS_ONLY = "import tcpsim\nfrom tcpsim import course, exercises, plots, widgets"
# The widgets' static pictures as they were made before they were glued as pixels
# (tcpsim/widgets/_pictures.py, StackedFigure): one figimage per picture, drawn by Agg.
# Run as a first cell, it gives the "before" of the memory figure in the same run.
AGG_STACK = """\
import tcpsim.widgets._pictures as _pictures
from matplotlib.figure import Figure as _Figure

def _agg_stack(rows):
    rows = [[p for p in row if p is not None] for row in rows]
    rows = [row for row in rows if row]
    heights = [max(p.shape[0] for p in row) for row in rows]
    width, height = max(sum(p.shape[1] for p in row) for row in rows), sum(heights)
    fig = _Figure(figsize=(width / _pictures.DPI, height / _pictures.DPI), dpi=_pictures.DPI)
    top = height
    for row, row_height in zip(rows, heights):
        top -= row_height
        x = 0
        for picture in row:
            fig.figimage(picture, xo=x, yo=top + row_height - picture.shape[0], origin="upper")
            x += picture.shape[1]
    return fig

def _agg_stack_png(rows):
    return _pictures.figure_png(_agg_stack(rows))

for _module in ("player", "explorer", "predict"):
    _widget_module = __import__("tcpsim.widgets." + _module, fromlist=["stack"])
    _widget_module.stack = _agg_stack
    if hasattr(_widget_module, "stack_png"):
        _widget_module.stack_png = _agg_stack_png
"""
BEFORE_NOTEBOOK = "02-three-way-handshake"   # the notebook measured both ways


def course_notebooks():
    """The course's notebooks, in order: notebooks/NN-*.ipynb."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _stamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def execute(nb, cwd=NOTEBOOKS):
    """Run ``nb`` (a NotebookNode) in a fresh kernel, then the memory probe.

    Returns {"wall_s", "cells_s", "peak_mib", "rss_mib", "error"}; "error" is None or the
    first line of what went wrong (the figures are then those of the cells that ran)."""
    nb = nbformat.from_dict(nb)
    nb.cells.append(nbformat.v4.new_code_cell(MEMORY_PROBE))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, startup_timeout=120,
                            kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    error = None
    start = time.perf_counter()
    try:
        # the kernel's own stderr (ipykernel's warning about TCP without encryption) would
        # interleave with the printed figures; a cell's errors still come back as outputs
        client.execute(stderr=subprocess.DEVNULL)
    except Exception as exc:  # noqa: BLE001 (a failing notebook is a figure too, not a crash)
        error = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]
    wall_s = time.perf_counter() - start
    cells_s, memory = 0.0, {}
    for cell in nb.cells[:-1]:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            cells_s += _stamp(timing["shell.execute_reply"]) - _stamp(timing["iopub.execute_input"])
    for out in nb.cells[-1].get("outputs", []):
        if out.get("name") == "stdout" and "TCPSIM-MEMORY" in out.get("text", ""):
            memory = json.loads(out["text"].split("TCPSIM-MEMORY", 1)[1])
    return {"wall_s": round(wall_s, 2), "cells_s": round(cells_s, 2),
            "peak_mib": round(memory["peak"] / MIB, 1) if memory else None,
            "rss_mib": round(memory["now"] / MIB, 1) if memory else None,
            "error": error}


def one_cell(source):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])


def run(quick=False, calibration_s=None) -> dict:
    """Figures: the baselines, then each notebook's; with ``quick``, the baselines and the
    first notebook only (what the benchmark command's own test runs)."""
    figures = {}
    for name, source in (("bare kernel", "pass"), ("imports only", IMPORTS_ONLY)):
        got = execute(one_cell(source))
        figures[f"{name}: peak MiB"] = got["peak_mib"]
        figures[f"{name}: wall s"] = got["wall_s"]
    paths = course_notebooks()[:1] if quick else course_notebooks()
    total_wall = total_cells = 0.0
    for path in paths:
        got = execute(nbformat.read(path, as_version=4))
        key = path.stem
        figures[f"{key}: wall s"] = got["wall_s"]
        figures[f"{key}: cells s"] = got["cells_s"]
        figures[f"{key}: peak MiB"] = got["peak_mib"]
        figures[f"{key}: RSS after MiB"] = got["rss_mib"]
        if got["peak_mib"] and figures["imports only: peak MiB"]:
            figures[f"{key}: peak - imports MiB"] = round(
                got["peak_mib"] - figures["imports only: peak MiB"], 1)
        if got["error"]:
            figures[f"{key}: error"] = got["error"]
        if calibration_s:
            figures[f"{key}: cells / calibration"] = round(got["cells_s"] / calibration_s, 1)
        total_wall += got["wall_s"]
        total_cells += got["cells_s"]
        if key == BEFORE_NOTEBOOK and not quick:
            nb = nbformat.read(path, as_version=4)
            nb.cells.insert(0, nbformat.v4.new_code_cell(AGG_STACK))
            before = execute(nb)
            figures[f"{key}, widgets' pictures drawn by Agg (before): peak MiB"] = \
                before["peak_mib"]
            if before["peak_mib"] and got["peak_mib"]:
                figures[f"{key}: peak saved by glued pixels MiB"] = round(
                    before["peak_mib"] - got["peak_mib"], 1)
    figures["notebooks run"] = len(paths)
    figures["all notebooks: wall s"] = round(total_wall, 2)
    figures["all notebooks: cells s"] = round(total_cells, 2)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="baselines and the first notebook")
    args = parser.parse_args(argv)
    for name, value in run(quick=args.quick).items():
        print(f"  {name:45s} {value}")


if __name__ == "__main__":
    sys.exit(main())
