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
    doc = {"seed": extra.pop("seed", 0), "hosts": {"client": {"port": 40000}, "server": {"port": 5000}},
           "actions": [{"at": 0, "host": "server", "do": "listen"},
                       {"at": 0, "host": "client", "do": "connect", "to": "server"}]}
    doc.update(extra)
    return tcpsim.parse_scenario(json.dumps(doc))


def test_drop_fault_becomes_an_input_rule():
    sc = _scenario(faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1, 3]}}])
    ruleset = capture.plan(sc).ruleset
    assert capture.plan(sc).queue_rule is None
    assert "hook input" in ruleset
    assert "tcp sport 5000 tcp flags == syn|ack numgen inc mod 1000000000 { 0, 2 } counter drop" in ruleset


def test_data_segment_drop_counts_payload_packets_of_the_host():
    """data_segment k: the k-th packet with payload from the host (numgen after the payload
    test), then the flags if given, as the simulator counts (tcpsim/faults.py)."""
    sc = _scenario(faults=[{"drop": {"from": "client", "data_segment": 4}},
                           {"drop": {"from": "server", "data_segment": 1, "flags": "PA"}}])
    ruleset = capture.plan(sc).ruleset
    assert "tcp sport 40000 @ih,0,8 >= 0 numgen inc mod 1000000000 { 3 } counter drop" in ruleset
    assert ("tcp sport 5000 @ih,0,8 >= 0 numgen inc mod 1000000000 { 0 } "
            "tcp flags == psh|ack counter drop") in ruleset


@pytest.mark.parametrize("fault,why", [
    ({"loss": {"p": 0.5}}, "loss"),
    ({"delay": {"from": "client", "extra": 1.0}}, "delay"),
    ({"duplicate": {"from": "client", "extra": 0.01}}, "duplicate"),
    ({"drop": {"data_segment": 2}}, "data_segment without from"),
    ({"drop": {"from": "client", "data_segment": 2, "nth": [1]}}, "data_segment with nth"),
    ({"drop": {"from": "client", "between": [0.1, 0.2]}}, "between")])
def test_faults_nftables_cannot_express_go_to_the_queue_stage(fault, why):
    """No nftables ruleset then: one iptables-nft NFQUEUE rule on INPUT takes every TCP
    packet, and the notes say why."""
    p = capture.plan(_scenario(faults=[fault]))
    assert p.ruleset is None
    assert p.queue_rule == ["INPUT", "-p", "tcp", "-j", "NFQUEUE", "--queue-num", str(capture.QUEUE_NUM)]
    assert any("queue stage" in n and why in n for n in p.notes)


def test_two_data_segment_drops_on_one_host_go_to_the_queue_stage():
    """The kernel rule would count the first drop's retransmission; the queue stage counts
    first transmissions only, as the simulator does."""
    sc = _scenario(faults=[{"drop": {"from": "client", "data_segment": 2}},
                           {"drop": {"from": "client", "data_segment": 5}}])
    p = capture.plan(sc)
    assert p.ruleset is None and p.queue_rule is not None


def test_inject_is_refused():
    sc = _scenario(faults=[{"inject": {"at": 0.5, "from": "client", "flags": "R"}}])
    with pytest.raises(capture.CaptureRefused, match="inject"):
        capture.plan(sc)


# ------------------------------------------------------------------ the queue stage's decisions (no root)
def _packet(sport, dport, seq, flags, length, ttl=64):
    """An IPv4 TCP packet's bytes (no options), as the queue stage receives them."""
    import struct
    bits = sum(bit for letter, bit in capture.TCP_FLAG_BITS if letter in flags)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, bits, 65535, 0, 0) + b"x" * length
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, ttl, 6, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return ip + tcp


def _decisions(faults, seed=0):
    sc = _scenario(faults=faults, seed=seed)
    return capture.QueueDecisions(sc, {40000: "client", 5000: "server"}.get)


def test_parse_tcp():
    assert capture.parse_tcp(_packet(40000, 5000, 7, "PA", 100)) == (40000, 5000, 7, "PA", 100)
    assert capture.parse_tcp(_packet(5000, 40000, 9, "SA", 0)) == (5000, 40000, 9, "SA", 0)


