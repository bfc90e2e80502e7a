"""Collect students' notebooks from a JupyterHub into nbgrader's layout, hub-side.

    JUPYTERHUB_API_TOKEN=... python tools/hub_collect.py --hub https://hub.example.org \\
        --path notebooks/02-three-way-handshake.ipynb --dest instructors/course [--users a,b]

For each student (every user of the hub unless ``--users`` names some), it reads the
notebook at ``--path`` in their home through their Jupyter server's contents API, with the
token of a hub service (docs/teaching-at-scale.md gives its role: scopes ``list:users``,
``read:users``, ``read:servers``, ``access:servers`` and, to open a stopped server,
``servers``), and writes
it as ``DEST/submitted/<student>/<assignment>/<notebook>``, with nbgrader's
``timestamp.txt`` (the file's last modification). ``nbgrader autograde`` then grades them
in the instructors' environment: nothing of nbgrader runs in the students' servers, and
students hand nothing in by hand (the notebook as it is at the deadline is collected).

A student whose server is stopped (culled) is started for the collection and stopped
again (``--no-start``: skipped instead). Standard library only: it runs with any Python.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path


class Hub:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method, path, body=None, base="/hub/api"):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + base + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def users(self) -> list[str]:
        return sorted(u["name"] for u in self.call("GET", "/users") if not u.get("admin"))

    def server_ready(self, name) -> bool:
        return bool(self.call("GET", f"/users/{name}").get("servers", {}).get("", {})
                    .get("ready"))

    def start(self, name, timeout_s=300):
        self.call("POST", f"/users/{name}/server", body={})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.server_ready(name):
                return
            time.sleep(1)
        raise TimeoutError(f"{name}'s server did not start in {timeout_s} s")


def collect_one(hub: Hub, name, path, dest: Path, assignment, start_stopped=True):
    """One student's notebook into nbgrader's submitted/ folder: the written path, or a
    reason it could not be (no such notebook, server stopped, ...)."""
    started = False
    try:
        if not hub.server_ready(name):
            if not start_stopped:
                return f"{name}: server stopped (skipped)"
            hub.start(name)
            started = True
        model = hub.call("GET", f"/contents/{path}?content=1&type=notebook",
                         base=f"/user/{name}/api")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return f"{name}: no {path}"
        return f"{name}: {exc.code} {exc.reason}"
    finally:
        if started:
            try:
                hub.call("DELETE", f"/users/{name}/server")
            except urllib.error.URLError:
                pass
    folder = dest / "submitted" / name / assignment
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(path).name
    target.write_text(json.dumps(model["content"], indent=1) + "\n", encoding="utf-8")
    modified = datetime.fromisoformat(model["last_modified"].replace("Z", "+00:00"))
    (folder / "timestamp.txt").write_text(modified.strftime("%Y-%m-%d %H:%M:%S.%f %Z") + "\n")
    return target


def collect(hub_url, token, users, path, dest, assignment=None, start_stopped=True,
            workers=8):
    """Collect ``path`` from each of ``users`` (None: every user). Returns
    ({student: written path}, [reasons for the others])."""
    hub = Hub(hub_url, token)
    users = hub.users() if users is None else list(users)
    assignment = assignment or Path(path).stem
    dest = Path(dest)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda name: collect_one(hub, name, path, dest, assignment,
                                                         start_stopped), users))
    written = {name: r for name, r in zip(users, results) if isinstance(r, Path)}
    return written, [r for r in results if not isinstance(r, Path)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", required=True, help="the hub's URL")
    parser.add_argument("--path", required=True,
                        help="the notebook in each home, e.g. notebooks/02-three-way-handshake.ipynb")
    parser.add_argument("--dest", required=True, help="nbgrader's course directory")
    parser.add_argument("--assignment", help="nbgrader's assignment name (default: the "
                                             "notebook's name)")
    parser.add_argument("--users", help="comma-separated students (default: every user)")
    parser.add_argument("--no-start", action="store_true",
                        help="skip students whose server is stopped")
    args = parser.parse_args(argv)
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not token:
        parser.error("set JUPYTERHUB_API_TOKEN to the collecting service's token")
    users = args.users.split(",") if args.users else None
    written, skipped = collect(args.hub, token, users, args.path, args.dest, args.assignment,
                               start_stopped=not args.no_start)
    print(f"collected {len(written)} notebooks into {Path(args.dest) / 'submitted'}")
    for reason in skipped:
        print(f"  not collected: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
