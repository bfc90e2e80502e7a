"""Write a students-only git repository of the course, for Binder or a JupyterHub.

    make student-repo DEST=../tcp-course-students [REMOTE=https://github.com/ORG/REPO]
    python3 instructors/student_repo.py DEST [--remote URL] [--branch main]

The course's repository is open: it holds the nbgrader source with the solutions
(``instructors/source/``), the tests and the maintainers' tools, and its history holds
every earlier version of them. For a graded class, publish this instead: a NEW repository
in DEST (which must not exist, or be empty) with one commit and no history, holding

* ``notebooks/``: the students' edition (no solutions, no hidden tests), as committed;
* ``tcpsim/``, ``data/``, ``docs/``: the course's package, its captures, its reference pages;
* ``binder/``: what Binder installs, the same files as the course's;
* ``pyproject.toml`` (only what installs tcpsim), and a README, a Makefile (``make course``)
  and a .gitignore written for students (from ``instructors/student-repo/``).

Only files that git tracks are copied (no caches, no local outputs), as they are in the
working tree. Nothing of ``instructors/``, ``tests/``, ``tools/``, ``benchmarks/`` or the
course's history goes in. With ``--remote`` (the URL the new repository will be published
at) its README gets the Launch-on-Binder badge (``tools/binder_link.py``).

What it cannot hide: ``tcpsim/exercises/`` must be there (the notebooks' checks call it),
and a check knows how to tell a right answer from a wrong one; it shows hints, never the
answer, but a determined student can read its code.
"""
from __future__ import annotations

import argparse
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TEMPLATES = HERE / "student-repo"
COPIED = ("notebooks", "tcpsim", "data", "docs", "binder")
TEMPLATE_FILES = ("README.md", "Makefile", ".gitignore")
# what must never reach the students' repository (tests/test_student_repo.py checks)
FORBIDDEN = ("instructors", "tests", "tools", "benchmarks", ".ci")

sys.path.insert(0, str(REPO / "tools"))  # tools/ is not a package
binder_link = importlib.import_module("binder_link")


def tracked_files(paths: tuple[str, ...]) -> list[str]:
    done = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--", *paths],
                          capture_output=True, text=True, check=True)
    return sorted(f for f in done.stdout.split("\0") if f and (REPO / f).is_file())


def students_pyproject(text: str) -> str:
    """pyproject.toml without the tables for the course's own tooling ([tool.pytest...],
    [tool.ruff], ...): only what builds and installs tcpsim."""
    out, keep = [], True
    for line in text.splitlines():
        header = re.match(r"^\[+([^\]]+)\]+\s*$", line)
        if header:
            name = header[1].strip()
            keep = not name.startswith("tool.") or name.startswith("tool.setuptools")
        if keep:
            out.append(line)
    return "\n".join(out).rstrip() + "\n"


def git(dest: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(dest), *args], check=True, capture_output=True, text=True)


def identity() -> list[str]:
    """The instructor's git identity if they have one, else the course's."""
    args = []
    for key, fallback in (("user.name", "tcpsim course"), ("user.email", "course@example.invalid")):
        done = subprocess.run(["git", "-C", str(REPO), "config", key], capture_output=True, text=True, check=False)
        if not done.stdout.strip():
            args += ["-c", f"{key}={fallback}"]
    return args


def write(dest: Path, remote: str | None = None, branch: str = "main") -> list[str]:
    """Write the students' repository to ``dest``; returns the files it holds."""
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"{dest} exists and is not empty: give a new folder")
    if dest == REPO or REPO in dest.parents:
        raise SystemExit(f"{dest} is inside the course's repository: give a folder outside it")
    dest.mkdir(parents=True, exist_ok=True)
    files = tracked_files(COPIED)
    assert not any(f.split("/")[0] in FORBIDDEN for f in files), "instructors' material copied"
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    (dest / "pyproject.toml").write_text(
        students_pyproject((REPO / "pyproject.toml").read_text(encoding="utf-8")), encoding="utf-8")
    for name in TEMPLATE_FILES:
        shutil.copy2(TEMPLATES / name, dest / name)
    if remote:
        line = binder_link.badge(binder_link.binder_url(remote, branch))
        binder_link.write_badge(dest / "README.md", line)
    git(dest, "init", "-q", "-b", branch)
    git(dest, "add", "-A")
    git(dest, *identity(), "commit", "-q", "-m", "The tcpsim course, students' edition")
    if remote:
        git(dest, "remote", "add", "origin", remote)
    return sorted(files + ["pyproject.toml", *TEMPLATE_FILES])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="a new (or empty) folder for the repository")
    parser.add_argument("--remote", help="the URL it will be published at (adds the Binder badge)")
    parser.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    if args.remote:
        try:
            binder_link.binder_url(args.remote, args.branch)
        except ValueError as exc:
            parser.error(str(exc))
    files = write(args.dest, args.remote, args.branch)
    print(f"{args.dest}: a new git repository, one commit, {len(files)} files "
          f"({', '.join(COPIED)}, pyproject.toml, {', '.join(TEMPLATE_FILES)})")
    print("publish it (git push to a new, empty repository); students run `make course` there "
          "or launch it on Binder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
