"""The command line: `python -m tcpsim run FILE | -`, errors, help.

The contract (../shared/tcpsim-json.md): `python -m tcpsim run` prints the trace JSON; an
invalid scenario is refused before anything runs with one line naming the field, and the
CLI exits 2.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tcpsim

from conftest import act, scenario

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tcpsim", *args], input=stdin, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


SC = scenario([act(0.1, "client", "send", bytes=1000), act(0.5, "client", "close"),
               act("eof", "server", "close")], seed=3)


def check_trace(doc):
    assert doc["tcpsim"] == 1
    assert set(doc) >= {"hosts", "segments", "states", "events"}
    assert [s["flags"] for s in doc["segments"][:3]] == ["S", "SA", "A"]
    assert doc["hosts"]["client"]["port"] == 40000
    assert sum(s["len"] for s in doc["segments"] if s["src"] == "client") >= 1000


def test_run_file(tmp_path):
    f = tmp_path / "sc.json"
    f.write_text(json.dumps(SC))
    r = cli("run", str(f))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    check_trace(doc)
    # the same document as the Python API (the contract: "the same documents")
    import tcpsim
    assert doc == json.loads(tcpsim.run(SC).to_json())


def test_run_stdin():
    r = cli("run", "-", stdin=json.dumps(SC))
    assert r.returncode == 0, r.stderr
    check_trace(json.loads(r.stdout))


def test_run_is_deterministic(tmp_path):
    f = tmp_path / "sc.json"
    f.write_text(json.dumps(SC))
    assert cli("run", str(f)).stdout == cli("run", str(f)).stdout


@pytest.mark.parametrize("bad,field", [
    ({"actions": [{"at": 0, "host": "client", "do": "send", "bytes": -5}]}, "actions[0].bytes"),
    ({"link": {"mtu": 10}}, "link.mtu"),
    ({"profile": "bsd"}, "profile"),
    ({"faults": [{"drop": {"from": "nobody"}}]}, "faults[0].drop.from"),
])
def test_invalid_scenario_one_line_exit_2(tmp_path, bad, field):
    doc = dict(SC)
    doc.update(bad)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    r = cli("run", str(f))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert field in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_invalid_json_on_stdin_exit_2():
    r = cli("run", "-", stdin="{not json")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_missing_file_exit_2(tmp_path):
    r = cli("run", str(tmp_path / "nope.json"))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_help():
    r = cli("--help")
    assert r.returncode == 0 and "run" in r.stdout
    r = cli("run", "--help")
    assert r.returncode == 0 and "file" in r.stdout.lower()


@pytest.mark.parametrize("kind", ["ladder", "states", "timeseq"])
def test_picture_commands_draw_a_scenario(tmp_path, kind):
    """`python -m tcpsim ladder|states|timeseq FILE -o out.svg` for instructors' slides."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(EXAMPLE_FOR_PICTURES))
    out = tmp_path / f"{kind}.svg"
    done = subprocess.run([sys.executable, "-m", "tcpsim", kind, str(scenario), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    if kind == "ladder":  # one arrow per segment, each with the segment's id
        n = len(tcpsim.run(EXAMPLE_FOR_PICTURES).doc["segments"])
        assert sum(f'id="seg-{i}"' in svg for i in range(n)) == n


def test_ladder_command_draws_the_chosen_segments(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(EXAMPLE_FOR_PICTURES))
    n = len(tcpsim.run(EXAMPLE_FOR_PICTURES).doc["segments"])

    def drawn(*extra):
        out = tmp_path / "l.svg"
        done = subprocess.run([sys.executable, "-m", "tcpsim", "ladder", str(scenario), "-o",
                               str(out), *extra], capture_output=True, text=True, timeout=120)
        return done, (sorted(i for i in range(n) if f'id="seg-{i}"' in out.read_text())
                      if done.returncode == 0 else None)

    assert drawn("--segments", "0:3")[1] == [0, 1, 2]
    assert drawn("--segments", "2:")[1] == list(range(2, n))
    assert drawn("--segments", "all")[1] == list(range(n))
    for bad in ("three", f"{n + 5}:{n + 9}"):
        done, _ = drawn("--segments", bad)
        assert done.returncode == 2 and done.stderr.startswith("error: --segments: ")
        assert done.stderr.count("--segments") == 1
        assert "Traceback" not in done.stderr


def test_picture_command_bad_file_exits_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tcpsim", "ladder", str(tmp_path / "none.json"),
                           "-o", str(tmp_path / "x.png")], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


EXAMPLE_FOR_PICTURES = {
    "hosts": {"client": {"port": 36556}, "server": {"port": 5001}},
    "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
                {"at": 0.5, "host": "client", "do": "close"},
                {"on": "eof", "host": "server", "do": "close"}],
}
