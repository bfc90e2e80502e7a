"""The graded notebooks' nbgrader markup, and the students' release built from it.

A graded notebook (``notebooks/02-three-way-handshake.ipynb``) is nbgrader's SOURCE: answer
cells carry ``"nbgrader": {"solution": true, ...}`` with the answer between
``### BEGIN SOLUTION`` / ``### END SOLUTION``; autograder cells carry ``"grade": true,
"points": N`` with ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.

* ``test_markup_*`` read the source notebooks alone (no nbgrader needed), so a broken markup
  fails fast everywhere.
* the others build the release as ``make release`` does (``instructors/build_release.py`` run
  by the instructors' environment ``.venv-instructors``, which ``make test`` creates) into a
  temporary course directory, and check that no solution and no hidden test reached it while
  everything else did, that it runs top to bottom as handed out (in this, the students',
  environment), and that nbgrader's autograder gives the solution every point and the blank
  release none. Without ``.venv-instructors`` they skip, except in CI (``CI`` set), where they
  must run.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
BUILD = REPO / "instructors" / "build_release.py"
IVENV = REPO / ".venv-instructors"
IPYTHON = IVENV / "bin" / "python"

SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")     # what nbgrader accepts as a grade_id


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def graded_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb")
                  if any("nbgrader" in c.get("metadata", {}) for c in load(p)["cells"]))


GRADED = graded_notebooks()
PARAMS = [pytest.param(p, id=p.stem) for p in GRADED] or [
    pytest.param(None, marks=pytest.mark.skip(
        reason="no notebook in notebooks/ carries nbgrader metadata yet"))]


def split(text: str, markers: tuple[str, str]) -> tuple[list[str], list[str]]:
    """(lines between the markers, lines outside them), markers themselves left out.

    A line is a marker when it contains the marker text, as nbgrader decides."""
    begin, end = markers
    inside, outside, depth = [], [], 0
    for line in text.splitlines():
        if begin in line:
            depth += 1
        elif end in line:
            depth -= 1
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def meaningful(lines) -> set[str]:
    """Stripped lines worth looking for: not blank, not a bare comment marker."""
    return {ln.strip() for ln in lines if ln.strip() and ln.strip() not in ("#", "...", "pass")}


def solution_split(cell: dict) -> tuple[list[str], list[str]]:
    """(solution lines, other lines) of a source cell. A written answer (a markdown cell
    marked solution) without the markers is all solution: nbgrader replaces all of it."""
    text = source(cell)
    written = (cell["cell_type"] == "markdown"
               and cell.get("metadata", {}).get("nbgrader", {}).get("solution")
               and SOLUTION[0] not in text)
    if written:
        return text.splitlines(), []
    return split(text, SOLUTION)


def visible_lines(cell: dict) -> list[str]:
    """The lines of a source cell that the students must get."""
    _, outside = solution_split(cell)
    _, outside = split("\n".join(outside), HIDDEN)
    return outside


# --------------------------------------------------------------------------- the markup
@pytest.mark.parametrize("nb_path", PARAMS)
def test_markup_is_valid_nbgrader(nb_path):
    problems, seen = [], {}
    for i, cell in enumerate(load(nb_path)["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader")
        text = source(cell)
        where = f"cell {i} ({cell['cell_type']}, {text.strip()[:40]!r})"
        for begin, end in (SOLUTION, HIDDEN):
            depth = 0
            for line in text.splitlines():
                if begin in line:
                    depth += 1
                    if depth > 1:
                        problems.append(f"{where}: nested {begin!r}")
                elif end in line:
                    depth -= 1
                    if depth < 0:
                        problems.append(f"{where}: {end!r} without {begin!r}")
            if depth > 0:
                problems.append(f"{where}: {begin!r} without {end!r}")
        if meta is None:
            if SOLUTION[0] in text or HIDDEN[0] in text:
                problems.append(f"{where}: solution/hidden-test markers in a cell without "
                                "nbgrader metadata (nbgrader would release them as they are)")
            continue
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: schema_version is {meta.get('schema_version')!r}, not 3")
        if not any(meta.get(k) for k in ("solution", "grade", "task", "locked")):
            problems.append(f"{where}: nbgrader metadata that marks nothing")
        if meta.get("solution") or meta.get("grade") or meta.get("task"):
            gid = meta.get("grade_id")
            if not isinstance(gid, str) or not GRADE_ID.match(gid):
                problems.append(f"{where}: grade_id {gid!r} is not letters, digits, _ and -")
            elif gid in seen:
                problems.append(f"{where}: grade_id {gid!r} already used by cell {seen[gid]}")
            else:
                seen[gid] = i
        if meta.get("grade") or meta.get("task"):
            pts = meta.get("points")
            if isinstance(pts, bool) or not isinstance(pts, (int, float)) or pts <= 0:
                problems.append(f"{where}: a graded cell needs points > 0, has {pts!r}")
        if SOLUTION[0] in text and not meta.get("solution"):
            problems.append(f"{where}: solution markers in a cell that is not a solution cell")
        if HIDDEN[0] in text and not meta.get("grade"):
            problems.append(f"{where}: hidden-test markers in a cell that is not graded "
                            "(nbgrader removes hidden tests from graded cells only)")
        if cell["cell_type"] == "code" and meta.get("solution") and SOLUTION[0] not in text:
            problems.append(f"{where}: a code solution cell without ### BEGIN SOLUTION "
                            "(nbgrader would replace the whole cell)")
    assert seen, f"{nb_path.name}: nbgrader metadata but no solution or graded cell"
    assert not problems, f"{nb_path.name}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- the release
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory with the release of every graded notebook, as `make release`."""
    if not (IVENV / ".installed").exists() or not (IVENV / "bin" / "nbgrader").exists():
        why = (f"the instructors' environment {IVENV.name} is not installed (`make release` or "
               "`make test` creates it from instructors/requirements.txt; it needs PyPI)")
        if os.environ.get("CI"):
            pytest.fail(f"{why}; in CI the release must be checked")
        pytest.skip(why)
    course_dir = tmp_path_factory.mktemp("course")
    done = subprocess.run([str(IPYTHON), str(BUILD), "--course-dir", str(course_dir),
                           "--notebooks", str(NOTEBOOKS)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"build_release.py failed:\n{done.stdout}\n{done.stderr}"
    return course_dir


def release_of(course_dir: Path, nb_path: Path) -> tuple[dict, str]:
    path = course_dir / "release" / nb_path.stem / nb_path.name
    assert path.is_file(), f"no release notebook {path}"
    return load(path), path.read_text(encoding="utf-8")


@pytest.mark.parametrize("nb_path", PARAMS)
def test_release_holds_no_solution_and_no_hidden_test(course, nb_path):
    src = load(nb_path)
    rel, raw = release_of(course, nb_path)
    solutions, hidden, visible = [], [], []
    for cell in src["cells"]:
        inside, outside = solution_split(cell)
        solutions += inside
        h_inside, h_outside = split("\n".join(outside), HIDDEN)
        hidden += h_inside
        visible += h_outside
    assert solutions, f"{nb_path.name}: no ### BEGIN SOLUTION region to check"
    # a line that is also shown elsewhere in the notebook may legitimately be in the release
    shown = meaningful(visible)
    released = meaningful(ln for c in rel["cells"] for ln in source(c).splitlines())
    for marker in SOLUTION + HIDDEN:
        assert marker not in raw, f"the release still has a {marker!r} marker"
    leaked = sorted((meaningful(solutions) - shown) & released)
    assert not leaked, "solution lines in the release:\n" + "\n".join(leaked)
    leaked = sorted((meaningful(hidden) - shown) & released)
    assert not leaked, "hidden-test lines in the release:\n" + "\n".join(leaked)


@pytest.mark.parametrize("nb_path", PARAMS)
def test_release_keeps_everything_else(course, nb_path):
    src = load(nb_path)
    rel, _ = release_of(course, nb_path)
    assert len(rel["cells"]) == len(src["cells"]), "the release added or dropped cells"
    for i, (s, r) in enumerate(zip(src["cells"], rel["cells"])):
        assert r["cell_type"] == s["cell_type"], f"cell {i} changed type"
        want = [ln for ln in visible_lines(s) if ln.strip()]
        got = iter(ln for ln in source(r).splitlines() if ln.strip())
        missing = [ln for ln in want if not any(ln == g for g in got)]   # in order
        assert not missing, f"cell {i}: lines the students should see are gone:\n" + \
            "\n".join(missing)
        if r["cell_type"] == "code":
            assert r.get("outputs") == [] and r.get("execution_count") is None, \
                f"cell {i} of the release has outputs"
    text = "\n".join(source(c) for c in rel["cells"])
    visible = "\n".join("\n".join(visible_lines(c)) for c in src["cells"])
    if re.search(r"^\s*(import tcpsim|from tcpsim)", visible, re.M):
        assert re.search(r"^\s*(import tcpsim|from tcpsim)", text, re.M), \
            "the release no longer imports tcpsim"
    checks = re.findall(r"\bcheck_\w+\(", visible)
    assert sorted(re.findall(r"\bcheck_\w+\(", text)) == sorted(checks), \
        "the release lost some exercises' check_...() calls"


@pytest.mark.parametrize("nb_path", PARAMS)
def test_release_grades_the_same_cells(course, nb_path):
    """Every solution and graded cell of the source is one in the release, with its points
    (nbgrader's autograder finds them by grade_id)."""
    def graded(nb):
        return {c["metadata"]["nbgrader"]["grade_id"]:
                (bool(c["metadata"]["nbgrader"].get("solution")),
                 c["metadata"]["nbgrader"].get("points"))
                for c in nb["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}
    rel, _ = release_of(course, nb_path)
    assert graded(rel) == graded(load(nb_path))


@pytest.mark.parametrize("nb_path", PARAMS)
def test_autograde_gives_the_solution_every_point_and_the_release_none(course, nb_path):
    """nbgrader's autograder, as instructors/README.md tells it: the source notebook handed
    in as a submission (student ``solution``) gets every autograded point; the release
    handed in untouched (student ``blank``) gets none. Written answers (graded solution
    cells) are graded by hand, so they count for neither."""
    name = nb_path.stem
    for student, notebook in (("solution", nb_path),
                              ("blank", course / "release" / name / nb_path.name)):
        target = course / "submitted" / student / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target / nb_path.name)
    bindir = IPYTHON.parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    for args in (["autograde", name, "--create", "--force"], ["export", f"--to={course / 'grades.csv'}"]):
        done = subprocess.run([str(bindir / "nbgrader"), *args,
                               f"--CourseDirectory.root={course}"],
                              cwd=REPO / "instructors", env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"nbgrader {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    rows = list(csv.DictReader((course / "grades.csv").open()))
    auto = sum(c["metadata"]["nbgrader"]["points"] for c in load(nb_path)["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade")
               and not c["metadata"]["nbgrader"].get("solution"))
    scores = {r["student_id"]: float(r["raw_score"]) for r in rows if r["assignment"] == name}
    assert scores == {"solution": auto, "blank": 0.0}, scores


@pytest.mark.parametrize("nb_path", PARAMS)
def test_release_runs_top_to_bottom_as_handed_out(course, nb_path, tmp_path):
    """A student's first "Run All" on the untouched release raises nothing: the answer cells
    keep their placeholders (``x = ...``) and the check cells say what is missing, so the
    players and explorers further down still run (nbgrader_config.py's code_stub)."""
    path = course / "release" / nb_path.stem / nb_path.name
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, startup_timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython")))
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
        pytest.fail(f"the release of {nb_path.name} raised:\n{plain}", pytrace=False)


def test_students_environment_has_no_nbgrader():
    """nbgrader lives in .venv-instructors only: in the students' environment (.venv, Binder)
    its JupyterLab menus (Formgrader, Assignments, Validate) would show."""
    for path in (REPO / "requirements.txt", REPO / "pyproject.toml",
                 REPO / "binder" / "requirements.txt"):
        if path.exists():
            assert "nbgrader" not in path.read_text().lower(), f"{path} installs nbgrader"


def test_into_copies_the_students_edition(tmp_path, request):
    """``build_release.py --into DIR`` (what Binder runs with ``--into notebooks``) puts each
    release notebook in DIR under its own name; the other notebooks are left alone."""
    if not (IVENV / "bin" / "nbgrader").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{IVENV.name} is not installed; in CI the release must be checked")
        pytest.skip(f"the instructors' environment {IVENV.name} is not installed")
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)
    done = subprocess.run([str(IPYTHON), str(BUILD), "--course-dir", str(tmp_path / "course"),
                           "--notebooks", str(notebooks), "--into", str(notebooks)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        copied = (notebooks / path.name).read_text(encoding="utf-8")
        if path in GRADED:
            released = tmp_path / "course" / "release" / path.stem / path.name
            assert copied == released.read_text(encoding="utf-8")
            assert "BEGIN SOLUTION" not in copied and "BEGIN HIDDEN TESTS" not in copied
        else:
            assert copied == path.read_text(encoding="utf-8")


def test_binder_builds_the_students_edition_outside_the_students_environment():
    """binder/postBuild: valid bash that stops on errors, installs nbgrader only into a
    throwaway venv, runs build_release.py --into notebooks with it, and removes it; a
    failure there leaves Binder working with the instructors' edition."""
    script = REPO / "binder" / "postBuild"
    assert os.access(script, os.X_OK), "binder/postBuild must be executable"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert "set -euo pipefail" in text
    venv = re.search(r'^helper=(\S+)$', text, re.M).group(1)
    assert venv.startswith("/tmp/")                              # not the Binder environment
    assert re.search(r'"\$helper/bin/pip" install .*-r instructors/requirements\.txt', text)
    assert '"$helper/bin/python" instructors/build_release.py --into notebooks' in text
    assert re.search(r'^rm -rf "\$helper"', text, re.M)
    assert re.search(r"^pip install --no-deps -e \.$", text, re.M)   # tcpsim itself
