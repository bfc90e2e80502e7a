"""Grade one exercise in a fresh Python process: what every hidden test runs.

    echo '{"student_id": "alice", "synack_ack": 123, ...}' | \\
        python -I -m tcpsim.exercises.grade 02-ex1

Reads the student's id and answers as JSON on stdin, runs the exercise's ``judge_…``
function (the same one whose feedback the student saw, each notebook module's
``GRADED``, so the check
and the hidden test agree on every input, the default id included) and exits 0
if the answer is right, 1 if not, 2 if the input is unusable. It prints one line, never the
expected answer. ``-I`` keeps the student's folder and environment variables out of
``sys.path``: nothing the student's notebook did in its kernel reaches this process, which
only gets data.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys

from . import __name__ as PACKAGE, __path__ as PACKAGE_PATH
from .answers import student_seed


def every_graded() -> dict:
    """Every notebook module's ``GRADED`` ({exercise id: (judge, answer names)}), merged: a
    new notebook's module (``tcpsim/exercises/<topic>.py`` with a ``GRADED``) is found here
    without being listed."""
    graded = {}
    for info in sorted(pkgutil.iter_modules(PACKAGE_PATH), key=lambda info: info.name):
        if info.name == "grade":     # this file: its GRADED is the merged one
            continue
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        for exercise, entry in getattr(module, "GRADED", {}).items():
            if exercise in graded:
                raise RuntimeError(f"exercise {exercise!r} is graded twice ({info.name}.py)")
            graded[exercise] = entry
    return graded


GRADED = every_graded()   # every notebook's graded exercises

RIGHT, WRONG, UNUSABLE = 0, 1, 2


def grade(exercise: str, submitted: dict) -> tuple[int, str]:
    if exercise not in GRADED:
        return UNUSABLE, f"unknown exercise {exercise!r} (known: {', '.join(GRADED)})"
    judge, names = GRADED[exercise]
    student_id = submitted.get("student_id")
    if not isinstance(student_id, str) or not student_id.strip():
        return WRONG, "STUDENT_ID is not a text"
    missing = [name for name in names if name not in submitted]
    if missing:
        return UNUSABLE, f"no {', '.join(missing)} in the input"
    feedback = judge(*(submitted[name] for name in names), seed=student_seed(student_id))
    return (RIGHT, "right") if feedback.correct else (WRONG, "not right")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -I -m tcpsim.exercises.grade EXERCISE < answers.json")
        return UNUSABLE
    try:
        submitted = json.loads(sys.stdin.read())
    except ValueError as error:
        print(f"the answers are not JSON: {error}")
        return UNUSABLE
    if not isinstance(submitted, dict):
        print("the answers must be a JSON object {name: value}")
        return UNUSABLE
    code, message = grade(argv[0], submitted)
    print(message)
    return code


if __name__ == "__main__":
    sys.exit(main())
