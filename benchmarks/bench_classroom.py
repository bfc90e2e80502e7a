"""A class on a real JupyterHub, on this machine: N students run notebook 02 at once.

    make classroom                                     # 1, 5, 10 and 20 students
    make classroom STUDENTS=1,2                        # a short try
    .venv-classroom/bin/python benchmarks/bench_classroom.py [--students 1,5,10,20]
        [--notebook PATH] [--collect DIR]

It runs by hand (minutes; too long for CI) in its own environment, ``.venv-classroom``
(benchmarks/requirements-classroom.txt: the course's pins plus JupyterHub; ``make
classroom`` also puts configurable-http-proxy from npm into it). Never the students'.

What it does: it starts JupyterHub on 127.0.0.1 (a free port) with the dummy authenticator
(any name, one shared password) and the simple local process spawner (each student's
Jupyter server a process of this machine, home in a temporary folder holding a copy of
``notebooks/``). The hub's configuration is written by ``hub_config()`` below; a hub
service, ``classroom``, holds the API token this script uses. Then, for each class size N,
one round:

1. N students log in through the hub's login form, at once (``POST /hub/login``);
2. each one's server is started through the hub's REST API, and waited for;
3. each student opens notebook 02 as JupyterLab does: reads it (contents API) and starts a
   session, i.e. a kernel (sessions API);
4. each student's "Run All": every code cell sent at once over the kernel's websocket, as
   JupyterLab sends them, and the replies read until the last cell is done;
5. measured: time to first result (Run All to the first picture or table), time until the
   last cell is done, errors, and for each student the memory of their server and of their
   kernel (resident now, and the kernel's peak, VmHWM), plus the hub's and proxy's;
6. the servers are stopped before the next round; with ``--cull-after S``, the last
   round's are left idle instead, for jupyterhub-idle-culler (a hub-managed service,
   ``--timeout=S``) to stop: the time it takes is printed.

The degradation from 1 to N students is each figure at N over the same figure at 1.
With ``--collect DIR``, the last round's notebooks are also saved by the students
(contents API) and collected by the hub-side service into nbgrader's layout,
``DIR/submitted/<student>/<assignment>/<notebook>``: how a hub class hands work in without
nbgrader in the students' environment (docs/teaching-at-scale.md).

At the end it shuts the hub down (servers and proxy with it) and ends any process it
started that is still there, by its id: nothing is left running. Other programs share this
machine's cores: the load average is printed with each round.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect
sys.path.insert(0, str(Path(__file__).resolve().parent))  # calibration.py, as a script too
from calibration import calibration_s  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "classroom"                  # the dummy authenticator's one password
SERVICE = "classroom"
START_TIMEOUT_S = 300                   # a server's start, on a loaded machine
RUN_TIMEOUT_S = 900                     # one student's Run All
MIB = 2 ** 20
LOG = REPO / "out" / "classroom" / "jupyterhub.log"     # the last run's hub log (kept)


def default_notebook() -> Path:
    """Notebook 02 with its solutions (every cell runs): the instructors' source if the
    course keeps it apart (instructors/source/), else notebooks/."""
    for pattern in ("instructors/source/**/02-*.ipynb", "notebooks/02-*.ipynb"):
        found = sorted(REPO.glob(pattern))
        if found:
            return found[0]
    raise SystemExit("no notebook 02 found in instructors/source/ or notebooks/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proxy_command() -> str:
    """configurable-http-proxy: from the classroom venv's node_modules, else PATH."""
    local = Path(sys.prefix) / "node_modules" / ".bin" / "configurable-http-proxy"
    found = str(local) if local.exists() else shutil.which("configurable-http-proxy")
    if not found:
        raise SystemExit("configurable-http-proxy not found: run `make classroom` (npm)")
    return found


def culler_config(cull_after_s: int) -> str:
    """jupyterhub-idle-culler as a hub-managed service, with the activity reports made
    frequent enough (10 s instead of 5 minutes) for a short test of it."""
    command = [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={cull_after_s}",
               "--cull-every=10"]
    return f'''
c.JupyterHub.last_activity_interval = 10
c.Spawner.environment = {{"JUPYTERHUB_ACTIVITY_INTERVAL": "10"}}
c.JupyterHub.services.append({{"name": "idle-culler", "command": {command!r}}})
c.JupyterHub.load_roles.append({{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}})
'''


