"""Build the students' release of the graded notebooks with nbgrader.

    make release                                   # what instructors type
    .venv-instructors/bin/python instructors/build_release.py [--course-dir DIR] [NAME ...]
        [--notebooks DIR] [--into DIR]

Every notebook of ``notebooks/`` whose cells carry nbgrader metadata is an nbgrader
assignment named after the notebook (``02-three-way-handshake``); NAMEs pick some of them.
``notebooks/`` stays the single source: this script lays out nbgrader's course directory
(``instructors/course/`` unless told otherwise) with a fresh copy of each notebook as
``source/<name>/<name>.ipynb``, then runs ``nbgrader generate_assignment``, which writes
``release/<name>/<name>.ipynb``: solutions replaced by a stub, hidden tests removed, outputs
cleared, graded cells locked, and the assignment recorded in the course's ``gradebook.db``
for autograding.

``--into DIR`` also copies each release notebook to ``DIR/<name>.ipynb``, over the source
if DIR is ``notebooks/``: that is how Binder (``binder/postBuild``) turns its copy of the
course into the students' edition.

It must run with the instructors' Python (``.venv-instructors``), which has nbgrader; the
students' ``.venv`` does not.
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
NOTEBOOKS = REPO / "notebooks"
DEFAULT_COURSE_DIR = HERE / "course"


def is_assignment(notebook: Path) -> bool:
    """Whether any cell of the notebook carries nbgrader metadata."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    return any("nbgrader" in cell.get("metadata", {}) for cell in cells)


def assignments(notebooks: Path = NOTEBOOKS) -> list[str]:
    """The names of the graded notebooks of ``notebooks/``."""
    return sorted(p.stem for p in notebooks.glob("*.ipynb") if is_assignment(p))


def release_path(course_dir: Path, name: str) -> Path:
    return course_dir / "release" / name / f"{name}.ipynb"


def build(course_dir: Path, names: list[str], notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Copy each notebook into ``course_dir/source/`` and generate its release."""
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
        source = course_dir / "source" / name
        if source.exists():
            shutil.rmtree(source)
        source.mkdir(parents=True)
        shutil.copy2(notebooks / f"{name}.ipynb", source / f"{name}.ipynb")
        # cwd=HERE: nbgrader reads nbgrader_config.py from there; the command line wins
        # over it for the course directory.
        done = subprocess.run([str(nbgrader), "generate_assignment", name, "--force",
                               f"--CourseDirectory.root={course_dir}"], cwd=HERE, env=env)
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
                        help="assignments to build (default: every graded notebook)")
    parser.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR,
                        help="nbgrader's course directory (default: %(default)s)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS,
                        help="where the source notebooks are (default: %(default)s)")
    parser.add_argument("--into", type=Path, default=None, metavar="DIR",
                        help="also copy each release notebook to DIR/<name>.ipynb "
                             "(Binder: --into notebooks makes the students' edition)")
    args = parser.parse_args(argv)
    known = assignments(args.notebooks)
    names = args.names or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"not a graded notebook of {args.notebooks}: {', '.join(unknown)} "
                     f"(graded: {', '.join(known) or 'none'})")
    if not names:
        print(f"no notebook of {args.notebooks} carries nbgrader metadata: nothing to release")
        return 0
    for path in build(args.course_dir, names, args.notebooks):
        print(f"released: {path}")
        if args.into is not None:
            args.into.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, args.into / path.name)
            print(f"copied to: {args.into / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
