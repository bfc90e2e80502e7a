"""tools/capture.py (real-kernel captures of scenarios) and the captures it shipped.

The comparison of the shipped captures with the simulator is tests/test_fidelity.py; here:
the tool's checks, how it turns a scenario into namespace settings and nftables rules, the
shipped files themselves, and (as root only) live runs.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tcpsim

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "capture.py"
CAPTURES = ROOT / "data" / "captures"
SHIPPED = sorted(p.stem for p in CAPTURES.glob("*.pcap"))

spec = importlib.util.spec_from_file_location("capture_tool", TOOL)
capture = importlib.util.module_from_spec(spec)
spec.loader.exec_module(capture)


# ------------------------------------------------------------------ environment checks
def test_not_root_is_refused_by_the_check():
    msg = capture.check_environment(euid=1000)
    assert msg is not None and "root" in msg and "\n" not in msg


def test_missing_tool_is_named():
    msg = capture.check_environment(euid=0, which=lambda t: None if t == "tcpdump" else "/usr/bin/" + t)
    assert msg is not None and "tcpdump" in msg and "\n" not in msg


def test_all_present_as_root_is_ok():
    assert capture.check_environment(euid=0, which=lambda t: "/usr/bin/" + t) is None


def test_cli_not_root_exits_2_with_one_line(tmp_path):
    env = dict(os.environ, **{capture.FAKE_NONROOT_ENV: "1"})
    r = subprocess.run([sys.executable, str(TOOL), str(CAPTURES / "handshake.json"), "-o", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "root" in r.stderr
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ planning (no root needed)
def _scenario(**extra):
    doc = {"hosts": {"client": {"port": 40000}, "server": {"port": 5000}},
           "actions": [{"at": 0, "host": "server", "do": "listen"},
                       {"at": 0, "host": "client", "do": "connect", "to": "server"}]}
    doc.update(extra)
    return tcpsim.parse_scenario(json.dumps(doc))


def test_drop_fault_becomes_an_input_rule():
    sc = _scenario(faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1, 3]}}])
    _, _, ruleset, _, _, _ = capture.plan(sc)
    assert "hook input" in ruleset
    assert "tcp sport 5000 tcp flags == syn|ack numgen inc mod 1000000000 { 0, 2 } counter drop" in ruleset


def test_data_segment_drop_counts_payload_packets_of_the_host():
    """data_segment k: the k-th packet with payload from the host (numgen after the payload
    test), then the flags if given, as the simulator counts (tcpsim/faults.py)."""
    sc = _scenario(faults=[{"drop": {"from": "client", "data_segment": 4}},
                           {"drop": {"from": "server", "data_segment": 1, "flags": "PA"}}])
    _, _, ruleset, _, _, _ = capture.plan(sc)
    assert "tcp sport 40000 @ih,0,8 >= 0 numgen inc mod 1000000000 { 3 } counter drop" in ruleset
    assert ("tcp sport 5000 @ih,0,8 >= 0 numgen inc mod 1000000000 { 0 } "
            "tcp flags == psh|ack counter drop") in ruleset


@pytest.mark.parametrize("fault", [{"loss": {"p": 0.5}},
                                   {"delay": {"from": "client", "extra": 1.0}},
                                   {"drop": {"data_segment": 2}},
                                   {"drop": {"from": "client", "data_segment": 2, "nth": [1]}},
                                   {"drop": {"from": "client", "between": [0.1, 0.2]}}])
def test_unsupported_faults_are_refused(fault):
    with pytest.raises(capture.CaptureRefused):
        capture.plan(_scenario(faults=[fault]))


def test_two_data_segment_drops_on_one_host_are_refused():
    """The kernel rule would count the first drop's retransmission; the simulator would not."""
    sc = _scenario(faults=[{"drop": {"from": "client", "data_segment": 2}},
                           {"drop": {"from": "client", "data_segment": 5}}])
    with pytest.raises(capture.CaptureRefused, match="second data_segment"):
        capture.plan(sc)


def test_dropped_data_segment_is_checked_in_the_capture():
    """After a run the tool checks that the packet the kernel rule dropped is the host's k-th
    first transmission. data-loss-middle.pcap: 10 data segments, then the retransmission of
    the 4th, which is the 11th data packet: a rule for the 11th would have dropped it."""
    pcap = CAPTURES / "data-loss-middle.pcap"
    ports = {"client": 40010, "server": 5210}

    def problems(k):
        sc = tcpsim.parse_scenario(json.dumps({
            "hosts": {"client": {"port": 40010}, "server": {"port": 5210}},
            "faults": [{"drop": {"from": "client", "data_segment": k}}]}))
        return capture.check_data_segment_drops(sc, pcap, ports)
    assert problems(4) == [] and problems(10) == []
    assert "retransmission came first" in problems(11)[0]
    assert "only 11 data segments" in problems(12)[0]


