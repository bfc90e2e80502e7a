"""What notebook 02 tells students, checked against the simulator and the real captures.

Each test quotes the claim it checks. If the simulator or a capture changes so that a
sentence of the notebook becomes false, a test here fails (instead of the course quietly
teaching something untrue).
"""
import pytest

import tcpsim
from tcpsim import course

MOD = 2 ** 32
HANDSHAKE_THEN_DATA = {
    "hosts": {"client": {"port": 40001}, "server": {"port": 5201}},
    "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                {"at": 4.0, "host": "client", "do": "send", "bytes": 100}],
}


def first_three(trace):
    return trace.segments.iloc[:3]


@pytest.fixture(scope="module", params=["simulated", "real"])
def handshake(request):
    return course.simulate("handshake") if request.param == "simulated" \
        else course.capture("handshake")


def test_three_segments_flags_lengths_windows(handshake):
    """"SYN (S), SYN-ACK (SA), ACK (A); no data in any of them (len 0); windows 64240,
    65160, then 63" (section 1), in the simulation and in the capture alike."""
    seg = first_three(handshake)
    assert list(seg["flags"]) == ["S", "SA", "A"]
    assert list(seg["len"]) == [0, 0, 0]
    assert list(seg["win"]) == [64240, 65160, 63]


def test_acks_are_isn_plus_one(handshake):
    """"the SYN-ACK's ack is the client's ISN + 1 and the third segment's ack is the
    server's ISN + 1"; "the third segment starts at ISN + 1 too" (sections 1 and 3)."""
    syn, synack, ack = (row for _, row in first_three(handshake).iterrows())
    assert synack["ack"] == (syn["seq"] + 1) % MOD
    assert ack["ack"] == (synack["seq"] + 1) % MOD
    assert ack["seq"] == (syn["seq"] + 1) % MOD


def test_first_data_byte_is_isn_plus_one(handshake):
    """"the client's first data byte is ISN + 1" (section 3, myth 3)."""
    segs = handshake.segments
    syn = segs.iloc[0]
    data = segs[(segs["src"] == "client") & (segs["len"] > 0)].iloc[0]
    assert data["seq"] == (syn["seq"] + 1) % MOD and data["rel_seq"] == 1


def test_options_of_the_syns_and_the_scaled_window():
    """MSS 1460, sack_perm, ts, wscale 10 in both SYNs; "63 means 63 × 2^10 = 64512 bytes";
    the rfc9293 profile "sends only the MSS option" (section 4)."""
    real = course.capture("handshake")
    for _, seg in real.segments.iloc[:2].iterrows():
        assert seg["options"]["mss"] == 1460 and seg["options"]["sack_perm"]
        assert seg["options"]["wscale"] == 10 and len(seg["options"]["ts"]) == 2
    assert 63 * 2 ** 10 == 64512
    textbook = course.simulate("handshake", profile="rfc9293")
    for _, seg in textbook.segments.iloc[:2].iterrows():
        assert set(k for k, v in seg["options"].items() if v is not None) == {"mss"}


@pytest.mark.parametrize("where", ["simulated", "real"])
def test_accept_returns_after_the_third_segment_arrives(where):
    """"the server's program cannot accept() the connection before the third segment
    arrives" (section 5)."""
    trace = course.simulate("handshake") if where == "simulated" else course.capture("handshake")
    third = first_three(trace).iloc[2]
    events = course.events("handshake") if where == "real" else trace.events
    accept = events[events["call"] == "accept"].iloc[0]
    assert accept["t"] >= third["arrival"]


def test_a_lost_third_segment_is_repaired_by_the_servers_synack_timer():
    """"drop ... segment 2 (the ACK): which side retransmits what, and which state is each
    side in meanwhile?" (section 8, explorer), and "the server sends its SYN-ACK again, with
    the same ISN" (after exercise 5). Section 5 used to state this answer before exercise 5
    asked for it; it no longer does (instructors/writing-exercises.md, rule 8)."""
    scenario = dict(HANDSHAKE_THEN_DATA,
                    faults=[{"drop": {"from": "client", "flags": "A", "nth": [1]}}])
    trace = tcpsim.run(scenario)
    segs = trace.segments
    assert bool(segs.iloc[2]["dropped"])
    rtx = segs.iloc[3]
    assert rtx["flags"] == "SA" and rtx["t"] - segs.iloc[1]["t"] == pytest.approx(1.0)
    assert segs.iloc[4]["flags"] == "A" and segs.iloc[4]["src"] == "client"
    states = trace.states
    server_est = states[(states["host"] == "server") & (states["to"] == "ESTABLISHED")].iloc[0]
    assert server_est["t"] == pytest.approx(segs.iloc[4]["arrival"])
    assert server_est["t"] < 4.0                       # before the client's data


