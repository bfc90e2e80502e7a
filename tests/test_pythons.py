"""Every Python the README names installs the course's pins.

The README's set-up line names the supported Pythons as a range ("Python 3.10 to 3.13");
this test reads it from there, so the README cannot name a version nobody tested. For each
version it finds that interpreter on this machine (``python3.X`` on PATH, or pyenv's
``~/.pyenv/versions/3.X.*``) and has that interpreter's own pip select every pin of
``requirements.txt`` (what ``make course`` installs) with ``pip install --dry-run --no-deps
--ignore-installed --report``: pip must find a distribution of each pin that installs on
that Python (its wheel tags and its Requires-Python, which is how ``networkx==3.6.1`` failed
on 3.10), and pick exactly the version that the file's markers give for it.

Two versions are really installed, with every dependency, so the dry run skips them: the
oldest, by ``tests/test_student_repo.py`` (it installs the students' repository with it,
``make course``'s install step, and executes every notebook there), and the one running
this suite, whose ``.venv`` ``make test`` installed from the same file. A full dependency
resolution for every version (the same command without ``--no-deps``) passed by hand on
2026-12-03, but takes about 30 s per Python here: too slow for every ``make test`` for what
it adds.

It needs PyPI (or pip's cache). An interpreter missing on the machine skips, except in CI,
where it fails: CI's machine has them all (pyenv), and the README must name only what CI
checks.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def readme_pythons() -> list[str]:
    """The Python versions the README names, oldest first: ['3.10', '3.11', ...]."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"Python (3)\.(\d+) to 3\.(\d+)", text)
    assert found, "README.md names no range of Pythons ('Python 3.10 to 3.13')"
    return [f"3.{m}" for m in range(int(found[2]), int(found[3]) + 1)]


def find_python(version: str) -> Path | None:
    """An interpreter of ``version`` (major.minor) on this machine, or None."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"),
                         reverse=True)
    for exe in filter(None, candidates):
        done = subprocess.run([str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() == version:
            return Path(exe)
    return None


def python_or_skip(version: str) -> Path:
    exe = find_python(version)
    if exe is None:
        why = f"no Python {version} on this machine (python{version} or ~/.pyenv/versions)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: the README names it, so CI must check it")
        pytest.skip(why)
    return exe


def pins(path: Path, version: str) -> dict[str, str]:
    """{name: version} of the ``==`` pins of a requirements file (following ``-r``) whose
    markers hold on Python ``version``."""
    env = dict(default_environment(), python_version=version,
               python_full_version=f"{version}.0")
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            out.update(pins(path.parent / line[2:].strip(), version))
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line!r} is not pinned with =="
            out[req.name.lower()] = spec.version
    return out


def dry_run(exe: Path, tmp: Path) -> subprocess.CompletedProcess:
    report = tmp / f"report-{exe.name}.json"
    done = subprocess.run([str(exe), "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                           "--quiet", "--disable-pip-version-check", "--report", str(report),
                           "-r", str(REPO / "requirements.txt")],
                          capture_output=True, text=True, timeout=300, check=False)
    done.report = report
    return done


def test_readme_names_a_range_of_pythons():
    versions = readme_pythons()
    assert versions[0] == "3.10" and len(versions) >= 2, versions


def test_every_readme_python_resolves_the_pins(tmp_path):
    versions = readme_pythons()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running in versions, f"the suite runs on Python {running}, which the README does not name"
    installed = {versions[0], running}          # really installed elsewhere
    exes = {v: python_or_skip(v) for v in versions if v not in installed}
    if not exes:
        pytest.skip("every Python the README names is installed by another test")
    with ThreadPoolExecutor(max_workers=len(exes)) as pool:      # mostly waiting on PyPI
        runs = dict(zip(exes, pool.map(lambda e: dry_run(e, tmp_path), exes.values())))
    problems = []
    for version, done in runs.items():
        errors = "\n".join(ln for ln in done.stderr.splitlines() if "is ignored" not in ln)
        if done.returncode != 0:
            problems.append(f"Python {version} ({exes[version]}): pip cannot install "
                            f"requirements.txt:\n{errors}")
            continue
        chosen = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
                  for item in json.loads(done.report.read_text())["install"]}
        for name, want in pins(REPO / "requirements.txt", version).items():
            got = chosen.get(name.replace("_", "-"))
            if got != want:
                problems.append(f"Python {version}: {name} resolves to {got}, pinned {want}")
    assert not problems, "\n".join(problems)


def test_pins_follow_the_markers():
    """The markers give each supported Python exactly one pin per package (none missing on
    the oldest, none doubled)."""
    for version in readme_pythons():
        lines = [ln for ln in (REPO / "binder" / "requirements.txt").read_text().splitlines()
                 if ln.strip() and not ln.startswith("#")]
        names = [Requirement(ln).name for ln in lines]
        assert set(pins(REPO / "binder" / "requirements.txt", version)) == \
            {n.lower() for n in names}, version
