"""A newcomer's first screen: ``make course`` opens JupyterLab on 00-start-here, with no pop-up.

The test runs the README's own command, ``make course`` (with ``LAB_ARGS`` adding
``--no-browser``, a free loopback port and a random token), as whoever runs the tests: as
root in CI, which is how it proves that ``make course`` starts as root. Then

* the server's front page redirects to ``/lab/tree/notebooks/00-start-here.ipynb``, and the
  file browser's root is the top of the repository (as on Binder);
* the settings that JupyterLab serves carry the course's overrides (``overrides.json`` in
  the venv): no "Would you like to get notified about official Jupyter news?" prompt, no
  update check;
* in headless Chromium (skipped without it or playwright) the page opens with
  ``00-start-here.ipynb`` as its active tab, and after the kernel is up no notification
  toast and no dialog is shown. The screenshot is ``tests/artifacts/first-run/start.png``.

Everything of the user's is kept out: JupyterLab gets its own settings, workspaces, config,
data and runtime folders.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts" / "first-run"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"]
START = "/lab/tree/notebooks/00-start-here.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str, follow: bool = True):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(*([] if follow else [NoRedirect]))
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with opener.open(req, timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:        # a 302 when not following
        return exc.code, exc.headers, b""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """``make course`` running: yields (base URL, token)."""
    tmp = tmp_path_factory.mktemp("first-run")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ,
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), IPYTHONDIR=str(tmp / "ipython"))
    lab_args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
                f"--ServerApp.port_retries=0 --IdentityProvider.token={token}")
    log_path = tmp / "make-course.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed after the server stops)
    proc = subprocess.Popen(["make", "course", f"LAB_ARGS={lab_args}"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300        # make may (re)install .venv first
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make course exited ({proc.returncode}):\n{log_path.read_text()}")
            try:
                get(f"{base}/api/status", token)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"make course did not serve in 300 s:\n{log_path.read_text()}")
                time.sleep(0.3)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)     # make and the server it started (our group)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_opens_on_start_here_from_the_top_of_the_repository(course):
    base, token = course
    status, headers, _ = get(f"{base}/", token, follow=False)
    assert status in (301, 302) and headers["Location"].split("?")[0].endswith(START), \
        (status, headers.get("Location"))
    _, _, body = get(f"{base}/api/contents/notebooks/00-start-here.ipynb?content=0", token)
    assert json.loads(body)["type"] == "notebook"
    _, _, body = get(f"{base}/api/contents/?content=1", token)
    assert {"notebooks", "tcpsim", "docs"} <= {e["name"] for e in json.loads(body)["content"]}


def test_settings_say_no_news_and_no_update_check(course):
    base, token = course
    _, _, body = get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification", token)
    props = json.loads(body)["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false", "the news prompt would show"
    assert props["checkForUpdates"]["default"] is False


def test_first_screen_in_a_browser(course):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`make test` installs it as root)")
    base, token = course
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "start.png"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/?token={token}")
            tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
            tab.filter(has_text="00-start-here.ipynb").wait_for(timeout=90_000)
            page.wait_for_function(
                """() => { const k = document.querySelector(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-kernelName');
                  return k && !['', 'No Kernel'].includes(k.textContent.trim()); }""",
                timeout=90_000)
            page.wait_for_timeout(3000)          # the news prompt came a moment after load
            page.screenshot(path=str(shot))
            toasts = page.locator(".Toastify__toast").all_inner_texts()
            dialogs = page.locator(".jp-Dialog").all_inner_texts()
        finally:
            browser.close()
    assert not toasts, f"notifications on the first screen ({shot}): {toasts}"
    assert not dialogs, f"a dialog on the first screen ({shot}): {dialogs}"
    assert page.url.split("?")[0].endswith(START)
