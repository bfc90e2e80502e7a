"""Binder: repo2docker accepts binder/, builds the students' edition, and leaves the
solutions out; and the README's Launch-on-Binder badge (tools/binder_link.py).

* ``repo2docker --no-build --no-run`` (jupyter-repo2docker, pinned in requirements.txt; no
  Docker needed) reads the repository as mybinder.org would and prints the Dockerfile it
  would build: the test checks it picked the Python of ``binder/runtime.txt`` (not "Python
  version unspecified"), installs ``binder/requirements.txt`` before copying the repository
  (so the packages' layer is cached across commits), and runs ``binder/postBuild``.
* the build context: repo2docker's own build pack, called with a stand-in for Docker that
  keeps the tar it is handed, shows which files would enter the image: ``.git``,
  ``instructors/`` and ``tests/`` must not (``binder/.dockerignore``), ``notebooks/`` must.
* ``binder/postBuild`` runs (bash, a copy of the repository, ``pip`` and ``python`` stood in
  for) and installs tcpsim, puts JupyterLab's overrides.json in the environment, and
  removes what students must not browse; it calls no nbgrader.
* ``tools/binder_link.py`` with fake remotes (this repository has none yet).
"""
from __future__ import annotations

import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from test_pythons import readme_pythons

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
sys.path.insert(0, str(REPO / "tools"))
binder_link = importlib.import_module("binder_link")

repo2docker_app = pytest.importorskip(
    "repo2docker.app", reason="jupyter-repo2docker is not installed (requirements.txt has it)")


def runtime_python() -> str:
    text = (BINDER / "runtime.txt").read_text().strip()
    found = re.fullmatch(r"python-(3\.\d+)", text)
    assert found, f"binder/runtime.txt is {text!r}, not python-3.X"
    return found[1]


# ------------------------------------------------------------------------- repo2docker
@pytest.fixture(scope="module")
def dockerfile() -> tuple[str, str]:
    """(Dockerfile, log) of ``repo2docker --no-build --no-run`` on this repository."""
    exe = Path(sys.executable).parent / "repo2docker"
    done = subprocess.run([str(exe), "--no-build", "--no-run", str(REPO)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    assert done.returncode == 0, f"repo2docker refused the repository:\n{done.stdout}\n{done.stderr}"
    return done.stdout, done.stderr


def test_repo2docker_supports_the_runtime_python():
    from repo2docker.buildpacks.conda.supported_python_version import (
        SUPPORTED_PYTHON_VERSION,
    )
    version = runtime_python()
    assert version in SUPPORTED_PYTHON_VERSION, (version, SUPPORTED_PYTHON_VERSION)
    assert version in readme_pythons(), f"Binder's Python {version} is not one the README names"


def test_repo2docker_accepts_the_configuration(dockerfile):
    text, log = dockerfile
    version = runtime_python()
    assert "Python version unspecified" not in log + text, log
    assert f"Building conda environment for python={version}" in log + text, \
        f"repo2docker did not pick Python {version}:\n{log}"
    copy_reqs = text.index('COPY --chown=0:0 src/binder/requirements.txt')
    install = text.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    copy_all = text.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    assert copy_reqs < install < copy_all, "the pins are not installed before the repository is copied"
    assert "RUN ./binder/postBuild" in text
    assert "nbgrader" not in text


def build_context() -> list[str]:
    """The repository's files repo2docker would put in the image (its tar's ``src/``)."""
    class KeepTheTar:                      # stands in for the Docker client
        def build(self, fileobj, **kwargs):
            with tarfile.open(fileobj=io.BytesIO(fileobj.getvalue())) as tar:
                self.names = tar.getnames()
            return iter(())

    app = repo2docker_app.Repo2Docker()
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        bp = next(BP(base_image=app.base_image) for BP in app.buildpacks
                  if BP(base_image=app.base_image).detect())
        bp.platform = "linux/amd64"
        client = KeepTheTar()
        list(bp.build(client, "tcpsim-test", 0, {"NB_USER": "jovyan", "NB_UID": "1000"}, [], {}))
    finally:
        os.chdir(cwd)
    return sorted(n[len("src/"):] for n in client.names if n.startswith("src/"))


def test_binder_image_leaves_out_history_solutions_and_tests():
    names = build_context()
    tops = {n.split("/")[0] for n in names}
    for hidden in (".git", "instructors", "tests", "tools", "benchmarks", ".ci"):
        assert hidden not in tops, f"{hidden} would be in the Binder image"
    for shown in ("notebooks", "tcpsim", "data", "binder", "pyproject.toml", "README.md"):
        assert shown in tops, f"{shown} would be missing from the Binder image"
    assert "notebooks/00-start-here.ipynb" in names
    assert not any("BEGIN SOLUTION" in (REPO / n).read_text(errors="replace")
                   for n in names if n.startswith("notebooks/") and (REPO / n).is_file())


# ------------------------------------------------------------------------- binder/ files
def test_binder_pins_are_the_courses_and_install_alone():
    """binder/requirements.txt holds the students' pins itself (no -r or -e, so repo2docker
    can install it before copying the repository), and requirements.txt includes it."""
    lines = [ln.split("#")[0].strip() for ln in (BINDER / "requirements.txt").read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    assert lines and not any(ln.startswith(("-", ".")) for ln in lines), lines
    assert all("==" in ln for ln in lines), "every Binder package is pinned"
    top = (REPO / "requirements.txt").read_text().splitlines()
    assert "-r binder/requirements.txt" in top
    for tool in ("pytest", "playwright", "nbgrader", "jupyter-repo2docker"):
        assert not any(ln.startswith(tool) for ln in lines), f"Binder installs {tool}"


def test_overrides_silence_the_news_prompt():
    settings = json.loads((BINDER / "overrides.json").read_text())
    notification = settings["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}


def test_postbuild_installs_tcpsim_and_the_settings_and_removes_the_rest(tmp_path):
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK), "binder/postBuild must be executable"
    assert "nbgrader" not in script.read_text()
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True,
                           text=True, check=True).stdout.split("\0")
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, repo / rel)
    (repo / ".git").mkdir()                      # what an old repo2docker would copy
    prefix, stubs = tmp_path / "prefix", tmp_path / "bin"
    stubs.mkdir()
    (stubs / "pip").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/pip.log\n')
    (stubs / "python").write_text(f"#!/bin/sh\necho {prefix}\n")   # prints sys.prefix
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    done = subprocess.run(["bash", str(repo / "binder" / "postBuild")], cwd=repo,
                          env=dict(os.environ, PATH=f"{stubs}{os.pathsep}{os.environ['PATH']}"),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "pip.log").read_text().split("\n")[0] == "install --no-deps -e ."
    installed = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.read_text() == (BINDER / "overrides.json").read_text()
    for gone in (".git", "instructors", "tests", "tools", "benchmarks", ".ci"):
        assert not (repo / gone).exists(), f"postBuild left {gone}"
    assert (repo / "notebooks" / "00-start-here.ipynb").is_file()


# ------------------------------------------------------------------------- the badge
def fake_clone(tmp_path: Path, remote: str | None) -> Path:
    clone = tmp_path / "clone"
    clone.mkdir()
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(clone), "remote", "add", "origin", remote], check=True)
    shutil.copy2(REPO / "README.md", clone / "README.md")
    return clone


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "tools" / "binder_link.py"), *args],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("remote", ["https://github.com/example-org/tcp-course.git",
                                    "git@github.com:example-org/tcp-course.git",
                                    "ssh://git@github.com/example-org/tcp-course"])
