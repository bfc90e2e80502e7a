"""What notebook 09 tells students, checked against the real captures and the simulator.

Each test quotes the sentence it checks. If a capture, the reader or the simulator changes
so that a sentence of the notebook becomes false, a test here fails.
"""
from __future__ import annotations

import time

import pytest

import tcpsim
from tcpsim import course, infer
from tcpsim.pcap import LINK_NAMES, PCAP_MAGICS, PCAPNG_MAGIC
from tcpsim.profiles import LINUX

JIFFY_S = 0.004          # CONFIG_HZ=250 on the capture machine (docs/linux-facts.md)


@pytest.fixture(scope="module")
def rto():
    return tcpsim.read_pcap(course.capture_path("data-rto"))


def rows(trace):
    return trace.doc["segments"]


def test_data_rto_segments_and_retransmissions(rto):
    """"The capture has 16 segments. Rows 10 and 11 carry the same 656 bytes as row 6
    (relative sequence number 4345), and the column retransmission marks them" ... "The
    server acknowledges all 5000 bytes only after the third copy." (section 1)"""
    seg = rows(rto)
    assert len(seg) == 16
    assert [r["i"] for r in seg if r["retransmission"]] == [10, 11]
    for k in (6, 10, 11):
        assert (seg[k]["rel_seq"], seg[k]["len"], seg[k]["src"]) == (4345, 656, "client")
    assert sum(r["len"] for r in seg if r["src"] == "client" and not r["retransmission"]) == 5000
    full = next(r for r in seg if r["src"] == "server" and r["rel_ack"] == 5001)
    assert seg[10]["t"] < seg[11]["t"] < full["t"]
    assert all(r["rel_ack"] < 5001 for r in seg if r["src"] == "server" and r["t"] < seg[11]["t"])


def test_probe_and_rto_timing(rto):
    """"the loss probe, about 206 ms after the original (200 ms plus twice the smoothed RTT,
    rounded up to the kernel's 4 ms ticks), then the retransmission timeout, about 212 ms
    after the probe" (section 1)"""
    seg = rows(rto)
    probe = seg[10]["t"] - seg[6]["t"]
    timeout = seg[11]["t"] - seg[10]["t"]
    assert probe == pytest.approx(0.206, abs=0.001) and timeout == pytest.approx(0.212, abs=0.001)
    assert 0.200 < probe < 0.200 + 2 * JIFFY_S


def test_data_rto_inferred_states(rto):
    """"Here the client ends in TIME-WAIT" (section 1); it sent the first FIN."""
    seg = rows(rto)
    first_fin = next(r for r in seg if "F" in r["flags"])
    assert first_fin["src"] == "client"
    client = [r for r in rto.doc["states"] if r["host"] == "client"]
    assert client[-1]["to"] == "TIME-WAIT"
    assert rto.doc["events"] == []          # "A capture shows segments, not sockets"


def test_close_wait_leak_inferred_against_ss():
    """"the orphaned client gives up in FIN-WAIT-2 after 5 s (tcp_fin_timeout 5) and sends
    nothing: the states inferred from the capture end in FIN-WAIT-2, while ss on the real
    machine saw the socket disappear." (section 1)"""
    inferred = course.capture("close-wait-leak").states
    client = inferred[inferred["host"] == "client"]
    assert client["to"].iloc[-1] == "FIN-WAIT-2"
    ss = course.socket_states("close-wait-leak")
    ss_client = ss[ss["host"] == "client"]
    entered = ss_client[ss_client["to"] == "FIN-WAIT-2"]["t"].iloc[0]
    gone = ss_client[ss_client["from"] == "FIN-WAIT-2"]
    assert gone["to"].iloc[0] == "CLOSED"
    assert gone["t"].iloc[0] - entered == pytest.approx(5.0, abs=0.1)
    assert course.events("close-wait-leak") is not None
    segs = course.capture("close-wait-leak").segments
    assert segs["t"].max() < entered + 1.0                     # nothing on the wire after


def test_paced_noread_retransmissions_had_arrived():
    """Myth vs fact: "In paced-noread the loss probes re-send segments that had arrived:
    the receiver reports each one twice (a D-SACK block, RFC 2883)." """
    trace = tcpsim.read_pcap(course.capture_path("paced-noread"))
    seg = rows(trace)
    base = trace.hosts["client"]["isn"]
    rtx = [r for r in seg if r["retransmission"] and r["len"]]
    assert len(rtx) == 3
    for r in rtx:
        start, end = r["rel_seq"], r["rel_seq"] + r["len"]
        reports = [x for x in seg[r["i"] + 1:] if x["src"] == "server" and x["options"].get("sack")]
        first = reports[0]
        left, right = ((edge - base) % 2 ** 32 for edge in first["options"]["sack"][0])
        assert left <= start and end <= right <= first["rel_ack"]          # below the ACK: D-SACK