@pytest.mark.parametrize("where", ["simulated", "real"])
def test_refused_connect(where):
    """"the reset has seq 0 and acknowledges the SYN (ack = the SYN's seq + 1) ...
    connect() fails at once with ECONNREFUSED" (section 6)."""
    trace = course.simulate("refused") if where == "simulated" else course.capture("refused")
    syn, rst = trace.segments.iloc[0], trace.segments.iloc[1]
    assert rst["flags"] == "RA" and rst["seq"] == 0 and rst["ack"] == (syn["seq"] + 1) % MOD
    events = trace.events if where == "simulated" else course.events("refused")
    connect = events[events["call"] == "connect"].iloc[0]
    assert connect["result"] == "ECONNREFUSED" and connect["t"] - syn["t"] < 0.01


def test_syn_schedules_and_etimedout():
    """"a textbook TCP sends SYNs at 0, 1, 3, 7, 15, 31, 63 s"; Linux keeps 1 s for four
    retransmissions, then doubles; "connect() fails with ETIMEDOUT after about 2 minutes in
    both profiles"; the real capture's SYNs are at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 68 s
    (section 7)."""
    every_syn_lost = {"hosts": {"client": {}, "server": {}},
                      "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                                  {"at": 0.0, "host": "client", "do": "connect", "to": "server"}],
                      "faults": [{"drop": {"from": "client", "flags": "S"}}]}
    for profile, times in (("rfc9293", [0, 1, 3, 7, 15, 31, 63]),
                           ("linux", [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67])):
        trace = tcpsim.run({**every_syn_lost, "profile": profile})
        assert list(trace.segments["t"].round(3)) == times
        failed = trace.events[trace.events["call"] == "connect"].iloc[0]
        assert failed["result"] == "ETIMEDOUT" and 100 < failed["t"] < 140
    real = course.capture("raw/syn-drop-default-mtu1500").segments["t"]
    assert [round(t) for t in real] == [0, 1, 2, 3, 4, 5, 7, 11, 20, 36, 68]


def test_syn_retries_two_sends_six_syns_in_seven_seconds():
    """"with TCP_SYNCNT = 2, the real kernel sent 6 SYNs and gave up after 7.1 s" — and the
    simulator, which exercise 6's check runs, does the same (section 7)."""
    real = course.capture("raw/syn-drop-syncnt2-mtu1500").segments
    assert (real["flags"] == "S").sum() == 6
    scenario = {"hosts": {"client": {"options": {"syn_retries": 2}}, "server": {}},
                "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                            {"at": 0.0, "host": "client", "do": "connect", "to": "server"}],
                "faults": [{"drop": {"from": "client", "flags": "S"}}]}
    trace = tcpsim.run(scenario)
    assert (trace.segments["flags"] == "S").sum() == 6
    failed = trace.events[trace.events["call"] == "connect"].iloc[0]
    assert failed["result"] == "ETIMEDOUT" and failed["t"] == pytest.approx(7.0)


def test_a_lost_synack_and_both_timers_at_one_second():
    """"after about 1 s the server's SYN-ACK timer and the client's SYN timer run out ...
    the server sends its SYN-ACK again, with the same ISN, and answers the retransmitted SYN
    with one more" (section 7, after exercise 5): 3 SYN-ACKs, 2 SYNs, in both traces."""
    for trace in (course.capture("synack-loss"), course.simulate("synack-loss")):
        segs = trace.segments
        synacks = segs[segs["flags"] == "SA"]
        assert len(synacks) == 3 and synacks["seq"].nunique() == 1
        assert (segs["flags"] == "S").sum() == 2
