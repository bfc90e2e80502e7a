"""A student's view, in a real browser: JupyterLab runs notebook 02 and its widgets react.

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Python playwright; no browser
download) opens ``notebooks/02-three-way-handshake.ipynb`` in a JupyterLab of this
environment, runs all cells (menu Run > Run All Cells) and waits for the kernel to finish.
Then it checks that

* no cell shows an error (a traceback) and no widget failed to display;
* the explorer (``.tcpsim-explorer``) shows its picture (``.tcpsim-picture``, an SVG);
* moving its first slider with the keyboard (arrow key on the handle), and choosing the next
  option of its first dropdown, each give a different picture (other image bytes); the time
  from the key press or the change to the new picture is printed;
* the player's "step ▶" moves its time and redraws its ladder;
* the predict-then-reveal widget shows nothing before Commit, then the feedback and the
  picture, and locks its choices;
* the page logged no JavaScript error (console errors and uncaught exceptions).

JupyterLab serves a temporary copy of ``notebooks/`` with its own settings, workspaces,
config and runtime folders, on a free loopback port with a random token, so the run does
not depend on (or change) anything of the user's. Screenshots (the page after Run All, the
explorer before and after each change, the pictures themselves, and the page on a failure)
go to ``tests/artifacts/browser/<notebook>/`` (gitignored); their paths are printed.

It skips, saying why, without playwright, without ``/usr/bin/chromium`` (``make test``
installs it as root with apt) or while the notebook is not written.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import report

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# A browser that talks to nothing but the loopback server: no updates, sync, first-run UI.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"]
RUN_TIMEOUT_MS = 180_000        # Run All Cells, the whole notebook
PICTURE_TIMEOUT_MS = 30_000     # one control change to its new picture

# JupyterLab's user settings for the run: every cell in the DOM (no virtual scrolling), no
# autosave of the copy, no "get Jupyter news?" toast over the page, no update check.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}

# Console errors known to be harmless here, as (pattern, why). Anything else fails the test.
# None so far: JupyterLab 4.6 with these settings and flags logs no error on this machine.
HARMLESS_CONSOLE_ERRORS: list[tuple[re.Pattern, str]] = []

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is not installed (it is in requirements.txt: `make test` installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab serving a copy of notebooks/: yields (base URL, token)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`make test` installs Debian's chromium "
                    "as root with apt; elsewhere: apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    shutil.copytree(NOTEBOOKS, root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp / "settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ,
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               IPYTHONDIR=str(tmp / "ipython"))
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp / "jupyterlab.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{log_path.read_text()}")
            try:
                req = urllib.request.Request(f"{base}/api/status",
                                             headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in 90 s:\n{log_path.read_text()}")
                time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()                 # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)       # the group we started: the server and its kernels
            proc.wait()
        log.close()


def fail_on_errors(messages: list[str]) -> None:
    assert not messages, "JavaScript errors in the page:\n" + "\n".join(messages)


# In-page helpers. The picture's <img> may be updated in place (new blob URL) or replaced.
JS_PICTURE = """(root) => { const img = root.querySelector('.tcpsim-picture');
    return img ? {src: img.src, ok: img.complete && img.naturalWidth > 0} : null; }"""
JS_PICTURE_BYTES = """async (root) => {
    const img = root.querySelector('.tcpsim-picture');
    const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let s = ''; for (const b of buf) s += String.fromCharCode(b);
    return btoa(s); }"""
# Times (performance.now()) of the key presses and of the first new picture after `old`.
JS_WATCH = """([root, old]) => {
    if (window.__tcpsimWatch) window.__tcpsimWatch.stop();
    const w = {keys: [], picture: null};
    const input = () => w.keys.push(performance.now());
    const seen = () => { const img = root.querySelector('.tcpsim-picture');
        if (w.picture === null && img && img.src && img.src !== old) w.picture = performance.now(); };
    const observer = new MutationObserver(seen);
    observer.observe(root, {subtree: true, childList: true, attributes: true,
                            attributeFilter: ['src']});
    document.addEventListener('keydown', input, true);
    document.addEventListener('change', input, true);
    w.stop = () => { observer.disconnect();
        document.removeEventListener('keydown', input, true);
        document.removeEventListener('change', input, true); };
    window.__tcpsimWatch = w; }"""
JS_ALL_PICTURES = """async (root) => Promise.all([...root.querySelectorAll('.tcpsim-picture')]
    .map(async img => {
        const text = await (await fetch(img.src)).text();
        return {svg: text.startsWith('<svg'), naturalWidth: img.naturalWidth,
                declaredWidth: parseInt(img.style.width)}; }))"""
JS_CELLS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
    code: ((c.querySelector('.cm-content') || {}).textContent || '').trim()}))"""
