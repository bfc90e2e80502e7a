"""Every notebook of the course runs, top to bottom, in a fresh kernel; and is committed clean.

Both editions run: the students' edition (``notebooks/``, what students open: its answer
cells are empty, so its checks say "not yet" but nothing raises), and the nbgrader source of
the graded notebooks (``instructors/source/``, with the solutions and hidden tests: it must
pass its own checks, so every check there says "✓ Right." and every hidden test holds). A
graded notebook runs here only without the instructors' environment: with it,
tests/test_release.py's autograde run executes its source and its students' edition (each
handed in as a submission, without network) and scans their outputs with the same checks
(``tests/notebook_outputs.py``), so no notebook is executed twice for one purpose.

* ``test_notebook_runs``: ``nbclient`` executes the notebook as a student's "Run All" would,
  in a new ``python3`` kernel of this environment, with the notebook's folder as working
  directory, a time limit per cell, and no network (the kernel's
  ``socket`` refuses anything but loopback, so a notebook that would need the internet in a
  classroom fails here). It fails on any error output or traceback, and prints each
  notebook's execution time on the terminal (also recorded as the ``execution_s`` property
  in ``--junitxml`` reports). It does not write the notebook back.
* ``test_notebook_is_stripped``: the committed file has no outputs, no execution counts and
  no saved widget state (students get clean notebooks; diffs stay readable).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from conftest import report
from notebook_outputs import NO_NETWORK, cell_label, output_problems, source_checks_not_passed
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"                   # the students' edition
SOURCE = REPO / "instructors" / "source"         # the graded notebooks' nbgrader source
CELL_TIMEOUT = 120          # seconds, per cell
# With the instructors' environment (nbgrader), tests/test_release.py's autograde run executes
# both editions of every graded notebook and scans their outputs: no need to run them twice.
AUTOGRADE_RUNS_THE_SOURCE = all((REPO / ".venv-instructors" / part).exists()
                                for part in (".installed", "bin/nbgrader"))
ALL = sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(SOURCE.glob("*.ipynb"))
PARAMS = [pytest.param(p, id=str(p.relative_to(REPO))) for p in ALL] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no notebook in notebooks/ yet"))]



@pytest.mark.parametrize("nb_path", PARAMS)
def test_notebook_runs(nb_path, tmp_path, request, record_property):
    if AUTOGRADE_RUNS_THE_SOURCE and (SOURCE / nb_path.name).exists():
        pytest.skip("executed by tests/test_release.py's autograde run (the source and the "
                    "students' edition handed in as submissions), which checks its outputs "
                    "the same way, without network")
    nb = nbformat.read(nb_path, as_version=4)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_NETWORK)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["IPYTHONDIR"] = str(tmp_path / "ipython")      # no user start-up files or history
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, startup_timeout=120,
                            kernel_name="python3",
                            resources={"metadata": {"path": str(nb_path.parent)}})
    start = time.perf_counter()
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))       # no terminal colours
        pytest.fail(f"{nb_path.name} raised:\n{plain}", pytrace=False)
    elapsed = time.perf_counter() - start
    record_property("execution_s", round(elapsed, 2))
    report(request, f"{nb_path.name}: executed in {elapsed:.1f} s "
                    f"({sum(c.cell_type == 'code' for c in nb.cells)} code cells)")

    problems, warnings = output_problems(nb)
    for w in warnings:   # shown, not failed: e.g. matplotlib building its font cache once
        report(request, f"{nb_path.name}: {w}")
    assert not problems, f"{nb_path.name}:\n" + "\n".join(problems)
    if nb_path.parent == SOURCE:
        failed = source_checks_not_passed(nb)
        assert not failed, (f"{nb_path.name} (the source, with the solutions) does not pass "
                            "its own checks:\n" + "\n".join(failed))


@pytest.mark.parametrize("nb_path", PARAMS)
def test_notebook_is_stripped(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    dirty = [cell_label(i, c) for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{nb_path.name} is committed with outputs or execution counts in: "
                       f"{', '.join(dirty)} (clear them: Edit > Clear Outputs of All Cells, save)")
    assert "widgets" not in nb.metadata, \
        f"{nb_path.name} is committed with saved widget state (metadata.widgets)"
