"""Make the students' edition of the graded notebooks from their nbgrader source.

    make release                                   # what instructors type
    .venv-instructors/bin/python instructors/build_release.py [NAME ...]
        [--source DIR] [--course-dir DIR] [--students DIR] [--check]

The layout:

* ``instructors/source/NAME.ipynb``: the nbgrader SOURCE of each graded notebook (the
  instructors' edition): answer cells hold the solution between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``, graded cells hold hidden tests. This is the file to edit.
* ``notebooks/NAME.ipynb``: the students' edition, committed, made from the source by this
  script and never edited by hand. The course's other notebooks (no exercises graded by
  nbgrader, such as ``00-start-here``) are written in ``notebooks/`` directly.
* ``instructors/course/``: nbgrader's course directory (gitignored): ``source/NAME/``,
  ``release/NAME/`` and ``gradebook.db``, which ``nbgrader autograde`` needs.

For each source notebook (an assignment of the same name; NAMEs pick some) the script
copies it to ``COURSE/source/NAME/NAME.ipynb``, runs ``nbgrader generate_assignment NAME``,
which writes ``COURSE/release/NAME/NAME.ipynb`` (solutions replaced by the stub of
``nbgrader_config.py``, hidden tests removed, outputs cleared, graded cells locked, the
assignment recorded in the gradebook), and copies that release to ``notebooks/NAME.ipynb``.

``--check`` writes nothing into ``notebooks/``: it says which students' notebooks differ
from what the source gives, and exits 1 if any does (``tests/test_release.py`` and the
lead's review use it; a course directory is still written, a temporary one is fine).

It must run with the instructors' Python (``.venv-instructors``), which has nbgrader; the
students' ``.venv`` (and Binder) do not.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = HERE / "source"
STUDENTS = REPO / "notebooks"
DEFAULT_COURSE_DIR = HERE / "course"


def is_assignment(notebook: Path) -> bool:
    """Whether any cell of the notebook carries nbgrader metadata."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    return any("nbgrader" in cell.get("metadata", {}) for cell in cells)


def assignments(source: Path = SOURCE) -> list[str]:
    """The names of the source notebooks (every notebook of ``source`` is graded)."""
    return sorted(p.stem for p in source.glob("*.ipynb"))


def release_path(course_dir: Path, name: str) -> Path:
    return course_dir / "release" / name / f"{name}.ipynb"


def build(course_dir: Path, names: list[str], source: Path = SOURCE) -> list[Path]:
    """Copy each source notebook into ``course_dir/source/`` and generate its release."""
    bindir = Path(sys.executable).parent   # the venv's bin/, not resolved: nbgrader lives there
    nbgrader = bindir / "nbgrader"
    if not nbgrader.exists():
        sys.exit(f"nbgrader is not installed beside {sys.executable}: run `make release`, "
                 "which installs the instructors' environment (.venv-instructors) and runs "
                 "this script with it")
    course_dir = course_dir.resolve()
    env = dict(os.environ)
    # nbgrader runs `alembic` (its database migrations) by name: it must be on PATH.
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    released = []
    for name in names:
        target = course_dir / "source" / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy2(source / f"{name}.ipynb", target / f"{name}.ipynb")
        # cwd=HERE: nbgrader reads nbgrader_config.py from there; the command line wins
        # over it for the course directory.
        done = subprocess.run([str(nbgrader), "generate_assignment", name, "--force",
                               f"--CourseDirectory.root={course_dir}"], cwd=HERE, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"nbgrader generate_assignment {name} failed: see its log above")
        out = release_path(course_dir, name)
        if not out.is_file():   # nbgrader logs some failures without a non-zero exit
            sys.exit(f"nbgrader wrote no {out}: see its log above")
        released.append(out)
    return released


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="assignments to build (default: every source notebook)")
    parser.add_argument("--source", type=Path, default=SOURCE,
                        help="the nbgrader source notebooks (default: %(default)s)")
    parser.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR,
                        help="nbgrader's course directory (default: %(default)s)")
    parser.add_argument("--students", type=Path, default=STUDENTS, metavar="DIR",
                        help="where the students' edition goes (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing into --students: exit 1 if it differs from "
                             "what the source gives")
    args = parser.parse_args(argv)
    known = assignments(args.source)
    names = args.names or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"no source notebook in {args.source}: {', '.join(unknown)} "
                     f"(there are: {', '.join(known) or 'none'})")
    ungraded = [n for n in names if not is_assignment(args.source / f"{n}.ipynb")]
    if ungraded:
        parser.error(f"{', '.join(ungraded)} in {args.source} carry no nbgrader metadata: a "
                     "notebook without graded exercises is written in notebooks/ directly")
    if not names:
        print(f"no notebook in {args.source}: nothing to release")
        return 0
    stale = []
    for path in build(args.course_dir, names, args.source):
        student = args.students / path.name
        if args.check:
            if not student.is_file() or student.read_bytes() != path.read_bytes():
                stale.append(student)
            continue
        args.students.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, student)
        print(f"released: {path}\nstudents' edition: {student}")
    if stale:
        print("not what `make release` writes from the source (edit the source in "
              f"{args.source}, then run `make release`): "
              + ", ".join(str(s) for s in stale), file=sys.stderr)
        return 1
    if args.check:
        print(f"the students' edition in {args.students} is up to date with {args.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