def hub_config(workdir: Path, port: int, token: str, cull_after_s=None) -> str:
    """The hub's jupyterhub_config.py: localhost only, dummy authenticator, local
    processes, one admin service for this script (and the idle culler if asked)."""
    singleuser = Path(sys.prefix) / "bin" / "jupyterhub-singleuser"
    culler = culler_config(cull_after_s) if cull_after_s else ""
    return f'''# written by benchmarks/bench_classroom.py
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{proxy_command()!r}]
c.JupyterHub.db_url = "sqlite:///{workdir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{workdir}/cookie_secret"
c.JupyterHub.pid_file = "{workdir}/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{workdir}/home/{{username}}"
c.Spawner.cmd = [{str(singleuser)!r}]
c.Spawner.args = ["--allow-root"]          # this machine runs everything as root
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = {START_TIMEOUT_S}
c.Spawner.http_timeout = {START_TIMEOUT_S}
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.JupyterHub.init_spawners_timeout = 1
c.JupyterHub.services = [{{"name": {SERVICE!r}, "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "classroom-bench",
    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "shutdown"],
    "services": [{SERVICE!r}],
}}]
''' + culler


class Hub:
    """A JupyterHub process on localhost, and what this script asks of its API."""

    def __init__(self, workdir: Path, cull_after_s=None):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        (workdir / "home").mkdir(parents=True, exist_ok=True)
        (workdir / "jupyterhub_config.py").write_text(
            hub_config(workdir, self.port, self.token, cull_after_s))
        LOG.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(LOG, "w")  # noqa: SIM115 (the hub writes to it until stop() closes it)
        self.process = None
        self.http = AsyncHTTPClient(max_clients=64)

    def start(self):
        env = dict(os.environ, PATH=f"{Path(sys.prefix) / 'bin'}:{os.environ.get('PATH', '')}")
        self.process = subprocess.Popen(
            [str(Path(sys.prefix) / "bin" / "jupyterhub"), "-f",
             str(self.workdir / "jupyterhub_config.py")],
            cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)

    async def wait_ready(self, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited ({self.process.returncode}); see "
                                   f"{LOG}")
            try:
                await self.api("GET", "/")
                return
            except (OSError, HTTPClientError):
                await asyncio.sleep(0.5)
        raise RuntimeError("JupyterHub did not answer in time")

    async def api(self, method, path, body=None, token=None, base="/hub/api"):
        """One hub (or, with ``base``, user server) API call: the decoded JSON answer."""
        request = HTTPRequest(
            self.url + base + path, method=method,
            headers={"Authorization": f"token {token or self.token}",
                     "Content-Type": "application/json"},
            body=None if body is None and method in ("GET", "DELETE") else
            json.dumps(body if body is not None else {}),
            allow_nonstandard_methods=True, request_timeout=START_TIMEOUT_S)
        response = await self.http.fetch(request)
        return json.loads(response.body) if response.body else None

    async def login(self, name):
        """The login form, as a browser submits it: the _xsrf cookie, then the POST."""
        first = await self.http.fetch(self.url + "/hub/login", request_timeout=60)
        cookies = [c.split(";", 1)[0] for c in first.headers.get_list("Set-Cookie")]
        xsrf = next(c.split("=", 1)[1] for c in cookies if c.startswith("_xsrf="))
        response = await self.http.fetch(
            self.url + "/hub/login", method="POST", follow_redirects=False, raise_error=False,
            headers={"Cookie": "; ".join(cookies)}, request_timeout=120,
            body=urlencode({"username": name, "password": PASSWORD, "_xsrf": xsrf}))
        if response.code != 302:
            raise RuntimeError(f"login of {name} answered {response.code}")

    async def start_server(self, name):
        await self.api("POST", f"/users/{name}/server")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            user = await self.api("GET", f"/users/{name}")
            server = user.get("servers", {}).get("", {})
            if server.get("ready"):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{name}'s server did not start in {START_TIMEOUT_S} s")

    async def stop_server(self, name):
        await self.api("DELETE", f"/users/{name}/server")
        for _ in range(240):
            user = await self.api("GET", f"/users/{name}")
            if not user.get("servers"):
                return
            await asyncio.sleep(0.5)

    def processes(self) -> dict:
        """{student: [their server and kernel processes]}, and "_hub" for the hub, proxy and services."""
        out = {"_hub": []}
        try:
            hub = psutil.Process(self.process.pid)
            everything = [hub] + hub.children(recursive=True)
        except psutil.NoSuchProcess:
            return out
        for p in everything:
            try:
                user = p.environ().get("JUPYTERHUB_USER")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            out.setdefault(user or "_hub", []).append(p)
        return out

    def stop(self):
        """Shut the hub down (its servers and proxy too) and end what is left, by id."""
        left = []
        if self.process is not None and self.process.poll() is None:
            try:
                left = psutil.Process(self.process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
            self.process.send_signal(signal.SIGTERM)      # the hub stops servers and proxy
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for p in left:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(left, timeout=15)
        for p in alive:
            p.kill()
        self.log.close()
        return len(alive)


def decode(raw):
    """A kernel message from the websocket: JSON text, or (messages with buffers, such as
    the widgets' pictures) jupyter_server's binary frame: the count of parts, their
    offsets (4-byte big-endian each), then the JSON message and the buffers."""
    if isinstance(raw, str):
        return json.loads(raw)
    parts = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(parts)]
    end = offsets[1] if parts > 1 else len(raw)
    return json.loads(raw[offsets[0]:end].decode("utf-8"))