def test_badge_from_a_github_remote(tmp_path, remote):
    clone = fake_clone(tmp_path, remote)
    done = run_tool("--readme", str(clone / "README.md"), "--write")
    assert done.returncode == 0, done.stderr
    url = ("https://mybinder.org/v2/gh/example-org/tcp-course/main"
           "?urlpath=lab/tree/notebooks/00-start-here.ipynb")
    line = f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({url})"
    assert done.stdout.splitlines()[0] == line
    readme = (clone / "README.md").read_text().split("\n")
    assert readme[readme.index(binder_link.MARKER) + 1] == line
    assert sum("mybinder.org/v2/" in ln for ln in readme) == 1
    again = run_tool("--readme", str(clone / "README.md"), "--write")     # idempotent
    assert "already up to date" in again.stdout
    assert (clone / "README.md").read_text().split("\n") == readme


def test_badge_for_other_hosts_and_branches():
    assert binder_link.binder_url("https://gitlab.com/grp/sub/tcp.git", "fall-2027") == (
        "https://mybinder.org/v2/gl/grp%2Fsub%2Ftcp/fall-2027"
        "?urlpath=lab/tree/notebooks/00-start-here.ipynb")
    assert binder_link.binder_url("https://git.example.edu/tcp.git").startswith(
        "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.edu%2Ftcp.git/main?")
    for bad in ("/home/me/course", "../course", "file:///srv/course.git",
                "https://github.com/only-owner"):
        with pytest.raises(ValueError, match="repository"):
            binder_link.binder_url(bad)


def test_no_remote_no_link(tmp_path):
    clone = fake_clone(tmp_path, None)
    before = (clone / "README.md").read_text()
    done = run_tool("--readme", str(clone / "README.md"), "--write")
    assert done.returncode == 1 and "no git remote" in done.stderr
    assert (clone / "README.md").read_text() == before


def test_readme_badge_matches_this_repositorys_remote():
    """No link to a repository that does not exist: while this repository has no public
    remote (none, or a local path as in CI's clone) the README has no mybinder link; with
    one, its badge line is exactly what the tool makes from it."""
    readme = (REPO / "README.md").read_text().split("\n")
    assert binder_link.MARKER in readme, "README.md lost its <!-- binder-badge --> line"
    line = readme[readme.index(binder_link.MARKER) + 1]
    remote = binder_link.git_remote(REPO)
    try:
        url = binder_link.binder_url(remote) if remote else None
    except ValueError:                  # a local path or another URL Binder cannot build
        url = None
    if url is None:
        assert not any("mybinder.org/v2/" in ln for ln in readme), \
            f"README.md links to Binder, but this repository has no public remote ({remote!r})"
    else:
        assert line == binder_link.badge(url), \
            "README.md's badge is not the remote's: run python3 tools/binder_link.py --write"
