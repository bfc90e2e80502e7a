"""Autograding time: N submissions of notebook 02, graded one after the other and in parallel.

    .venv-instructors/bin/python benchmarks/bench_grading.py [--submissions 8]
        [--workers 1,2] [--from DIR]

Runs by hand, with the instructors' Python (nbgrader lives there, never in the students'
environment). For each number of workers W, in a fresh course directory of its own
(``instructors/build_release.py --course-dir``, so the gradebook knows the assignment):

* N submissions are laid out in nbgrader's ``submitted/<student>/<assignment>/`` (the
  source notebook, every answer right; or, with ``--from``, the notebooks that
  ``tools/hub_collect.py`` or ``bench_classroom.py --collect`` gathered);
* ``W = 1``: one ``nbgrader autograde ASSIGNMENT`` for everyone, nbgrader's own way;
* ``W > 1``: W ``nbgrader autograde`` processes at once, each grading every W-th student
  (``--CourseDirectory.student_id_exclude=`` the others), all on the one gradebook
  (SQLite: nbgrader's writes are short, executing each notebook is not). One process per
  student instead pays nbgrader's start-up for each: measured 2.5x slower than serial here.

Printed: seconds in all and per submission, the speed-up over W = 1, the calibration loop,
and a check that every submission got its full autograded score (9 points for notebook 02)
from the gradebook, so a faster run that graded wrongly does not pass as a speed-up.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))  # calibration.py, as a script too
from calibration import calibration_s  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
INSTRUCTORS = REPO / "instructors"
ASSIGNMENT = "02-three-way-handshake"


def nbgrader(*args, course_dir):
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(bindir / "nbgrader"), *args, f"--CourseDirectory.root={course_dir}"],
                          cwd=INSTRUCTORS, env=env, capture_output=True, text=True)


def prepare(course_dir: Path, n: int, source_dir: Path | None) -> list[str]:
    """A course directory with the assignment generated and ``n`` submissions."""
    done = subprocess.run([sys.executable, str(INSTRUCTORS / "build_release.py"),
                           "--course-dir", str(course_dir), ASSIGNMENT],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build_release.py failed:\n{done.stdout}\n{done.stderr}")
    source = course_dir / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    collected = sorted((source_dir / "submitted").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")) \
        if source_dir else []
    students = []
    for k in range(n):
        student = f"student{k:03d}"
        folder = course_dir / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(collected[k % len(collected)] if collected else source,
                    folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text("2026-12-03 12:00:00.000000 UTC\n")
        students.append(student)
    return students


def scores(course_dir: Path, students) -> dict:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        out = {}
        for student in students:
            try:
                out[student] = gradebook.find_submission(ASSIGNMENT, student).score
            except Exception:  # noqa: BLE001 (nbgrader's MissingEntry: not graded)
                out[student] = None
        return out


def grade(course_dir: Path, students, workers: int):
    """Seconds to autograde everyone with ``workers`` nbgrader processes at once, each
    grading its share of the students (``student_id_exclude``: all the others); failures."""
    start = time.perf_counter()
    shares = [students[k::workers] for k in range(workers)]

    def one(share):
        others = [s for s in students if s not in share]
        exclude = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
        done = nbgrader("autograde", ASSIGNMENT, "--force", *exclude, course_dir=course_dir)
        return None if done.returncode == 0 else f"{share[0]}...: {done.stderr[-300:]}"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        failures = [f for f in pool.map(one, shares) if f]
    return time.perf_counter() - start, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--from", dest="source_dir", type=Path,
                        help="a course directory holding collected submitted/ notebooks")
    args = parser.parse_args(argv)
    try:
        import nbgrader.api  # noqa: F401
    except ImportError:
        raise SystemExit("nbgrader is not installed here: run this with "
                         ".venv-instructors/bin/python (make release installs it)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
          f"calibration loop {calibration_s():.3f} s (10M steps)")
    baseline = None
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory(prefix="tcpsim-grading-") as tmp:
            course_dir = Path(tmp) / "course"
            students = prepare(course_dir, args.submissions, args.source_dir)
            seconds, failures = grade(course_dir, students, workers)
            got = scores(course_dir, students)
        full = sum(1 for s in got.values() if s is not None and s >= 9)
        line = (f"  {workers} worker(s): {len(students)} submissions in {seconds:6.1f} s, "
                f"{seconds / len(students):5.1f} s each; full score {full}/{len(students)}")
        if baseline is None:
            baseline = seconds
        else:
            line += f"; {baseline / seconds:.2f}x faster than 1 worker"
        if failures:
            line += f"; {len(failures)} failed, first: {failures[0]}"
        print(line, flush=True)
    print(f"  load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
