"""The graded notebooks' nbgrader source, and the students' edition made from it.

The layout (``instructors/build_release.py`` explains it): ``instructors/source/NAME.ipynb``
is nbgrader's SOURCE of a graded notebook (answer cells carry ``"nbgrader": {"solution":
true, ...}`` with the answer between ``### BEGIN SOLUTION`` / ``### END SOLUTION``; autograder
cells carry ``"grade": true, "points": N`` with ``### BEGIN HIDDEN TESTS`` /
``### END HIDDEN TESTS``), and ``notebooks/NAME.ipynb`` is the students' edition that
``make release`` writes from it with ``nbgrader generate_assignment``.

* ``test_markup_*`` and ``test_students_edition_*`` read the committed files alone (no
  nbgrader needed), so broken markup, or a solution or hidden test that reached
  ``notebooks/``, fails fast everywhere.
* the others build the release as ``make release`` does (``build_release.py`` run by the
  instructors' environment ``.venv-instructors``, which ``make test`` creates) into a
  temporary course directory, and check that ``notebooks/`` is byte for byte what it writes,
  that no solution and no hidden test reached it while everything else did, and that
  nbgrader's autograder gives the source every point and the blank students' edition none.
  Without ``.venv-instructors`` they skip, except in CI (``CI`` set), where they must run.

The autograder's runs are also the graded notebooks' top-to-bottom runs, without network:
``test_the_source_runs_clean_and_passes_its_own_checks`` scans the source's outputs as
``tests/test_notebooks.py`` would, and ``test_the_students_edition_runs_clean`` the blank
students' edition's (where only the hidden tests may fail). ``tests/test_notebooks.py`` then
executes only the notebooks without a source (00); it executes both editions of the graded
ones when the instructors' environment is missing.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from notebook_outputs import NO_NETWORK, failing_line, output_problems, source_checks_not_passed

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"                 # the students' edition
SOURCE = REPO / "instructors" / "source"       # the nbgrader source of the graded notebooks
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


def has_nbgrader_cells(path: Path) -> bool:
    return any("nbgrader" in c.get("metadata", {}) for c in load(path)["cells"])


GRADED = sorted(SOURCE.glob("*.ipynb"))
PARAMS = [pytest.param(p, id=p.stem) for p in GRADED] or [
    pytest.param(None, marks=pytest.mark.skip(
        reason="no nbgrader source notebook in instructors/source/ yet"))]


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


# ------------------------------------------------------------ the committed students' edition
def leaks(src: dict, released: list[dict], also_shown=()) -> tuple[list[str], list[str]]:
    """(solution lines, hidden-test lines) of the source ``src`` found in any of the
    ``released`` notebooks. A line that the source also shows outside those regions (the
    placeholder ``x = ...``, a comment repeated in the text) may legitimately be there, and
    so may ``also_shown``: lines other sources show (another notebook's placeholder
    ``my_scenario = {`` is not this one's solution leaking)."""
    solutions, hidden, visible = [], [], list(also_shown)
    for cell in src["cells"]:
        inside, outside = solution_split(cell)
        solutions += inside
        h_inside, h_outside = split("\n".join(outside), HIDDEN)
        hidden += h_inside
        visible += h_outside
    assert solutions, "no ### BEGIN SOLUTION region to check"
    shown = meaningful(visible)
    lines = meaningful(ln for nb in released for c in nb["cells"] for ln in source(c).splitlines())
    return sorted((meaningful(solutions) - shown) & lines), sorted((meaningful(hidden) - shown) & lines)


def test_students_edition_is_made_from_the_source():
    """Every source notebook has its students' edition in notebooks/, and every notebook of
    notebooks/ with nbgrader cells has a source (a students' edition is never written by
    hand: edit instructors/source/, then `make release`)."""
    assert GRADED, "instructors/source/ holds no notebook"
    for path in GRADED:
        assert has_nbgrader_cells(path), f"{path.name} in instructors/source/ is not graded"
        assert (NOTEBOOKS / path.name).is_file(), \
            f"no students' edition notebooks/{path.name}: run `make release`"
    orphans = [p.name for p in NOTEBOOKS.glob("*.ipynb")
               if has_nbgrader_cells(p) and not (SOURCE / p.name).is_file()]
    assert not orphans, f"graded notebooks in notebooks/ without a source: {orphans}"


def test_students_edition_holds_no_solution_and_no_hidden_test():
    """No notebook of notebooks/ has a solution or hidden-test marker, or any solution or
    hidden-test line of any source notebook."""
    students = {p.name: load(p) for p in sorted(NOTEBOOKS.glob("*.ipynb"))}
    for name in students:
        raw = (NOTEBOOKS / name).read_text(encoding="utf-8")
        for marker in SOLUTION + HIDDEN:
            assert marker not in raw, f"notebooks/{name} has a {marker!r} marker"
    placeholders = [line for path in GRADED for cell in load(path)["cells"]
                    for line in split("\n".join(solution_split(cell)[1]), HIDDEN)[1]]
    for path in GRADED:
        solutions, hidden = leaks(load(path), list(students.values()), placeholders)
        assert not solutions, f"solution lines of {path.name} in notebooks/:\n" + "\n".join(solutions)
        assert not hidden, f"hidden-test lines of {path.name} in notebooks/:\n" + "\n".join(hidden)


def test_the_leak_check_finds_a_leaked_line():
    """The check above is not vacuous: a students' notebook that kept one solution line and
    one hidden-test line of the source is caught."""
    src = load(GRADED[0])
    cells = [c for c in src["cells"] if SOLUTION[0] in source(c) and HIDDEN[0] in source(c)] or \
        [c for c in src["cells"] if SOLUTION[0] in source(c)]
    sol = meaningful(solution_split(cells[0])[0]) - meaningful(
        ln for c in src["cells"] for ln in visible_lines(c))
    leaked_cell = {"cell_type": "code", "source": "\n".join(sorted(sol)[:1]), "metadata": {}}
    solutions, _ = leaks(src, [{"cells": [leaked_cell]}])
    assert solutions == sorted(sol)[:1]


# --------------------------------------------------------------------------- the release
@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory with the release of every graded notebook, as `make release`
    makes it (the students' edition written to a temporary folder, not notebooks/)."""
    if not (IVENV / ".installed").exists() or not (IVENV / "bin" / "nbgrader").exists():
        why = (f"the instructors' environment {IVENV.name} is not installed (`make release` or "
               "`make test` creates it from instructors/requirements.txt; it needs PyPI)")
        if os.environ.get("CI"):
            pytest.fail(f"{why}; in CI the release must be checked")
        pytest.skip(why)
    course_dir = tmp_path_factory.mktemp("course")
    done = subprocess.run([str(IPYTHON), str(BUILD), "--course-dir", str(course_dir),
                           "--source", str(SOURCE), "--students", str(course_dir / "students")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"build_release.py failed:\n{done.stdout}\n{done.stderr}"
    return course_dir


def release_of(course_dir: Path, nb_path: Path) -> tuple[dict, str]:
    path = course_dir / "release" / nb_path.stem / nb_path.name
    assert path.is_file(), f"no release notebook {path}"
    return load(path), path.read_text(encoding="utf-8")


@pytest.mark.parametrize("nb_path", PARAMS)
def test_notebooks_is_exactly_what_make_release_writes(course, nb_path):
    """notebooks/NAME.ipynb is, byte for byte, nbgrader's release of the source: edit the
    source in instructors/source/ and run `make release`, never the students' edition."""
    _, raw = release_of(course, nb_path)
    assert (course / "students" / nb_path.name).read_text(encoding="utf-8") == raw
    committed = (NOTEBOOKS / nb_path.name).read_text(encoding="utf-8")
    assert committed == raw, (f"notebooks/{nb_path.name} is not what `make release` writes "
                              f"from instructors/source/{nb_path.name}: run `make release`")


def test_check_reports_a_stale_students_edition(course, tmp_path):
    """``build_release.py --check`` (writes nothing) exits 1 and names the notebook when the
    students' edition differs from the source's release. (That it exits 0 when they agree is
    what ``make release`` followed by the test above shows.)"""
    students = tmp_path / "students"
    shutil.copytree(course / "students", students)
    victim = students / GRADED[0].name
    victim.write_text(victim.read_text(encoding="utf-8").replace("YOUR CODE HERE", "x = 1", 1),
                      encoding="utf-8")
    # one notebook is enough to show it (and each notebook's release costs a few seconds)
    stale = subprocess.run([str(IPYTHON), str(BUILD), "--course-dir", str(tmp_path / "course"),
                            "--source", str(SOURCE), "--students", str(students), "--check",
                            GRADED[0].stem],
                           check=False, capture_output=True, text=True, timeout=300)
    assert stale.returncode == 1 and GRADED[0].name in stale.stderr, stale.stdout + stale.stderr
    assert "x = 1" in victim.read_text(encoding="utf-8")       # --check wrote nothing


@pytest.mark.parametrize("nb_path", PARAMS)
def test_release_holds_no_solution_and_no_hidden_test(course, nb_path):
    rel, raw = release_of(course, nb_path)
    for marker in SOLUTION + HIDDEN:
        assert marker not in raw, f"the release still has a {marker!r} marker"
    solutions, hidden = leaks(load(nb_path), [rel])
    assert not solutions, "solution lines in the release:\n" + "\n".join(solutions)
    assert not hidden, "hidden-test lines in the release:\n" + "\n".join(hidden)


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
    if re.search(r"^\s*(import tcpsim|from tcpsim)", visible, re.MULTILINE):
        assert re.search(r"^\s*(import tcpsim|from tcpsim)", text, re.MULTILINE), \
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


def selected_notebooks(session) -> list[Path]:
    """The graded notebooks that the tests selected in this session take as ``nb_path``
    (all of them in ``make test``; one with ``-k 03``)."""
    chosen = {item.callspec.params.get("nb_path") for item in session.items
              if hasattr(item, "callspec")}
    return [p for p in GRADED if p in chosen]


@pytest.fixture(scope="module")
def autograded(course, request):
    """nbgrader's autograder, as instructors/README.md tells it, run once over every graded
    notebook: each source handed in as a submission of student ``solution``, each release
    handed in untouched as student ``blank``. Returns {(student, assignment): raw score}; the
    executed notebooks are in ``course/autograded/``. (One run for all: each nbgrader start
    costs seconds, and every notebook is executed here once per student. Only the notebooks
    that the selected tests need are handed in.)"""
    for nb_path in selected_notebooks(request.session):
        name = nb_path.stem
        for student, notebook in (("solution", nb_path),
                                  ("blank", course / "release" / name / nb_path.name)):
            target = course / "submitted" / student / name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(notebook, target / nb_path.name)
    bindir = IPYTHON.parent
    site = course / "site"                    # the kernels run without network, as in
    site.mkdir(exist_ok=True)                 # tests/test_notebooks.py
    (site / "sitecustomize.py").write_text(NO_NETWORK)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
               IPYTHONDIR=str(course / "ipython"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    for args in (["autograde", "*", "--create", "--force"],
                 ["export", f"--to={course / 'grades.csv'}"]):
        done = subprocess.run([str(bindir / "nbgrader"), *args,
                               f"--CourseDirectory.root={course}"],
                              cwd=REPO / "instructors", env=env, capture_output=True,
                              text=True, timeout=1800, check=False)
        assert done.returncode == 0, f"nbgrader {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    rows = list(csv.DictReader((course / "grades.csv").open()))
    return {(r["student_id"], r["assignment"]): float(r["raw_score"]) for r in rows}


@pytest.mark.parametrize("nb_path", PARAMS)
def test_autograde_gives_the_solution_every_point_and_the_release_none(course, autograded,
                                                                       nb_path):
    """The source (student ``solution``) gets every autograded point; the release handed in
    untouched (``blank``) gets none. Written answers (graded solution cells) are graded by
    hand, so they count for neither."""
    name = nb_path.stem
    auto = sum(c["metadata"]["nbgrader"]["points"] for c in load(nb_path)["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade")
               and not c["metadata"]["nbgrader"].get("solution"))
    scores = {student: autograded.get((student, name)) for student in ("solution", "blank")}
    assert scores == {"solution": auto, "blank": 0.0}, scores


@pytest.mark.parametrize("nb_path", PARAMS)
def test_the_source_runs_clean_and_passes_its_own_checks(course, autograded, nb_path):
    """The autograder's run of the source is its top-to-bottom run in a fresh kernel (so
    tests/test_notebooks.py does not execute the source a second time when this runs): no
    error output, no traceback, no figure printed as text, and every graded cell shows
    "✓ Right."."""
    executed = load(course / "autograded" / "solution" / nb_path.stem / nb_path.name)
    problems, _ = output_problems(executed)
    assert not problems, f"{nb_path.name} (the source):\n" + "\n".join(problems)
    failed = source_checks_not_passed(executed)
    assert not failed, (f"{nb_path.name} (the source, with the solutions) does not pass "
                        "its own checks:\n" + "\n".join(failed))


def hidden_test_lines(cell: dict) -> set[int]:
    """The line numbers (from 1) of a cell's source between the hidden-test markers."""
    lines, depth = set(), 0
    for number, line in enumerate(source(cell).splitlines(), start=1):
        if HIDDEN[0] in line:
            depth += 1
        elif HIDDEN[1] in line:
            depth -= 1
        elif depth:
            lines.add(number)
    return lines


def blank_run_problems(executed: dict) -> list[str]:
    """What is wrong with the autograder's run of an untouched students' edition: every
    output problem, except an error that a hidden test raised (in a graded cell, at a line
    between the hidden-test markers): a blank answer must fail those, and only those."""
    problems = []
    for i, cell in enumerate(executed["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        hidden = hidden_test_lines(cell) if meta.get("grade") and not meta.get("solution") else set()
        kept = [out for out in cell.get("outputs", [])
                if not (out.get("output_type") == "error" and failing_line(out) in hidden)]
        problems += output_problems({"cells": [{**cell, "outputs": kept}]})[0]
        problems = [p.replace("cell 0 ", f"cell {i} ", 1) if p.startswith("cell 0 ") else p
                    for p in problems]
    return problems


@pytest.mark.parametrize("nb_path", PARAMS)
def test_the_students_edition_runs_clean(course, autograded, nb_path):
    """The autograder's run of the untouched students' edition (student ``blank``) is also
    its top-to-bottom run, with no network: nothing raises but the hidden tests, which a
    blank answer must fail (so tests/test_notebooks.py does not execute it again)."""
    executed = load(course / "autograded" / "blank" / nb_path.stem / nb_path.name)
    problems = blank_run_problems(executed)
    assert not problems, f"{nb_path.name} (the students' edition):\n" + "\n".join(problems)


def test_the_output_scan_finds_an_error():
    """The scan above is not vacuous: an error output and a failing check are caught."""
    nb = {"cells": [{"cell_type": "code", "source": "1/0", "metadata": {},
                     "outputs": [{"output_type": "error", "ename": "ZeroDivisionError",
                                  "evalue": "division by zero", "traceback": []}]},
                    {"cell_type": "code", "source": "check(x)",
                     "metadata": {"nbgrader": {"grade": True, "grade_id": "t"}},
                     "outputs": [{"output_type": "stream", "name": "stdout",
                                  "text": "Not yet: look again"}]}]}
    problems, _ = output_problems(nb)
    assert problems == ["cell 0 ('1/0'): ZeroDivisionError: division by zero"]
    assert source_checks_not_passed(nb) == ["cell 1 ('check(x)') [t]: 'Not yet: look again'"]


def test_the_blank_run_scan_lets_only_hidden_tests_fail():
    """In the blank students' edition's run, an error raised by a hidden-test line of a
    graded cell is expected; the same error raised by the cell's visible check line, or in an
    ungraded cell, is a problem."""
    graded = {"nbgrader": {"grade": True, "grade_id": "t", "points": 1}}
    cell_text = "check(answer)\n### BEGIN HIDDEN TESTS\nassert answer == 3\n### END HIDDEN TESTS"

    def error_at(line):
        return {"output_type": "error", "ename": "AssertionError", "evalue": "",
                "traceback": ["\x1b[0;31mAssertionError\x1b[0m  Traceback",
                              f"Cell \x1b[0;32mIn[4], line {line}\x1b[0m\n----> {line} ..."]}

    hidden_fails = {"cells": [{"cell_type": "code", "source": cell_text, "metadata": graded,
                               "outputs": [error_at(3)]}]}
    check_fails = {"cells": [{"cell_type": "markdown", "source": "text", "metadata": {}},
                             {"cell_type": "code", "source": cell_text, "metadata": graded,
                              "outputs": [error_at(1)]}]}
    ungraded = {"cells": [{"cell_type": "code", "source": cell_text, "metadata": {},
                           "outputs": [error_at(3)]}]}
    assert blank_run_problems(hidden_fails) == []
    assert blank_run_problems(check_fails) == ["cell 1 ('check(answer)'): AssertionError: "]
    assert blank_run_problems(ungraded) == ["cell 0 ('check(answer)'): AssertionError: "]


def test_students_environment_has_no_nbgrader():
    """nbgrader lives in .venv-instructors only: in the students' environment (.venv, Binder)
    its JupyterLab menus (Formgrader, Assignments, Validate) would show."""
    for path in (REPO / "requirements.txt", REPO / "pyproject.toml",
                 REPO / "binder" / "requirements.txt"):
        if path.exists():
            assert "nbgrader" not in path.read_text().lower(), f"{path} installs nbgrader"