JS_KERNEL_READY = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const k = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
    const name = panel && panel.querySelector('.jp-Toolbar-kernelName');
    return k && k.dataset.status === 'idle' && name &&
           !['', 'No Kernel'].includes(name.textContent.trim()); }"""
JS_STARTED = """() => [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
JS_DONE = """() => { const k = document.querySelector(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
    return k && k.dataset.status === 'idle' &&
        ![...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]
            .some(p => p.textContent.includes('*')); }"""
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\]|"
                        r"^\w+(Error|Exception)\b", re.M)


def suffix(picture: bytes) -> str:
    return ".png" if picture.startswith(b"\x89PNG") else ".svg"


def picture_bytes(page, root) -> bytes:
    picture = base64.b64decode(page.evaluate(JS_PICTURE_BYTES, root))
    assert picture.startswith(b"\x89PNG") or b"<svg" in picture[:400], \
        "the picture is neither a PNG nor an SVG"
    return picture


def settle(page, root, quiet_s: float = 0.5, limit_s: float = 10) -> None:
    """Wait until the picture has not changed for ``quiet_s`` (a control may redraw twice)."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        src = page.evaluate(JS_PICTURE, root)["src"]
        if src != last:
            last, since = src, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        page.wait_for_timeout(100)


def check_new_picture(page, explorer, root, act, what, name, shots, request, notebook) -> int:
    """Do ``act`` (change a control), wait for a new picture, print the time it took from
    the key press or change event to the new <img> src, and check its bytes changed."""
    settle(page, root)
    before = page.evaluate(JS_PICTURE, root)
    before_png = picture_bytes(page, root)
    explorer.screenshot(path=str(shots / f"{name}-before.png"))
    (shots / f"{name}-picture-before{suffix(before_png)}").write_bytes(before_png)
    page.evaluate(JS_WATCH, [root, before["src"]])
    act()
    page.wait_for_function(
        """([root, old]) => { const img = root.querySelector('.tcpsim-picture');
            return img && img.src !== old && img.complete && img.naturalWidth > 0; }""",
        arg=[root, before["src"]], timeout=PICTURE_TIMEOUT_MS)
    watch = page.evaluate("() => ({keys: window.__tcpsimWatch.keys, "
                          "picture: window.__tcpsimWatch.picture})")
    pressed = [k for k in watch["keys"] if k <= watch["picture"]]
    latency = watch["picture"] - pressed[-1] if pressed else float("nan")
    settle(page, root)
    after_png = picture_bytes(page, root)
    explorer.screenshot(path=str(shots / f"{name}-after.png"))
    (shots / f"{name}-picture-after{suffix(after_png)}").write_bytes(after_png)
    page.screenshot(path=str(shots / f"{name}-page-after.png"))
    report(request, f"{notebook} explorer: {what}: new picture after {latency:.0f} ms "
                    f"(screenshots: {shots}/{name}-*.png)")
    assert after_png != before_png, f"{what}: the picture's bytes did not change"
    return 1


def check_player_steps(page, shots, request, notebook) -> None:
    """The player's "step ▶" moves the time: the slider's readout, the line saying what
    happens, and the ladder picture (its cursor) all change."""
    player = page.locator(".tcpsim-player").first
    player.scroll_into_view_if_needed()
    root = player.element_handle()
    readout = player.locator(".widget-readout").first
    before = (readout.inner_text(), picture_bytes(page, root))
    page.evaluate("(root) => window.__tcpsimOld = root.querySelector('.tcpsim-picture').src", root)
    player.get_by_role("button", name="step \u25b6").click()
    page.wait_for_function("(root) => root.querySelector('.tcpsim-picture').src "
                           "!== window.__tcpsimOld", arg=root, timeout=PICTURE_TIMEOUT_MS)
    after = (readout.inner_text(), picture_bytes(page, root))
    player.screenshot(path=str(shots / "player-after-step.png"))
    report(request, f"{notebook} player: step \u25b6 moved {before[0]} \u2192 {after[0]}")
    assert after[0] != before[0], "the player's time did not move"
    assert after[1] != before[1], "the player's ladder did not change"
    # every picture of the player (ladder, both state graphs, buffers) is an SVG the
    # browser drew, at the size the widget gives it
    pictures = page.evaluate(JS_ALL_PICTURES, root)
    assert len(pictures) >= 4, f"the player shows {len(pictures)} pictures"
    for k, picture in enumerate(pictures):
        assert picture["svg"], f"picture {k} of the player is not an SVG"
        assert picture["naturalWidth"] > 0, f"picture {k} of the player was not drawn"
        assert picture["naturalWidth"] == picture["declaredWidth"], picture


def check_predict_reveals_after_commit(page, shots, request, notebook) -> None:
    """Predict-then-reveal: nothing is shown before Commit; after it, the feedback and the
    picture appear and the choices are locked."""
    predict = page.locator(".tcpsim-predict").first
    predict.scroll_into_view_if_needed()
    assert predict.locator(".tcpsim-feedback").count() == 0, "feedback before Commit"
    assert predict.locator("img").count() == 0, "the answer's picture before Commit"
    predict.locator("input[type=radio]").first.check()
    predict.get_by_role("button", name="Commit").click()
    predict.locator(".tcpsim-feedback").wait_for(timeout=PICTURE_TIMEOUT_MS)
    predict.locator("img").first.wait_for(timeout=PICTURE_TIMEOUT_MS)
    predict.screenshot(path=str(shots / "predict-after-commit.png"))
    radios = predict.locator("input[type=radio]")
    assert all(radios.nth(k).is_disabled() for k in range(radios.count())), \
        "the choices can still be changed after Commit"
    report(request, f"{notebook} predict: Commit showed the feedback "
                    f"({predict.locator('.tcpsim-feedback').inner_text()[:40]!r}...) and the picture")


# Every notebook's Run All in JupyterLab takes about 30 s. The front end (the explorer, the
# player and predict widgets, their SVG) is the same code in every notebook, and notebook 02
# uses all of it, so `make test` opens 02 only; every notebook's content runs anyway in
# tests/test_notebooks.py and test_release.py. A new notebook's author runs them all, and
# looks at the screenshots in tests/artifacts/browser/: TCPSIM_BROWSER_NOTEBOOKS=all.
BROWSER_NOTEBOOKS = ["02-three-way-handshake.ipynb"]
if os.environ.get("TCPSIM_BROWSER_NOTEBOOKS") == "all":
    BROWSER_NOTEBOOKS = sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("notebook", BROWSER_NOTEBOOKS)
def test_explorer_reacts_in_jupyterlab(lab, notebook, request):
    if not (NOTEBOOKS / notebook).exists():
        pytest.skip(f"notebooks/{notebook} is not written yet")
    base, token = lab
    shots = ARTIFACTS / Path(notebook).stem
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    errors: list[str] = []

    def on_console(msg):
        if msg.type != "error":
            return
        where = msg.location.get("url", "") if msg.location else ""
        text = f"{msg.text} ({where})" if where else msg.text
        if not any(rx.search(text) for rx, _ in HARMLESS_CONSOLE_ERRORS):
            errors.append(f"console.error: {text}")

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", on_console)
            page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            page.goto(f"{base}/lab/workspaces/tcpsim-test/tree/notebooks/{notebook}"
                      f"?reset&token={token}")
            # the notebook is open and its kernel has started (before the kernel exists the
            # indicator already says idle, next to "No Kernel")
            page.wait_for_function(JS_KERNEL_READY, timeout=90_000, polling=100)

            start = time.perf_counter()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            page.wait_for_function(JS_STARTED, timeout=30_000)
            page.wait_for_function(JS_DONE, timeout=RUN_TIMEOUT_MS, polling=200)
            report(request, f"{notebook} in JupyterLab: Run All Cells took "
                            f"{time.perf_counter() - start:.1f} s")
            page.screenshot(path=str(shots / "run-all.png"), full_page=True)

            # no error shown, every cell ran (Lab stops a Run All at the first error)
            shown = [t for t in page.locator(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
            ).all_inner_texts() if ERROR_TEXT.search(t)]
            assert not shown, "cells show errors:\n" + "\n\n".join(shown)
            broken = page.get_by_text("Error displaying widget").all_inner_texts()
            assert not broken, f"widgets failed to display: {broken}"
            not_run = [c["code"][:60] for c in page.evaluate(JS_CELLS)
                       if c["code"] and not re.search(r"\[\d+\]", c["prompt"])]
            assert not not_run, f"cells that did not run: {not_run}"
            fail_on_errors(errors)

            # the explorer and its picture
            explorer = page.locator(".tcpsim-explorer").first
            explorer.wait_for(state="visible", timeout=PICTURE_TIMEOUT_MS)
            explorer.scroll_into_view_if_needed()
            root = explorer.element_handle()
            page.wait_for_function(f"(root) => ({JS_PICTURE})(root)?.ok", arg=root,
                                   timeout=PICTURE_TIMEOUT_MS)
            page.screenshot(path=str(shots / "page-before.png"))

            # move its controls: the first slider by keyboard, then the first dropdown
            changed = 0
            handles = explorer.locator(".noUi-handle")
            if handles.count():
                handle = handles.first
                now = float(handle.get_attribute("aria-valuenow"))
                top = float(handle.get_attribute("aria-valuemax"))
                key = "ArrowLeft" if now >= top else "ArrowRight"

                def move_slider():
                    handle.focus()
                    handle.press(key)           # key down, then release
                changed += check_new_picture(page, explorer, root, move_slider,
                                             f"slider {key} (from {now:g})", "slider",
                                             shots, request, notebook)
            selects = explorer.locator("select:not([disabled])")
            if selects.count():
                select = selects.first
                values = select.locator("option").evaluate_all("os => os.map(o => o.value)")
                current = select.input_value()
                other = values[(values.index(current) + 1) % len(values)]
                changed += check_new_picture(page, explorer, root,
                                             lambda: select.select_option(other),
                                             f"dropdown {current!r} -> {other!r}", "dropdown",
                                             shots, request, notebook)
            assert changed, "the explorer has no slider and no dropdown to move"
            fail_on_errors(errors)

            check_player_steps(page, shots, request, notebook)
            check_predict_reveals_after_commit(page, shots, request, notebook)
            fail_on_errors(errors)
        except BaseException:
            if page is not None:                # what the page showed when it went wrong
                page.screenshot(path=str(shots / "failure.png"), full_page=True)
                report(request, f"{notebook}: failed; the page is in {shots / 'failure.png'}")
            raise
        finally:
            browser.close()


# ------------------------------------------------ the SVG pictures beside the static PNGs
def ink(picture, dilate=0):
    """Where a picture (RGBA array) has ink (darker than light grey), grown by ``dilate``
    pixels in every direction."""
    grey = picture[..., :3].astype(float).mean(axis=2)
    mask = grey < 170
    for _ in range(dilate):
        grown = mask.copy()
        grown[1:] |= mask[:-1]
        grown[:-1] |= mask[1:]
        grown[:, 1:] |= mask[:, :-1]
        grown[:, :-1] |= mask[:, 1:]
        mask = grown
    return mask


def unmatched_ink(a, b, reach=2) -> float:
    """The share of the ink of either picture that has no ink of the other within ``reach``
    pixels: 0 for the same drawing, however its edges are smoothed."""
    ink_a, ink_b = ink(a), ink(b)
    missing = (ink_a & ~ink(b, reach)).sum() + (ink_b & ~ink(a, reach)).sum()
    return missing / max(1, ink_a.sum() + ink_b.sum())


def static_and_interactive_pictures():
    """(name, Matplotlib PNG, the SVG the widgets show) of each kind of picture: ladders of
    the course's captures (notebook 02's explorer scenario among them), the player's
    compact state graphs at 80 dpi, and its buffers."""
    import tcpsim
    from tcpsim.plots.ladder import ladder_svg
    from tcpsim.widgets._pictures import figure_png
    from tcpsim.widgets.views import BufferPictures, StateGraphPictures
    captures = REPO / "data" / "captures"
    notebook_02 = {"name": "a handshake, then 100 bytes at 4 s",
                   "hosts": {"client": {"port": 40001}, "server": {"port": 5201}},
                   "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                               {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                               {"at": 4.0, "host": "client", "do": "send", "bytes": 100}]}
    traces = {"notebook-02-explorer": tcpsim.run(notebook_02)}
    for name in ("syn-loss", "data-loss-middle", "server-closes-first"):
        traces[name] = tcpsim.run(json.loads((captures / f"{name}.json").read_text()))
    out = []
    for name, trace in traces.items():
        out.append((f"ladder-{name}", figure_png(tcpsim.plots.ladder(trace)),
                    ladder_svg(trace).encode()))
    trace = traces["data-loss-middle"]
    t = trace.doc["segments"][8]["t"]            # during the recovery
    for host in ("client", "server"):
        pictures = StateGraphPictures(trace, host)
        out.append((f"states-{host}", pictures.png_at(t), pictures.svg_at(t)))
    buffers = BufferPictures(trace)
    out.append(("buffers", buffers.png_at(t), buffers.svg_at(t)))
    return out


def test_svg_pictures_look_like_the_static_ones(request):
    """Chromium shows each SVG picture as the widgets do (an <img>, one pixel per pixel: the
    size a student sees at 100 % zoom); it has the static PNG's size and the same ink in
    the same places (within 2 pixels). Side-by-side PNGs go to the artifacts folder."""
    import io

    import numpy as np
    from PIL import Image
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    shots = ARTIFACTS / "svg-vs-png"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    pictures = static_and_interactive_pictures()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800},
                                    device_scale_factor=1)
            shown = {}
            for name, _, svg in pictures:
                src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
                page.set_content(f"<body style='margin:0;background:white'>"
                                 f"<img id='p' src='{src}'></body>")
                page.wait_for_function("document.getElementById('p').complete")
                shown[name] = page.locator("#p").screenshot()
        finally:
            browser.close()
    differences = {}
    for name, png, _ in pictures:
        static = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        browser_view = np.asarray(Image.open(io.BytesIO(shown[name])).convert("RGBA"))
        side = Image.new("RGB", (static.shape[1] * 2 + 10, static.shape[0]), "grey")
        side.paste(Image.fromarray(static).convert("RGB"), (0, 0))
        side.paste(Image.fromarray(browser_view).convert("RGB"), (static.shape[1] + 10, 0))
        side.save(shots / f"{name}.png")
        assert browser_view.shape == static.shape, f"{name}: not the static picture's size"
        differences[name] = unmatched_ink(static, browser_view)
    report(request, "SVG in Chromium vs Matplotlib's PNG, ink without a match within 2 px: "
           + ", ".join(f"{name} {share:.1%}" for name, share in differences.items())
           + f" (side by side: {shots})")
    worst = max(differences, key=differences.get)
    assert differences[worst] < 0.04, f"{worst}: {differences[worst]:.1%} of the ink differs"
    # and the measure tells different pictures apart: two different ladders
    a = np.asarray(Image.open(io.BytesIO(pictures[1][1])).convert("RGBA"))
    b = np.asarray(Image.open(io.BytesIO(shown[pictures[2][0]])).convert("RGBA"))
    rows, cols = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    assert unmatched_ink(a[:rows, :cols], b[:rows, :cols]) > 0.2


# ------------------------------------------- notebook 01: the segment builder and decoder
JS_HEADER_HTML = """(root) => { const t = root.querySelector('.tcpsim-header');
    return t ? t.innerHTML : null; }"""
JS_LIT_FLAGS = """(root) => [...root.querySelectorAll('.tcpsim-header td[title]')]
    .filter(td => td.style.background.includes('rgb(0, 114, 178)')).map(td => td.title)"""


def test_segment_widgets_react_in_jupyterlab(lab, request):
    """Notebook 01 in JupyterLab: Run All shows no error; ticking ACK in the segment builder
    lights the ACK bit of its header (SYN stays lit); the decoder's frame slider moves to
    the next real segment. Screenshots of both widgets go to tests/artifacts/browser/."""
    notebook = "01-segments-and-flags.ipynb"
    base, token = lab
    shots = ARTIFACTS / Path(notebook).stem
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            page.goto(f"{base}/lab/workspaces/tcpsim-test-01/tree/notebooks/{notebook}"
                      f"?reset&token={token}")
            page.wait_for_function(JS_KERNEL_READY, timeout=90_000, polling=100)
            start = time.perf_counter()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            page.wait_for_function(JS_STARTED, timeout=30_000)
            page.wait_for_function(JS_DONE, timeout=RUN_TIMEOUT_MS, polling=200)
            report(request, f"{notebook} in JupyterLab: Run All Cells took "
                            f"{time.perf_counter() - start:.1f} s")
            page.screenshot(path=str(shots / "run-all.png"), full_page=True)
            shown = [t for t in page.locator(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
            ).all_inner_texts() if ERROR_TEXT.search(t)]
            assert not shown, "cells show errors:\n" + "\n\n".join(shown)
            assert not page.get_by_text("Error displaying widget").all_inner_texts()
            fail_on_errors(errors)

            builder = page.locator(".tcpsim-segment-builder").first
            builder.scroll_into_view_if_needed()
            root = builder.element_handle()
            assert page.evaluate(JS_LIT_FLAGS, root) == ["SYN"]
            builder.screenshot(path=str(shots / "builder-syn.png"))
            builder.get_by_role("checkbox", name="ACK", exact=True).check()
            page.wait_for_function(f"(root) => ({JS_LIT_FLAGS})(root).length == 2", arg=root,
                                   timeout=PICTURE_TIMEOUT_MS)
            assert page.evaluate(JS_LIT_FLAGS, root) == ["ACK", "SYN"]
            builder.screenshot(path=str(shots / "builder-synack.png"))

            decoder = page.locator(".tcpsim-segment-decoder").first
            decoder.scroll_into_view_if_needed()
            droot = decoder.element_handle()
            before = page.evaluate(JS_HEADER_HTML, droot)
            decoder.screenshot(path=str(shots / "decoder-frame1.png"))
            handle = decoder.locator(".noUi-handle").first
            handle.focus()
            handle.press("ArrowRight")
            page.wait_for_function(f"([root, old]) => ({JS_HEADER_HTML})(root) !== old",
                                   arg=[droot, before], timeout=PICTURE_TIMEOUT_MS)
            assert "handshake.pcap frame 2" in page.evaluate(JS_HEADER_HTML, droot)
            decoder.screenshot(path=str(shots / "decoder-frame2.png"))
            report(request, f"{notebook}: screenshots in {shots}")
            fail_on_errors(errors)
        except BaseException:
            if page is not None:
                page.screenshot(path=str(shots / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()