def test_queue_counts_first_transmissions_as_the_simulator_does():
    """data_segment 2 drops the 2nd first transmission; its retransmission (same sequence
    numbers, later) passes; a pure ACK is never counted."""
    d = _decisions([{"drop": {"from": "client", "data_segment": 2}}])
    verdicts = [d.decide(_packet(40000, 5000, seq, flags, n), 0.1 * k)[0]
                for k, (seq, flags, n) in enumerate([(100, "S", 0), (101, "A", 0), (101, "PA", 10),
                                                     (111, "PA", 10), (111, "PA", 10), (121, "PA", 10)])]
    assert verdicts == [False, False, False, True, False, False]
    assert [e["verdict"] for e in d.log] == ["drop"] and d.log[0]["seq"] == 111


def test_queue_delay_duplicate_and_between():
    d = _decisions([{"delay": {"from": "client", "nth": 2, "extra": 0.0175}},
                    {"duplicate": {"from": "server", "extra": 0.01}},
                    {"drop": {"from": "client", "between": [1.0, 2.0]}}])
    assert d.decide(_packet(40000, 5000, 1, "PA", 10), 0.5) == (False, 0.0, [])
    assert d.decide(_packet(40000, 5000, 11, "PA", 10), 0.6) == (False, 0.0175, [])
    assert d.decide(_packet(5000, 40000, 1, "A", 0), 0.6) == (False, 0.0, [0.01])
    assert d.decide(_packet(40000, 5000, 21, "PA", 10), 1.5)[0] is True
    assert [e["verdict"] for e in d.log] == ["delay", "duplicate", "drop"]


def test_queue_random_loss_draws_as_the_simulator_does():
    """The same seed and the same segments give the same losses as tcpsim.faults.Faults."""
    from tcpsim.faults import Faults
    faults = [{"loss": {"p": 0.3, "from": "client"}}]
    d = _decisions(faults, seed=7)
    model = Faults(_scenario(faults=faults, seed=7).faults, 7)
    queue_drops, model_drops = [], []
    for k in range(200):
        seq = 1 + 10 * k
        queue_drops.append(d.decide(_packet(40000, 5000, seq, "A", 10), 0.01 * k)[0])
        model_drops.append(model.fate(capture.QueuedSegment("client", "A", 10, False), 0.01 * k)[0])
    assert queue_drops == model_drops and 30 < sum(queue_drops) < 90
    assert _decisions(faults, seed=8).faults.rng.random() != _decisions(faults, seed=7).faults.rng.random()


def test_queue_lets_its_own_copies_through_and_tcpdump_leaves_them_out():
    assert capture.COPY_TTL != 64
    assert f"ip[8] != {capture.COPY_TTL}" in capture.TCPDUMP_FILTER


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
    _, sysctls, _, sockopts, not_applied, notes, _ = capture.plan(sc)
    assert sysctls == {"net.ipv4.tcp_timestamps": 0, "net.ipv4.tcp_synack_retries": 3}
    assert sockopts["client"] == {"syn_retries": 2, "linger0": True}
    text = " ".join(not_applied)
    assert "client.isn" in text and "msl" in text and "wscale" in text
    assert any("tcp_timestamps" in n for n in notes)


def test_connection_options_become_sysctls_and_socket_options():
    sc = tcpsim.parse_scenario(json.dumps({
        "hosts": {"client": {"port": 40000, "options": {"keepalive": {"time": 1, "intvl": 2}}},
                  "server": {"port": 5000, "options": {"syn_cookies": 2, "backlog": 3}}}}))
    _, sysctls, _, sockopts, _, notes, _ = capture.plan(sc)
    assert sysctls == {"net.ipv4.tcp_syncookies": 2}
    assert sockopts == {"client": {"keepalive": [1, 2, 9]}, "server": {"backlog": 3}}
    assert any("tcp_syncookies=2" in n for n in notes)
    flood = _scenario(faults=[{"flood": {"to": "server", "count": 3, "between": [0, 1]}}])
    with pytest.raises(capture.CaptureRefused, match="flood"):
        capture.plan(flood)


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
    assert pcap.stat().st_size < 300_000        # the 200 kB random-loss transfers: 230-275 kB
    trace = tcpsim.read_pcap(str(pcap))
    assert len(trace.segments) > 0 and trace.doc["offload"] is False
    doc = json.loads(events.read_text())
    assert doc["events"] and {"t", "host", "call", "result"} <= set(doc["events"][0])
    assert doc["not_applied"] == []
    assert not any("data_segment" in n for n in doc["notes"])
    if any(f.kind != "drop" or f.match.between for f in sc.faults):
        assert doc["queue"]["held_at_end"] == 0 and doc["queue"]["late_max_s"] < 0.002
        assert doc["queue_rule"].startswith("iptables-nft -A INPUT -p tcp -j NFQUEUE")


