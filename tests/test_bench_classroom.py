"""The parts of benchmarks/bench_classroom.py that need no hub: reading the kernel's
websocket frames and the hub's configuration. The classroom itself runs by hand (a real
JupyterHub, minutes): docs/teaching-at-scale.md."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

pytest.importorskip("psutil")
pytest.importorskip("tornado")
import bench_classroom  # noqa: E402


def binary_frame(message: dict, *buffers: bytes) -> bytes:
    """jupyter_server's frame for a message with buffers: the count of parts, their
    offsets, the JSON message, the buffers."""
    parts = [json.dumps(message).encode()] + list(buffers)
    header_size = 4 * (len(parts) + 1)
    offsets, at = [], header_size
    for part in parts:
        offsets.append(at)
        at += len(part)
    return (len(parts).to_bytes(4, "big") + b"".join(o.to_bytes(4, "big") for o in offsets)
            + b"".join(parts))


def test_text_and_binary_kernel_messages_are_decoded():
    message = {"msg_type": "comm_msg", "parent_header": {"msg_id": "abc"}, "content": {}}
    assert bench_classroom.decode(json.dumps(message)) == message
    assert bench_classroom.decode(binary_frame(message, b"\x89PNG\r\n", b"\x00" * 10)) == message
    assert bench_classroom.decode(binary_frame(message)) == message


def test_the_hub_config_stays_on_localhost_with_a_dummy_login(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_classroom, "proxy_command", lambda: "/usr/bin/chp")
    source = bench_classroom.hub_config(tmp_path, 8123, "t0ken", cull_after_s=30)
    compile(source, "jupyterhub_config.py", "exec")
    assert 'c.JupyterHub.ip = "127.0.0.1"' in source and "c.JupyterHub.port = 8123" in source
    assert 'authenticator_class = "dummy"' in source and 'spawner_class = "simple"' in source
    assert "'api_token': 't0ken'" in source.replace('"', "'")
    assert "jupyterhub_idle_culler" in source and "--timeout=30" in source
    assert "jupyterhub_idle_culler" not in bench_classroom.hub_config(tmp_path, 8123, "t")