def kernel_message(msg_type, content, session):
    return {"header": {"msg_id": uuid.uuid4().hex, "username": "student", "session": session,
                       "msg_type": msg_type, "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
            "buffers": []}


async def run_all(hub, name, token, path, cells):
    """Open ``path`` as JupyterLab does, then Run All over the kernel's websocket.

    Returns the student's figures: open_s (contents + session, i.e. kernel start),
    first_result_s (Run All to the first output), run_all_s (to the last cell's reply),
    errors (cells that raised)."""
    base = f"/user/{name}/api"
    t0 = time.perf_counter()
    await hub.api("GET", f"/contents/{path}?content=1&type=notebook", token=token, base=base)
    session = await hub.api("POST", "/sessions", token=token, base=base,
                            body={"path": path, "type": "notebook", "name": Path(path).name,
                                  "kernel": {"name": "python3"}})
    kernel_id = session["kernel"]["id"]
    ws_url = (hub.url.replace("http", "ws", 1) +
              f"{base}/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}")
    ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}),
                                 max_message_size=256 * MIB)
    # the kernel is ready once it answers kernel_info
    info = kernel_message("kernel_info_request", {}, uuid.uuid4().hex)
    ws.write_message(json.dumps(info))
    while True:
        msg = decode(await asyncio.wait_for(ws.read_message(), START_TIMEOUT_S))
        if msg.get("msg_type") == "kernel_info_reply":
            break
    open_s = time.perf_counter() - t0

    session_id = uuid.uuid4().hex
    pending, errors, first_result = {}, [], None
    t_run = time.perf_counter()
    for k, source in enumerate(cells):
        msg = kernel_message("execute_request",
                             {"code": source, "silent": False, "store_history": True,
                              "user_expressions": {}, "allow_stdin": False,
                              "stop_on_error": False}, session_id)
        pending[msg["header"]["msg_id"]] = k
        ws.write_message(json.dumps(msg))
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while pending:
        raw = await asyncio.wait_for(ws.read_message(), max(1, deadline - time.monotonic()))
        if raw is None:
            raise RuntimeError(f"{name}'s kernel websocket closed")
        msg = decode(raw)
        parent = msg.get("parent_header", {}).get("msg_id")
        kind = msg.get("msg_type")
        if parent not in pending:
            continue
        if first_result is None and kind in ("execute_result", "display_data", "stream"):
            first_result = time.perf_counter() - t_run
        if kind == "error":
            errors.append(f"cell {pending[parent]}: {msg['content'].get('ename')}")
        if kind == "execute_reply":
            del pending[parent]
    run_all_s = time.perf_counter() - t_run
    ws.close()
    return {"open_s": open_s, "first_result_s": first_result, "run_all_s": run_all_s,
            "errors": errors, "kernel_id": kernel_id}