def test_shipped_queue_captures_did_what_the_scenario_says():
    """The queue stage's log: the one delayed segment of reorder, the held SYNs of the
    simultaneous open, the duplicated segment, and the random losses (8 client segments at
    5 %, 36 at 20 %)."""
    def log(name):
        return json.loads((CAPTURES / f"{name}.events.json").read_text())["queue"]
    assert [(e["verdict"], e["flags"], e["len"], e["extra"]) for e in log("reorder")["log"]] == \
        [("delay", "PA", 1448, 0.0175)]
    assert [(e["verdict"], e["from"], e["flags"]) for e in log("simultaneous-open")["log"]] == \
        [("delay", "a", "S"), ("delay", "b", "S")]
    assert [(e["verdict"], e["len"], e["extra"]) for e in log("duplicate")["log"]] == [("duplicate", 1000, 0.01)]
    for name, drops in (("loss-5pct", 8), ("loss-20pct", 36)):
        assert [e["verdict"] for e in log(name)["log"]] == ["drop"] * drops


def test_shipped_loss_captures_dropped_what_the_scenario_says():
    """The nftables counters after the run: one packet for each data_segment drop, two for
    the FIN dropped twice and for the last data segment and its loss probe."""
    for name, packets in (("data-loss-middle", 1), ("data-loss-tail", 1), ("fin-loss", 2),
                          ("data-rto", 2)):
        doc = json.loads((CAPTURES / f"{name}.events.json").read_text())
        assert f"counter packets {packets} " in doc["nft_after"], name


# ------------------------------------------------------------------ a live run (root only)
def _capture_live(tmp_path, name, doc):
    """Run the tool on scenario ``doc`` (as root): (the capture's segments, the events doc)."""
    scenario = tmp_path / f"{name}.json"
    scenario.write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, str(TOOL), str(scenario), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    segments = tcpsim.read_pcap(str(tmp_path / "out" / f"{name}.pcap")).doc["segments"]
    return segments, json.loads((tmp_path / "out" / f"{name}.json").read_text())


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


def test_live_capture_through_the_queue_stage(tmp_path):
    """As root with the fnfqueue binding: a paced client whose 3rd data segment is held 12 ms
    (so the 4th overtakes it), whose 5th is duplicated and whose 7th (first transmission) is
    dropped; the capture shows the reordering (a SACK for the 4th before the 3rd is ACKed),
    the retransmission of the 7th, no copy (left out of the pcap), and the stage's log."""
    problem = capture.check_environment() or capture.queue_binding_problem()
    if problem:
        pytest.skip(problem)
    if shutil.which("ethtool") is None:
        pytest.skip("ethtool missing")
    doc = json.loads((CAPTURES / "reorder.json").read_text())
    doc["actions"] = [a for a in doc["actions"] if a["do"] != "send"][:2] + \
        [{"at": round(0.3 + 0.005 * k, 3), "host": "client", "do": "send", "bytes": 1448} for k in range(8)] + \
        [a for a in doc["actions"] if a["do"] != "send"][2:]
    doc["faults"] = [{"delay": {"from": "client", "data_segment": 3, "extra": 0.012}},
                     {"duplicate": {"from": "client", "data_segment": 5, "extra": 0.002}},
                     {"drop": {"from": "client", "data_segment": 7}}]
    segs, out = _capture_live(tmp_path, "q", doc)
    data = [(s["rel_seq"], s["retransmission"]) for s in segs if s["src"] == "client" and s["len"]]
    firsts = [seq for seq, rtx in data if not rtx]
    assert firsts == [1 + 1448 * k for k in range(8)]          # no copy in the pcap
    assert (1 + 1448 * 6, True) in data                         # the 7th, retransmitted
    sacked = [s for s in segs if s["src"] == "server" and s["options"].get("sack")]
    assert sacked                                               # reordering and loss seen
    assert [e["verdict"] for e in out["queue"]["log"]] == ["delay", "duplicate", "drop"]
    assert out["queue"]["held_at_end"] == 0
    assert "iptables-nft" in out["queue_rule"]
    server = [r for r in out["tcp_info"] if r["host"] == "server"]
    assert server and all(r["rcvbuf"] > 0 and r["rcv_mss"] in (536, 1448) for r in server)


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
    segs, out = _capture_live(tmp_path, "ds", doc)
    data = [(s["rel_seq"], s["retransmission"]) for s in segs if s["src"] == "client" and s["len"]]
    assert data[:3] == [(1, False), (1449, False), (2897, False)]
    assert (1449, True) in data[3:]
    assert not any("data_segment" in n for n in out["notes"])
    assert "counter packets 1 " in out["nft_after"]


