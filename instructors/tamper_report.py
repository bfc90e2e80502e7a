"""List the submissions that tampered with the course's code, guessed, or used another id.

    cd instructors && ../.venv-instructors/bin/python tamper_report.py 02-three-way-handshake
    python instructors/tamper_report.py 02-three-way-handshake --course-dir DIR [--json]

nbgrader runs a student's cells in the same kernel as the hidden tests, so it cannot stop
a student's code from changing what those tests see (README.md, "What the autograder cannot
prevent"). The hidden tests of this course grade in a fresh process, so rebinding a course
name no longer earns points; this report makes the attempt visible, and the guessing too.
For every ``submitted/<student>/<assignment>/*.ipynb`` it reads the notebook as handed in
(nothing is executed) and flags:

* **rebinding**: a cell the student changed or added that assigns to a name the release
  defines outside that cell (``q``, ``STUDENT_SEED``, ``exercises``...), stores into an
  attribute or item of a module (``exercises.check_x = ...``, ``sys.modules[...] = ...``),
  or calls ``setattr``, ``globals``, ``exec``, ``eval``, ``importlib.reload``, or imports
  ``builtins``, ``subprocess``, ``importlib``, ``unittest.mock`` or the inner modules of
  ``tcpsim.exercises`` (``answers``, ``handshake``, ...);
* **id**: a ``STUDENT_ID`` that is still the default, or is not the submission's student;
* **guessing**: an exercise whose check recorded ``TRIES_BEFORE_WARNING`` or more different
  wrong answers (the check's output carries the count, ``tcpsim.exercises.feedback.show``);
  an exercise whose check has no saved output gets a **note** (the student cleared the
  outputs, or never ran the check, so the tries are unknown).

A flag is a reason to look at the notebook, not a verdict. Exit status 0; ``--json`` prints
{student: [flags]}.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_COURSE_DIR = HERE / "course"
DEFAULT_ID = "anonymous"                 # tcpsim.exercises.answers.DEFAULT_STUDENT_ID
TRIES_BEFORE_WARNING = 3                 # tcpsim.exercises.feedback.TRIES_BEFORE_WARNING
MODULE_ROOTS = {"tcpsim", "exercises", "course", "plots", "widgets", "answers", "json",
                "subprocess", "sys", "os", "builtins", "importlib", "_json", "_subprocess",
                "_sys"}
SUSPECT_CALLS = {"setattr", "delattr", "globals", "exec", "eval", "__import__", "reload"}
SUSPECT_IMPORTS = {"builtins", "subprocess", "importlib", "unittest.mock", "ctypes"}
INNER_MODULES = {"answers", "feedback", "grade", "handshake", "sealed", "start_here"}


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def grade_id(cell: dict):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def bound_names(tree: ast.AST) -> set[str]:
    """Names a cell binds at top level (assignments, imports, defs, for targets)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
    return names


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def suspect_code(tree: ast.AST) -> list[str]:
    """What in a cell changes the course's modules or the kernel's machinery."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and \
                isinstance(node.ctx, (ast.Store, ast.Del)):
            root = _root(node)
            if root in MODULE_ROOTS or (root or "").startswith("__"):
                found.append(f"stores into {ast.unparse(node)}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else \
                func.attr if isinstance(func, ast.Attribute) else None
            if name in SUSPECT_CALLS:
                found.append(f"calls {name}()")
        elif isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names
                      if a.name in SUSPECT_IMPORTS or a.name.startswith("tcpsim.exercises.")]
        elif isinstance(node, ast.ImportFrom):
            inner = node.module in ("tcpsim.exercises", "exercises") and any(
                a.name in INNER_MODULES for a in node.names)
            if node.module in SUSPECT_IMPORTS or inner or \
                    (node.module or "").startswith("tcpsim.exercises."):
                found.append(f"imports from {node.module}")
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            found.append("uses __builtins__")
    return found


def typed_student_id(cells: list[dict]):
    """The literal STUDENT_ID of the first cell that sets one, or None."""
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell_source(cell))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets):
                value = node.value
                if isinstance(value, ast.Call) and value.args:   # exercises.student_id("x")
                    value = value.args[0]
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value.strip()
                return ast.unparse(node.value)
    return None


def check_records(cells: list[dict]) -> dict:
    """{exercise: wrong tries} from the checks' saved outputs; exercises of graded cells
    without a record map to None."""
    records = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        exercise_outputs = [o.get("metadata", {}).get("tcpsim") for o in cell.get("outputs", [])
                            if isinstance(o.get("metadata", {}).get("tcpsim"), dict)]
        for record in exercise_outputs:
            records[record["exercise"]] = max(records.get(record["exercise"]) or 0,
                                              int(record.get("wrong_tries", 0)))
        if meta.get("grade") and not meta.get("solution") and not exercise_outputs:
            records.setdefault(f"cell {meta.get('grade_id')}", None)
    return records


def report_notebook(submitted: dict, release: dict, student: str) -> list[str]:
    flags = []
    release_cells = release["cells"]
    untouched = {cell_source(c) for c in release_cells}
    # names the release binds, and in which cell (by grade_id, else by position)
    defined_in = {}
    for i, cell in enumerate(release_cells):
        if cell.get("cell_type") != "code":
            continue
        try:
            names = bound_names(ast.parse(cell_source(cell)))
        except SyntaxError:
            continue
        for name in names:
            defined_in.setdefault(name, set()).add(grade_id(cell) or f"#{i}")
    for i, cell in enumerate(submitted["cells"]):
        if cell.get("cell_type") != "code" or cell_source(cell) in untouched:
            continue
        where = f"cell {i}" + (f" ({grade_id(cell)})" if grade_id(cell) else "")
        try:
            tree = ast.parse(cell_source(cell))
        except SyntaxError:
            flags.append(f"rebinding? {where} does not parse as Python")
            continue
        here = grade_id(cell) or f"#{i}"
        for name in sorted(bound_names(tree)):
            if name.startswith("_") and name not in defined_in:
                continue
            if name in defined_in and here not in defined_in[name]:
                flags.append(f"rebinding: {where} rebinds {name}, defined by the release "
                             "elsewhere")
        flags += [f"rebinding: {where} {what}" for what in suspect_code(tree)]
    typed = typed_student_id(submitted["cells"])
    if typed is None or typed.lower() == DEFAULT_ID:
        flags.append("id: STUDENT_ID is not set (the default)")
    elif typed.strip().lower() != student.strip().lower():
        flags.append(f"id: STUDENT_ID is {typed!r}, the submission is {student!r}'s")
    for exercise, tries in sorted(check_records(submitted["cells"]).items()):
        if tries is None:
            flags.append(f"note: no saved check output for {exercise} (outputs cleared, or "
                         "never run): its tries are unknown")
        elif tries >= TRIES_BEFORE_WARNING:
            flags.append(f"guessing: {tries} different wrong answers to {exercise}")
    return flags


def report(course_dir: Path, assignment: str) -> dict:
    release_dir = course_dir / "release" / assignment
    if not release_dir.is_dir():
        sys.exit(f"no release of {assignment} in {course_dir} (run `make release`)")
    result = {}
    for path in sorted((course_dir / "submitted").glob(f"*/{assignment}/*.ipynb")):
        student = path.parent.parent.name
        release_path = release_dir / path.name
        if not release_path.is_file():
            result.setdefault(student, []).append(f"{path.name} is not in the release")
            continue
        submitted = json.loads(path.read_text(encoding="utf-8"))
        release = json.loads(release_path.read_text(encoding="utf-8"))
        result.setdefault(student, []).extend(report_notebook(submitted, release, student))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--course-dir", type=Path, default=DEFAULT_COURSE_DIR)
    parser.add_argument("--json", action="store_true", help="print {student: [flags]}")
    args = parser.parse_args(argv)
    result = report(args.course_dir, args.assignment)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    for student, flags in result.items():
        print(f"{student}: {'nothing to look at' if not flags else len(flags)}")
        for flag in flags:
            print(f"    {flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