def memory(hub, names) -> dict:
    """Per student: server and kernel RSS and the kernel's peak (VmHWM), in MiB, and the
    CPU seconds each has used (start, open, Run All: what a class costs the machine,
    whatever else runs on it); the hub's, proxy's and services' RSS."""
    by_user = hub.processes()
    out = {"server": [], "kernel": [], "kernel peak": [], "user total": [], "kernel CPU s": [],
           "server CPU s": []}
    for name in names:
        server = kernel = peak = kernel_cpu = server_cpu = 0.0
        for p in by_user.get(name, []):
            try:
                rss = p.memory_info().rss / MIB
                is_kernel = "ipykernel_launcher" in " ".join(p.cmdline())
                cpu = p.cpu_times()
                if is_kernel:
                    kernel_cpu += cpu.user + cpu.system
                else:
                    server_cpu += cpu.user + cpu.system
                if is_kernel:
                    kernel += rss
                    with open(f"/proc/{p.pid}/status") as f:
                        peak += next(int(line.split()[1]) for line in f
                                     if line.startswith("VmHWM")) / 1024
                else:
                    server += rss
            except (psutil.NoSuchProcess, OSError, StopIteration):
                continue
        out["server"].append(server)
        out["kernel"].append(kernel)
        out["kernel peak"].append(peak)
        out["user total"].append(server + kernel)
        out["kernel CPU s"].append(kernel_cpu)
        out["server CPU s"].append(server_cpu)
    hub_rss = 0.0
    for p in by_user.get("_hub", []):
        try:
            hub_rss += p.memory_info().rss / MIB
        except psutil.NoSuchProcess:
            pass
    return {"per user": out, "hub, proxy, services MiB": hub_rss}


async def one_student(hub, name, path, cells, round_start):
    figures = {}
    t = time.perf_counter()
    await hub.login(name)
    figures["login_s"] = time.perf_counter() - t
    token = (await hub.api("POST", f"/users/{name}/tokens",
                           body={"note": "classroom benchmark", "expires_in": 3600}))["token"]
    t = time.perf_counter()
    await hub.start_server(name)
    figures["server_start_s"] = time.perf_counter() - t
    figures.update(await run_all(hub, name, token, path, cells))
    figures["done_after_s"] = time.perf_counter() - round_start
    figures["token"] = token
    return figures


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


async def classroom(args):
    notebook = Path(args.notebook).resolve() if args.notebook else default_notebook()
    nb = json.loads(notebook.read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    sizes = [int(n) for n in args.students.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="tcpsim-classroom-"))
    hub = Hub(workdir, args.cull_after)
    rounds, collected, culled = [], None, None
    try:
        hub.start()
        t = time.perf_counter()
        await hub.wait_ready()
        print(f"JupyterHub {hub.url} up in {time.perf_counter() - t:.1f} s "
              f"(work folder {workdir}); notebook: {notebook.relative_to(REPO)}, "
              f"{len(cells)} code cells", flush=True)
        for round_no, n in enumerate(sizes):
            names = [f"r{round_no}s{k:02d}" for k in range(n)]
            for name in names:          # each home holds the course, as the image would
                shutil.copytree(REPO / "notebooks", workdir / "home" / name / "notebooks",
                                ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
                shutil.copy(notebook, workdir / "home" / name / "notebooks" / notebook.name)
            load = os.getloadavg()[0]
            cpu0 = psutil.cpu_times()
            start = time.perf_counter()
            results = await asyncio.gather(*(one_student(hub, name, f"notebooks/{notebook.name}",
                                                         cells, start) for name in names),
                                           return_exceptions=True)
            wall = time.perf_counter() - start
            cpu1 = psutil.cpu_times()
            busy = sum(getattr(cpu1, f) - getattr(cpu0, f) for f in ("user", "system", "nice"))
            failed = [f"{name}: {r}" for name, r in zip(names, results)
                      if isinstance(r, BaseException)]
            ok = [r for r in results if not isinstance(r, BaseException)]
            mem = memory(hub, names)
            per_user = mem["per user"]
            figures = {
                "students": n, "failed": len(failed),
                "load average before": round(load, 2),
                "round wall s": round(wall, 1),
                "CPU busy (of 2 cores)": round(busy / wall / psutil.cpu_count(), 2),
                "login s (median)": med([r["login_s"] for r in ok]),
                "server start s (median)": med([r["server_start_s"] for r in ok]),
                "open s (median)": med([r["open_s"] for r in ok]),
                "first result s (median)": med([r["first_result_s"] for r in ok]),
                "first result s (max)": round(max((r["first_result_s"] or 0) for r in ok), 2)
                if ok else None,
                "run all s (median)": med([r["run_all_s"] for r in ok]),
                "run all s (max)": round(max(r["run_all_s"] for r in ok), 2) if ok else None,
                "last student done s": round(max(r["done_after_s"] for r in ok), 1)
                if ok else None,
                "cells with errors": sum(len(r["errors"]) for r in ok),
                "server MiB (median)": med(per_user["server"]),
                "kernel MiB (median)": med(per_user["kernel"]),
                "kernel peak MiB (max)": round(max(per_user["kernel peak"]), 1)
                if per_user["kernel peak"] else None,
                "user total MiB (median)": med(per_user["user total"]),
                "kernel CPU s (median)": med(per_user["kernel CPU s"]),
                "server CPU s (median)": med(per_user["server CPU s"]),
                "hub, proxy, services MiB": round(mem["hub, proxy, services MiB"], 1),
            }
            if failed:
                figures["first failure"] = failed[0][:300]
            if ok and ok[0]["errors"]:
                figures["first cell error"] = ok[0]["errors"][0]
            rounds.append(figures)
            print_round(figures, rounds[0])
            if args.collect and round_no == len(sizes) - 1:
                collected = await save_and_collect(hub, ok, names, notebook, Path(args.collect))
            if args.cull_after and round_no == len(sizes) - 1:
                culled = await wait_culled(hub, names, args.cull_after)
            await asyncio.gather(*(hub.stop_server(name) for name in names),
                                 return_exceptions=True)
    finally:
        left = hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"\nhub stopped; processes that had to be killed: {left}")
    return {"rounds": rounds, "collected": collected, "culled": culled}