def test_missing_binding_is_one_line(monkeypatch):
    """Without fnfqueue the queue stage cannot run: one line naming the requirements file."""
    monkeypatch.setitem(sys.modules, "fnfqueue", None)
    msg = capture.queue_binding_problem(which=lambda t: "/usr/sbin/" + t)
    assert msg is not None and "\n" not in msg and "requirements-capture.txt" in msg
    msg = capture.queue_binding_problem(which=lambda t: None)
    assert msg is not None and "\n" not in msg and "iptables-nft" in msg


def test_shipped_receive_side_state():
    """``tcp_info`` rows (TCP_INFO and SO_MEMINFO, recorded when they change): in
    paced-reader the receiver's rcv_ssthresh grew by 2 x 1448 per segment read and then
    stopped; in paced-noread, with nothing read, the advertised window (rcv_wnd) fell to one
    scaled unit (1024) and reopened after the read at 1.5 s."""
    def rows(name):
        doc = json.loads((CAPTURES / f"{name}.events.json").read_text())
        return [r for r in doc["tcp_info"] if r["host"] == "server"]
    reader = rows("paced-reader")
    steps = [b["rcv_ssthresh"] - a["rcv_ssthresh"] for a, b in zip(reader[1:], reader[2:])]
    assert steps[:4] == [2 * 1448] * 4 and reader[-1]["rcv_ssthresh"] == max(r["rcv_ssthresh"] for r in reader)
    noread = rows("paced-noread")
    assert min(r["rcv_wnd"] for r in noread) <= 1024
    assert noread[-1]["when"] == "read" and noread[-1]["rcv_wnd"] > 60000


def test_summary_lists_every_segment_with_its_raw_window():
    """--summary (what tools/experiments/summarize.sh did with tshark): one line per segment;
    paced-noread's zero window and its old-sequence probe are labelled."""
    lines = capture.summary_lines(CAPTURES / "paced-noread.pcap")
    assert len(lines) == len(tcpsim.read_pcap(str(CAPTURES / "paced-noread.pcap")).segments)
    probe = next(line for line in lines if "[keep_alive]" in line)
    assert "len=0 " in probe and "seq=115416 " in probe
    assert any("win=0 " in line and "[zero_window]" in line for line in lines)
    r = subprocess.run([sys.executable, str(TOOL), "--summary", str(CAPTURES / "handshake.pcap")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == len(
        tcpsim.read_pcap(str(CAPTURES / "handshake.pcap")).segments)


# ------------------------------------------------------ kernel_sysctls (the ecn capture)
def test_kernel_sysctls_are_netns_sysctls_and_bad_ones_are_named():
    assert capture.kernel_sysctls({"kernel_sysctls": {"net.ipv4.tcp_ecn": 1}}) == \
        {"net.ipv4.tcp_ecn": 1}
    assert capture.kernel_sysctls({}) == {}
    with pytest.raises(capture.CaptureRefused, match="kernel_sysctls.kernel.panic"):
        capture.kernel_sysctls({"kernel_sysctls": {"kernel.panic": 1}})
    with pytest.raises(capture.CaptureRefused, match="net.ipv4.tcp_ecn: must be an integer"):
        capture.kernel_sysctls({"kernel_sysctls": {"net.ipv4.tcp_ecn": "1"}})
    recorded = json.loads((CAPTURES / "ecn.events.json").read_text())
    assert recorded["sysctls"] == {"net.ipv4.tcp_ecn": 1}
