"""tools/hub_collect.py: a hub service collects each student's notebook through their
server's contents API into nbgrader's submitted/ layout. Tested against a small fake hub
on 127.0.0.1 (the real one: benchmarks/bench_classroom.py --collect, by hand)."""
from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import hub_collect  # noqa: E402

TOKEN = "secret-service-token"
PATH = "notebooks/02-three-way-handshake.ipynb"
NOTEBOOK = {"cells": [{"cell_type": "code", "source": "synack_ack = 1", "metadata": {},
                       "outputs": [], "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


class FakeHub:
    """Users: alice (running, has the notebook), bob (running, no notebook), carol
    (stopped, has the notebook), root (an admin: never collected)."""

    def __init__(self):
        self.running = {"alice": True, "bob": True, "carol": False}
        self.calls = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, code, body=None):
                raw = b"" if body is None else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def handle_call(self, method):
                hub.calls.append((method, self.path))
                if self.headers.get("Authorization") != f"token {TOKEN}":
                    return self.answer(403, {"message": "bad token"})
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:3] == ["hub", "api", "users"] and len(parts) == 3:
                    return self.answer(200, [{"name": n} for n in hub.running] +
                                       [{"name": "root", "admin": True}])
                if parts[:3] == ["hub", "api", "users"] and len(parts) == 4:
                    name = parts[3]
                    servers = {"": {"ready": True}} if hub.running[name] else {}
                    return self.answer(200, {"name": name, "servers": servers})
                if parts[:3] == ["hub", "api", "users"] and parts[4:] == ["server"]:
                    hub.running[parts[3]] = method == "POST"
                    return self.answer(201 if method == "POST" else 204)
                if parts[0] == "user" and parts[2:4] == ["api", "contents"]:
                    name = parts[1]
                    if not hub.running[name]:
                        return self.answer(503, {"message": "server not running"})
                    if name == "bob" or "/".join(parts[4:]) != PATH:
                        return self.answer(404, {"message": "No such file"})
                    return self.answer(200, {"content": NOTEBOOK, "type": "notebook",
                                             "last_modified": "2026-12-03T12:34:56.789012Z"})
                return self.answer(404, {"message": "unknown"})

            def do_GET(self):
                self.handle_call("GET")

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.handle_call("POST")

            def do_DELETE(self):
                self.handle_call("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub():
    fake = FakeHub()
    yield fake
    fake.close()


def test_running_students_are_collected_into_nbgraders_layout(hub, tmp_path):
    written, skipped = hub_collect.collect(hub.url, TOKEN, None, PATH, tmp_path,
                                           start_stopped=False)
    assert set(written) == {"alice"}
    target = tmp_path / "submitted" / "alice" / "02-three-way-handshake" / \
        "02-three-way-handshake.ipynb"
    assert written["alice"] == target
    assert json.loads(target.read_text()) == NOTEBOOK
    stamp = (target.parent / "timestamp.txt").read_text().strip()
    assert stamp == "2026-12-03 12:34:56.789012 UTC"        # the file's last modification
    assert sorted(skipped) == ["bob: no notebooks/02-three-way-handshake.ipynb",
                               "carol: server stopped (skipped)"]
    assert not any("root" in path for _, path in hub.calls)   # admins are not students
    assert ("POST", "/hub/api/users/carol/server") not in hub.calls


def test_a_stopped_server_is_started_for_the_collection_and_stopped_again(hub, tmp_path):
    written, skipped = hub_collect.collect(hub.url, TOKEN, ["carol"], PATH, tmp_path,
                                           assignment="ps1")
    assert written == {"carol": tmp_path / "submitted" / "carol" / "ps1" /
                       "02-three-way-handshake.ipynb"}
    assert skipped == []
    assert ("POST", "/hub/api/users/carol/server") in hub.calls
    assert ("DELETE", "/hub/api/users/carol/server") in hub.calls
    assert hub.running["carol"] is False


def test_a_wrong_token_is_reported_per_student(hub, tmp_path):
    written, skipped = hub_collect.collect(hub.url, "wrong", ["alice"], PATH, tmp_path)
    assert written == {} and skipped == ["alice: 403 Forbidden"]


def test_the_command_needs_the_services_token(monkeypatch, capsys):
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with pytest.raises(SystemExit):
        hub_collect.main(["--hub", "http://127.0.0.1:1", "--path", PATH, "--dest", "x"])
    assert "JUPYTERHUB_API_TOKEN" in capsys.readouterr().err