def test_oversize_super_segments_on_loopback():
    """"On loopback at MTU 65536 (Linux's default lo), the course's experiment capture
    handshake-data-mtu65536 shows two such packets" (section 2; the cell prints the note and
    the three oversize rows: two sizes, 32768 and 34464 bytes)"""
    big = tcpsim.read_pcap(course.CAPTURES_DIR / "raw" / "handshake-data-mtu65536.pcap")
    assert big.doc["offload"] and "oversize" in big.doc["note"]
    sizes = sorted(set(big.segments[big.segments["oversize"]]["len"]))
    assert sizes == [32768, 34464]
    syn = rows(big)[0]
    assert syn["options"]["mss"] == 65495 and all(s > syn["options"]["mss"] // 2 for s in sizes)


def test_what_the_reader_reads():
    """"The viewer reads pcap (microsecond or nanosecond, either byte order) and pcapng
    (Wireshark's default), with Ethernet, Linux cooked capture (-i any), raw IP or BSD
    loopback link layers, IPv4 and IPv6." (section 2; tests/test_pcap.py reads each)"""
    assert set(PCAP_MAGICS.values()) == {6, 9}          # microsecond and nanosecond
    assert {0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1} <= set(PCAP_MAGICS)   # both orders
    assert PCAPNG_MAGIC == 0x0a0d0d0a
    names = " ".join(LINK_NAMES.values())
    for word in ("Ethernet", "SLL", "raw", "loopback"):
        assert word.lower() in names.lower(), word


def test_handshake_gaps_on_loopback():
    """"in the course's handshake capture the SYN-ACK left 12 µs after the SYN, the ACK 15 µs
    after that." (section 3)"""
    seg = rows(tcpsim.read_pcap(course.capture_path("handshake")))
    assert [r["flags"] for r in seg[:3]] == ["S", "SA", "A"]
    assert round((seg[1]["t"] - seg[0]["t"]) * 1e6) == 12
    assert round((seg[2]["t"] - seg[1]["t"]) * 1e6) == 15


def test_rtt_exercise_capture_is_on_the_client():
    """"The capture below was taken on a client that connected to a distant server": at the
    client "the SYN-ACK comes back one round trip later; the client's ACK leaves at once"
    (section 3, exercise 2)"""
    from tcpsim.exercises import answers, captures
    seed = answers.student_seed("instructor")
    delay = captures.rtt_numbers(seed)["delay_ms"] / 1000
    seg = rows(captures.rtt_trace(seed))
    assert seg[1]["t"] - seg[0]["t"] == pytest.approx(2 * delay, abs=2e-6)
    assert seg[2]["t"] - seg[1]["t"] < 1e-4


def test_inference_of_data_rto():
    """"All 16 segments come back. The inferred scenario found both losses: the fourth data
    segment's first copy (data_segment: 4) and the loss probe (the second PA segment). The
    scenario the course wrote by hand says the same thing in its own words, flags PA, nth
    [1, 2]" (section 4)"""
    rep = infer.replay(course.capture_path("data-rto"))
    assert rep.summary().startswith("16 of 16 captured segments are the same")
    assert rep.inferred.scenario["faults"] == [
        {"drop": {"from": "client", "data_segment": 4}},
        {"drop": {"from": "client", "flags": "PA", "nth": [2]}}]
    assert course.scenario("data-rto")["faults"] == [
        {"drop": {"from": "client", "flags": "PA", "nth": [1, 2]}}]
    first_data = [r for r in rows(rep.capture) if r["len"] and not r["retransmission"]]
    assert first_data[3]["flags"] == "PA"       # the 4th data segment is the first PA one


def test_inference_rules_as_the_notebook_states_them():
    """"The server listened, since it answered the SYN; a program wrote data where new data
    starts (one write up to each PSH flag ...); a side closed at its FIN, or "on end of file"
    when its FIN came right after the peer's and acknowledged it" (section 4)"""
    sc = infer.infer_scenario(str(course.capture_path("data-rto")), writes="psh").scenario
    dos = [(a["host"], a["do"], a.get("on")) for a in sc["actions"]]
    assert dos[0] == ("server", "listen", None)
    assert ("server", "close", "eof") in dos and ("client", "close", None) in dos
    sends = [a for a in sc["actions"] if a["do"] == "send"]
    assert [a["bytes"] for a in sends] == [5000]      # 4 segments, PSH on the last


def test_bulk_100k_differences():
    """"The client's segments agree in order and size; the kernel's server sent 25 segments
    where the simulation sends 52" (section 4), and the model answer: "row 59 is a pure ACK
    from the server (ack 31857) that only the simulation sends" (exercise 4)."""
    rep = infer.replay(course.capture_path("bulk-100k"))
    d = rep.differences
    client = d[d["dir"] == "client>server"]
    assert not client["verdict"].str.startswith("only").any()
    def sizes(col):
        return [t.split(" len ")[1] for t in client[col]]
    assert sizes("capture") == sizes("simulation")
    server = d[d["dir"] == "server>client"]
    assert (server["capture"] != "").sum() == 25 and (server["simulation"] != "").sum() == 52
    row = d.loc[59]
    assert row["verdict"] == "only in the simulation" and row["dir"] == "server>client"
    assert row["simulation"] == "A seq 1 ack 31857 len 0"


def test_replay_table_claims(monkeypatch):
    """"Most captures come back segment for segment. Where the two differ, the inferred
    scenario usually does better ...; the exception is loss-5pct" and "four runs of the
    simulator per capture: both ways of reading the writes, the better one again, and the
    hand-written scenario; a few seconds for all" (section 4)"""
    start = time.perf_counter()
    table = infer.replay_table(progress=False)
    seconds = time.perf_counter() - start
    assert len(table) == len(course.names())
    assert (table["inferred"] == 1.0).mean() >= 0.7
    differ = table[table["inferred"] != table["hand_written"]]
    better = differ[differ["inferred"] > differ["hand_written"]]
    assert len(better) > len(differ) / 2
    assert list(differ[differ["inferred"] < differ["hand_written"]]["capture"]) == ["loss-5pct"]
    assert seconds < 15
    assert infer.WRITES == ("psh", "merged")      # both ways of reading the writes
    from tcpsim import simulator
    runs = []
    monkeypatch.setattr(simulator, "run", lambda sc, real=simulator.run: runs.append(1) or real(sc))
    infer.replay_table(["handshake"], progress=False)
    assert len(runs) == 4


def test_time_wait_belongs_to_the_first_fin_in_the_reveal():
    """Exercise 3's reveal: in server-closes-first the server sends the first FIN and the
    states inferred from the capture put it, and only it, in TIME-WAIT (RFC 9293 §3.6);
    Linux keeps TIME-WAIT 60 s (the right choice's feedback)."""
    trace = course.capture("server-closes-first")
    first_fin = trace.segments[trace.segments["flags"].str.contains("F")].iloc[0]
    assert first_fin["src"] == "server"
    st = trace.states
    assert list(st[st["to"] == "TIME-WAIT"]["host"]) == ["server"]
    assert LINUX.time_wait_s == 60.0


def test_the_capture_has_no_tcb_and_the_simulation_has_the_tlp_timer(rto):
    """"A capture has no TCB ... The simulation of the same scenario has them; ... (its
    clock is the scenario's, which starts 0.1 s before the SYN; step to the loss probe at
    0.5 s: it leaves when the client's tlp timer expires)" (section 1)"""
    from tcpsim.widgets.views import has_tcb
    assert not has_tcb(rto)
    sim = course.simulate("data-rto")
    assert has_tcb(sim)
    syn = next(s for s in sim.doc["segments"] if s["flags"] == "S")
    assert syn["t"] == pytest.approx(0.1)
    probe = next(s for s in sim.doc["segments"] if s["retransmission"])
    assert probe["t"] == pytest.approx(0.5, abs=0.001)
    tcb = sim.tcb[(sim.tcb["host"] == "client") & (sim.tcb["t"] < probe["t"])]
    assert tcb["timers"].iloc[-1].get("tlp") == pytest.approx(probe["t"], abs=1e-6)


def test_vantage_quick_check_capture_on_the_server():
    """Section 3's quick check: "A capture taken on the server of a connection whose round
    trip is 40 ms": there the SYN-ACK leaves at once after the SYN and the ACK comes back
    40 ms later ("a segment that its receiver answers at once adds only that host's
    reaction time")."""
    from tcpsim.exercises import captures
    seg = rows(captures.server_side_trace())
    assert [r["flags"] for r in seg[:3]] == ["S", "SA", "A"]
    assert seg[1]["t"] - seg[0]["t"] < 1e-4
    assert seg[2]["t"] - seg[1]["t"] == pytest.approx(2 * captures.VANTAGE_DELAY_S, abs=1e-5)
    assert 2 * captures.VANTAGE_DELAY_S == 0.04


def test_the_explorer_starts_without_the_losses():
    """"It starts from the inferred scenario without its two drops: what the kernel would
    have sent had nothing been lost." (section 4)"""
    rep = infer.replay(course.capture_path("data-rto"))
    assert len(rep.inferred.scenario["faults"]) == 2
    run = tcpsim.run(dict(rep.inferred.scenario, faults=[]))
    assert not any(s["retransmission"] or s["dropped"] for s in run.doc["segments"])
    sent = sum(s["len"] for s in run.doc["segments"] if s["src"] == "client")
    assert sent == 5000