async def wait_culled(hub, names, cull_after_s):
    """Leave the last round's servers idle: how long until the idle culler stops them."""
    start = time.perf_counter()
    deadline = start + cull_after_s + 180
    running = set(names)
    while running and time.perf_counter() < deadline:
        await asyncio.sleep(5)
        for name in list(running):
            if not (await hub.api("GET", f"/users/{name}")).get("servers"):
                running.discard(name)
    seconds = time.perf_counter() - start
    print(f"\nidle culler (--timeout={cull_after_s}): {len(names) - len(running)} of "
          f"{len(names)} idle servers stopped {seconds:.0f} s after the last cell")
    return {"stopped": len(names) - len(running), "of": len(names),
            "seconds": round(seconds, 1)}


async def save_and_collect(hub, results, names, notebook, dest: Path):
    """Each student saves their notebook (PUT, as JupyterLab's save does), then the hub
    service collects them all into nbgrader's submitted/ layout with its own token."""
    assignment = notebook.stem
    content = json.loads(notebook.read_text())
    path = f"notebooks/{notebook.name}"
    await asyncio.gather(*(hub.api("PUT", f"/contents/{path}", token=r["token"],
                                   base=f"/user/{name}/api",
                                   body={"type": "notebook", "format": "json",
                                         "content": content})
                           for name, r in zip(names, results)))
    t = time.perf_counter()
    from hub_collect import collect          # tools/hub_collect.py: the instructors' tool
    written, skipped = await asyncio.to_thread(collect, hub.url, hub.token, names, path, dest,
                                               assignment, False)
    seconds = time.perf_counter() - t
    print(f"\ncollected {len(written)} of {len(names)} notebooks into {dest}/submitted/ in "
          f"{seconds:.1f} s" + (f"; not collected: {skipped}" if skipped else ""))
    return {"notebooks": len(written), "seconds": round(seconds, 2), "skipped": skipped}


def print_round(figures, first):
    print(f"\n== {figures['students']} student(s)")
    for key, value in figures.items():
        line = f"  {key:32s} {value}"
        base = first.get(key)
        if (figures is not first and isinstance(value, (int, float)) and
                isinstance(base, (int, float)) and base and key.endswith(("(median)", "(max)"))):
            line += f"   ({value / base:.1f}x the 1st round)"
        print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,5,10,20",
                        help="class sizes, one round each (default 1,5,10,20)")
    parser.add_argument("--notebook", help="the notebook to run (default: notebook 02)")
    parser.add_argument("--collect", help="save and collect the last round's notebooks here")
    parser.add_argument("--cull-after", type=int, metavar="S",
                        help="run jupyterhub-idle-culler (--timeout=S) and wait for it to stop "
                             "the last round's servers")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "tools"))
    print(f"machine: {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
          f"calibration loop {calibration_s():.3f} s (10M steps)", flush=True)
    report = asyncio.run(classroom(args))
    report["calibration loop s, at end"] = round(calibration_s(), 3)
    print(f"calibration loop at the end: {report['calibration loop s, at end']:.3f} s, "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