@pytest.mark.parametrize("text,seconds", [("timewait,59sec,0", 59.0), ("on,196ms,0", 0.196),
                                          ("on,1.804ms,3", 1.804), ("timewait,1min,0", 60.0),
                                          ("keepalive,1min3sec,0", 63.0), ("on,004ms,0", 0.004)])
def test_ss_timer_text(text, seconds):
    """iproute2 print_ms_timer(): "1.804ms" is 1.804 s (docs/linux-facts.md §7b)."""
    assert capture.ss_timer_seconds(text) == seconds


def test_options_applied_or_listed():
    sc = tcpsim.parse_scenario(json.dumps({
        "hosts": {"client": {"port": 40000, "isn": 5, "options": {"syn_retries": 2, "timestamps": False,
                                                                    "msl": 30, "linger0": True}},
                  "server": {"port": 5000, "options": {"synack_retries": 3, "wscale": 7}}}}))
    _, sysctls, _, sockopts, not_applied, notes = capture.plan(sc)
    assert sysctls == {"net.ipv4.tcp_timestamps": 0, "net.ipv4.tcp_synack_retries": 3}
    assert sockopts["client"] == {"syn_retries": 2, "linger0": True}
    text = " ".join(not_applied)
    assert "client.isn" in text and "msl" in text and "wscale" in text
    assert any("tcp_timestamps" in n for n in notes)


def test_same_port_is_refused():
    sc = tcpsim.parse_scenario('{"hosts": {"a": {"port": 1}, "b": {"port": 1}}}')
    with pytest.raises(capture.CaptureRefused):
        capture.plan(sc)


# ------------------------------------------------------------------ shipped captures
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_capture_files(name):
    sc_path, pcap, events = (CAPTURES / f"{name}.json", CAPTURES / f"{name}.pcap",
                             CAPTURES / f"{name}.events.json")
    sc = tcpsim.parse_scenario(sc_path.read_text())
    assert sc.mtu == 1500
    assert pcap.stat().st_size < 200_000
    trace = tcpsim.read_pcap(str(pcap))
    assert len(trace.segments) > 0 and trace.doc["offload"] is False
    doc = json.loads(events.read_text())
    assert doc["events"] and {"t", "host", "call", "result"} <= set(doc["events"][0])
    assert doc["not_applied"] == []
    assert not any("data_segment" in n for n in doc["notes"])


def test_shipped_loss_captures_dropped_what_the_scenario_says():
    """The nftables counters after the run: one packet for each data_segment drop, two for
    the FIN dropped twice and for the last data segment and its loss probe."""
    for name, packets in (("data-loss-middle", 1), ("data-loss-tail", 1), ("fin-loss", 2),
                          ("data-rto", 2)):
        doc = json.loads((CAPTURES / f"{name}.events.json").read_text())
        assert f"counter packets {packets} " in doc["nft_after"], name


# ------------------------------------------------------------------ a live run (root only)
def test_live_capture_of_the_handshake(tmp_path):
    problem = capture.check_environment()
    if problem:
        pytest.skip(problem)
    if shutil.which("ethtool") is None:
        pytest.skip("ethtool missing")
    scenario = tmp_path / "hs.json"
    scenario.write_text((CAPTURES / "handshake.json").read_text())
    r = subprocess.run([sys.executable, str(TOOL), str(scenario), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    cap, sim = capture.flag_sequences(scenario, tmp_path / "out" / "hs.pcap")
    assert cap == sim
    doc = json.loads((tmp_path / "out" / "hs.json").read_text())
    calls = [(e["host"], e["call"], e["result"]) for e in doc["events"]]
    assert ("client", "connect", "ok") in calls and ("server", "read", 0) in calls
    assert any(s["to"] == "ESTABLISHED" for s in doc["states"])
    ns = doc["netns"]
    assert ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_live_capture_of_a_lost_data_segment(tmp_path):
    """data_segment on the real kernel: the 2nd of 3 data segments is lost once and
    retransmitted; the tool's own check finds nothing wrong."""
    problem = capture.check_environment()
    if problem:
        pytest.skip(problem)
    if shutil.which("ethtool") is None:
        pytest.skip("ethtool missing")
    doc = json.loads((CAPTURES / "data-loss-middle.json").read_text())
    doc["actions"][2]["bytes"] = 3 * 1448
    doc["faults"] = [{"drop": {"from": "client", "data_segment": 2}}]
    scenario = tmp_path / "ds.json"
    scenario.write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, str(TOOL), str(scenario), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    segs = tcpsim.read_pcap(str(tmp_path / "out" / "ds.pcap")).doc["segments"]
    data = [(s["rel_seq"], s["retransmission"]) for s in segs if s["src"] == "client" and s["len"]]
    assert data[:3] == [(1, False), (1449, False), (2897, False)]
    assert (1449, True) in data[3:]
    out = json.loads((tmp_path / "out" / "ds.json").read_text())
    assert not any("data_segment" in n for n in out["notes"])
    assert "counter packets 1 " in out["nft_after"]
