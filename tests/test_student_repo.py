"""``make student-repo DEST=...``: a students-only repository that installs and runs alone.

The repository (``instructors/student_repo.py``) is written to a temporary folder, then:

* its files are the students' material only (``notebooks/``, ``tcpsim/``, ``data/``,
  ``docs/``, ``binder/``, pyproject.toml, README, Makefile, .gitignore), its notebooks are
  the committed students' edition byte for byte, and neither its files nor any object in
  its git history (one commit) holds a solution or hidden-test line of any source notebook;
* it installs on its own with its own ``make`` (its ``.venv/.installed`` target, what its
  ``make course`` runs first) using the OLDEST Python the README names, and every one of
  its notebooks runs top to bottom in that environment's kernel, importing the tcpsim of
  the new repository. This is also the proof that the oldest Python runs the course.

The install needs PyPI or pip's cache (about 25 s with a warm cache here); without the
oldest Python the second part skips (fails in CI, like ``tests/test_pythons.py``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_pythons import python_or_skip, readme_pythons
from test_release import (
    HIDDEN,
    SOLUTION,
    load,
    meaningful,
    solution_split,
    split,
    visible_lines,
)

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "instructors" / "source"
REMOTE = "https://github.com/example-org/tcp-course-students"
EXPECTED_TOP = {".git", ".gitignore", "Makefile", "README.md", "binder", "data", "docs",
                "notebooks", "pyproject.toml", "tcpsim"}

RUN_NOTEBOOKS = r'''
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
results = {}
for path in sorted(Path("notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, startup_timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o.get("ename") for c in nb.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    results[path.name] = errors
import tcpsim
print(json.dumps({"notebooks": results, "tcpsim": tcpsim.__file__,
                  "python": "%d.%d" % sys.version_info[:2]}))
'''


@pytest.fixture(scope="module")
def student_repo(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("students") / "tcp-course"
    done = subprocess.run(["make", "-s", "student-repo", f"DEST={dest}", f"REMOTE={REMOTE}",
                           f"PYTHON={sys.executable}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return dest


def secret_lines() -> set[str]:
    """Every solution and hidden-test line of the source notebooks that the students'
    edition does not also show."""
    secret, shown = set(), set()
    for path in SOURCE.glob("*.ipynb"):
        for cell in load(path)["cells"]:
            inside, outside = solution_split(cell)
            hidden, _ = split("\n".join(outside), HIDDEN)
            secret |= meaningful(inside) | meaningful(hidden)
            shown |= meaningful(visible_lines(cell))
    assert secret
    return secret - shown


def test_holds_only_the_students_material(student_repo):
    assert {p.name for p in student_repo.iterdir()} == EXPECTED_TOP
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        assert (student_repo / "notebooks" / nb.name).read_bytes() == nb.read_bytes()
    pyproject = (student_repo / "pyproject.toml").read_text()
    assert "[project]" in pyproject and "pytest" not in pyproject
    readme = (student_repo / "README.md").read_text()
    assert "https://mybinder.org/v2/gh/example-org/tcp-course-students/main?urlpath=" \
           "lab/tree/notebooks/00-start-here.ipynb" in readme


def test_no_solution_in_its_files_or_its_history(student_repo):
    git = ["git", "-C", str(student_repo)]
    commits = subprocess.run([*git, "rev-list", "--all"], capture_output=True, text=True,
                             check=True).stdout.split()
    assert len(commits) == 1, "the students' repository has history"
    objects = subprocess.run([*git, "cat-file", "--batch-all-objects", "--batch"],
                             capture_output=True, check=True).stdout.decode("utf-8", "replace")
    for marker in SOLUTION + HIDDEN:
        assert marker not in objects, f"{marker!r} in the students' repository"
    stored = set()
    listing = subprocess.run([*git, "cat-file", "--batch-all-objects", "--batch-check"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
    for sha in (ln.split()[0] for ln in listing if ln.endswith(tuple("0123456789")) and " blob " in ln):
        blob = subprocess.run([*git, "cat-file", "blob", sha], capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
        try:     # a notebook: its cells' lines
            lines = [ln for c in json.loads(blob)["cells"] for ln in "".join(c["source"]).splitlines()]
        except (ValueError, KeyError, TypeError):
            lines = blob.splitlines()
        stored |= {ln.strip() for ln in lines}
    leaked = sorted(secret_lines() & stored)
    assert not leaked, "solution or hidden-test lines in the students' repository:\n" + "\n".join(leaked)
    for name in ("instructors", "tests", "tools", "benchmarks", ".ci"):
        assert f"\t{name}" not in subprocess.run([*git, "ls-tree", "HEAD"], capture_output=True,
                                                 text=True, check=False).stdout


def test_refuses_a_folder_that_is_not_empty(student_repo):
    done = subprocess.run(["make", "-s", "student-repo", f"DEST={student_repo}"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "not empty" in done.stderr
    usage = subprocess.run(["make", "-s", "student-repo"], cwd=REPO, capture_output=True,
                           text=True, timeout=60, check=False)
    assert usage.returncode == 2 and "DEST=" in usage.stderr


def test_installs_and_runs_alone_on_the_oldest_python(student_repo):
    oldest = readme_pythons()[0]
    python = python_or_skip(oldest)
    # PIP_NO_COMPILE: pip does not byte-compile the thousands of modules of JupyterLab and
    # its friends (Python compiles what it imports anyway). binder/requirements.txt into a
    # fresh venv took 305 s with compiling and 171 s without, one after the other on the
    # same (loaded) machine; nothing tested depends on .pyc files.
    done = subprocess.run(["make", "-s", ".venv/.installed", f"PYTHON={python}"],
                          cwd=student_repo, capture_output=True, text=True, timeout=600, check=False,
                          env=dict(os.environ, PIP_NO_COMPILE="1"))
    errors = "\n".join(ln for ln in (done.stdout + done.stderr).splitlines() if "is ignored" not in ln)
    assert done.returncode == 0, f"the students' repository does not install:\n{errors}"
    run = subprocess.run([str(student_repo / ".venv" / "bin" / "python"), "-c", RUN_NOTEBOOKS],
                         cwd=student_repo, capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, f"its notebooks do not run:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["python"] == oldest
    assert Path(result["tcpsim"]).resolve().is_relative_to(student_repo.resolve())
    assert set(result["notebooks"]) == {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    assert all(not errors for errors in result["notebooks"].values()), result["notebooks"]
