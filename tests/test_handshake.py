"""Connection establishment: the three-way handshake, its options, its failures and variants.

Sources: RFC 9293 §3.5 (establishing a connection, Figures 6-8), §3.4.1 (ISN), §3.8.3 (R2),
§3.10.7; RFC 7323 (timestamps, window scale), RFC 2018 (SACK-permitted), RFC 6298 (timers),
RFC 6528 (ISN); docs/linux-facts.md §1, §2, §6a, §7a, §7b for the ``linux`` profile.
"""
from __future__ import annotations

import pytest

from conftest import (MOD, act, entered, events, flows, fmt, isn, path, payload_pattern,
                      rel, run, scenario, segs, states)


def handshake(trace):
    s = segs(trace)
    return s[0], s[1], s[2]


# ----------------------------------------------------------------- linux options and windows
def test_linux_mtu1500_syn_options_and_windows():
    """linux-facts §1.1 (MTU 1500): SYN `mss 1460,sackOK,TS val X ecr 0,nop,wscale 10` win
    64240; SYN-ACK same order with ecr = the SYN's TSval, win 65160; 3rd ACK `.` win 63 with
    TSecr = the SYN-ACK's TSval; the server's first ACK/data win 64, client's 63."""
    t = run(scenario([act(0.25, "client", "send", bytes=100),
                      act(0.5, "server", "send", bytes=50)]))
    syn, synack, ack3 = handshake(t)
    assert (syn["src"], syn["flags"], syn["win"]) == ("client", "S", 64240), fmt(t)
    assert list(syn["options"]) == ["mss", "sack_perm", "ts", "wscale"]
    assert syn["options"]["mss"] == 1460 and syn["options"]["sack_perm"] is True
    assert syn["options"]["wscale"] == 10 and syn["options"]["ts"][1] == 0
    assert (synack["src"], synack["flags"], synack["win"]) == ("server", "SA", 65160)
    assert list(synack["options"]) == ["mss", "sack_perm", "ts", "wscale"]
    assert synack["options"]["mss"] == 1460 and synack["options"]["wscale"] == 10
    assert synack["options"]["ts"][1] == syn["options"]["ts"][0]      # TSecr echoes the SYN
    assert (ack3["src"], ack3["flags"], ack3["len"], ack3["win"]) == ("client", "A", 0, 63)
    assert list(ack3["options"]) == ["ts"]                           # nop,nop,TS only
    assert ack3["options"]["ts"][1] == synack["options"]["ts"][0]
    # The 3rd ACK carries no data: the first data segment is separate (facts §1.1).
    data = segs(t, data=True)
    assert data[0]["src"] == "client" and data[0]["len"] == 100 and data[0]["i"] > ack3["i"]
    for s in segs(t)[3:]:
        assert s["win"] == (63 if s["src"] == "client" else 64), fmt(t)
        assert "mss" not in s["options"] and "wscale" not in s["options"]


def test_linux_mtu65536_windows():
    """linux-facts §1.1 / §10 (default lo, MTU 65536): SYN `mss 65495` win 65495, SYN-ACK win
    65483, then both sides advertise raw window 64."""
    t = run(scenario([act(0.25, "client", "send", bytes=100),
                      act(0.5, "server", "send", bytes=50)], mtu=65536))
    syn, synack, ack3 = handshake(t)
    assert syn["options"]["mss"] == 65495 and syn["win"] == 65495, fmt(t)
    assert synack["options"]["mss"] == 65495 and synack["win"] == 65483
    assert list(synack["options"]) == ["mss", "sack_perm", "ts", "wscale"]
    assert ack3["win"] == 64
    for s in segs(t)[3:]:
        assert s["win"] == 64, fmt(t)


def test_rfc9293_profile_mss_option_only():
    """rfc9293 profile: the textbook machine announces only the MSS option (RFC 9293
    §3.7.1, MSS = MTU - 40) and no option appears after the SYNs."""
    t = run(scenario([act(0.25, "client", "send", bytes=100)], profile="rfc9293"))
    syn, synack, ack3 = handshake(t)
    assert syn["options"] == {"mss": 1460}, fmt(t)
    assert synack["options"] == {"mss": 1460}
    assert ack3["options"] == {}
    assert 0 < syn["win"] <= 65535 and 0 < synack["win"] <= 65535
    for s in segs(t)[2:]:
        assert s["options"] == {}


def test_peer_without_options_gets_none_back():
    """RFC 7323 §2.2 / §3.2, RFC 2018 §2: a SYN-ACK carries wscale, TS and SACK-permitted only
    if the SYN offered them. A linux server answering an rfc9293 (MSS-only) client replies
    with the MSS option alone and never sends TS/SACK afterwards."""
    t = run(scenario([act(0.25, "client", "send", bytes=3000),
                      act(0.5, "server", "send", bytes=3000)], profile="linux",
                     client={"timestamps": False, "sack": False, "wscale": False}))
    syn, synack, _ = handshake(t)
    assert syn["options"] == {"mss": 1460}, fmt(t)
    assert synack["options"] == {"mss": 1460}, fmt(t)
    for s in segs(t)[2:]:
        assert "ts" not in s["options"] and "sack" not in s["options"], fmt(t)
    # without timestamps a full segment carries 1460 bytes (facts §1.2)
    assert max(s["len"] for s in segs(t, data=True)) == 1460


# ----------------------------------------------------------------- sequence numbers
def test_ack_is_isn_plus_one_absolute():
    """RFC 9293 §3.5 Figure 6: <SEQ=100><CTL=SYN>, <SEQ=300><ACK=101><CTL=SYN,ACK>,
    <SEQ=101><ACK=301><CTL=ACK>; with fixed ISNs the absolute numbers follow."""
    t = run(scenario(client_isn=100, server_isn=300))
    syn, synack, ack3 = handshake(t)
    assert (syn["seq"], syn["flags"]) == (100, "S"), fmt(t)
    assert (synack["seq"], synack["ack"], synack["flags"]) == (300, 101, "SA")
    assert (ack3["seq"], ack3["ack"], ack3["flags"]) == (101, 301, "A")
    assert (syn["rel_seq"], syn["rel_ack"]) == (0, None)
    assert (synack["rel_seq"], synack["rel_ack"]) == (0, 1)
    assert (ack3["rel_seq"], ack3["rel_ack"]) == (1, 1)
    assert isn(t, "client") == 100 and isn(t, "server") == 300
    assert path(t, "client") == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    assert path(t, "server")[-2:] == ["SYN-RECEIVED", "ESTABLISHED"]
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok"]


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_isn_near_wrap_data_transfer(profile):
    """RFC 9293 §3.4: sequence numbers are modulo 2**32; with ISNs just below 2**32 the data
    transfer, the FINs and the relative numbers wrap correctly."""
    c_isn, s_isn = 4294967290, 4294967295
    n_c, n_s = 5000, 4000
    t = run(scenario([act(0.1, "client", "send", bytes=n_c), act(0.2, "server", "send", bytes=n_s),
                      act(0.5, "client", "close"), act("eof", "server", "close")],
                     profile=profile, client_isn=c_isn, server_isn=s_isn, until=400))
    assert t.delivered["server"] == payload_pattern(n_c), fmt(t)
    assert t.delivered["client"] == payload_pattern(n_s), fmt(t)
    for s in segs(t):
        assert 0 <= s["seq"] < MOD and 0 <= s["ack"] < MOD
        base = c_isn if s["src"] == "client" else s_isn
        other = s_isn if s["src"] == "client" else c_isn
        assert s["rel_seq"] == rel(s["seq"], base)
        if "A" in s["flags"]:
            assert s["rel_ack"] == rel(s["ack"], other)
    # client data covers rel 1..n_c exactly once, in order
    cdata = [s for s in segs(t, src="client", data=True) if not s["retransmission"]]
    expect = 1
    for s in cdata:
        assert s["rel_seq"] == expect and s["seq"] == (c_isn + expect) % MOD
        expect += s["len"]
    assert expect == n_c + 1
    fin = [s for s in segs(t, src="client") if "F" in s["flags"]][0]
    assert fin["seq"] == (c_isn + 1 + n_c) % MOD
    last = segs(t)[-1]
    assert last["src"] == "client" and last["ack"] == (s_isn + 1 + n_s + 1) % MOD
    assert set(path(t, "client")[-2:]) == {"TIME-WAIT", "CLOSED"}
    assert path(t, "server")[-1] == "CLOSED"


# ----------------------------------------------------------------- simultaneous open
@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_simultaneous_open(profile):
    """RFC 9293 §3.5 Figure 8: both sides send SYN, each receives the other's SYN in SYN-SENT
    (-> SYN-RECEIVED) and answers SYN,ACK with its own ISN; each SYN,ACK moves the receiver to
    ESTABLISHED. No listener is involved."""
    t = run(scenario([act(0.0, "client", "connect", to="server"),
                      act(0.0, "server", "connect", to="client"),
                      act(0.5, "client", "send", bytes=300), act(0.6, "server", "send", bytes=200)],
                     open=False, profile=profile, client_isn=1000, server_isn=9000, delay=0.001,
                     until=5))
    for host in ("client", "server"):
        assert path(t, host)[:4] == ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"], fmt(t)
        assert [e["result"] for e in events(t, host=host, call="connect")] == ["ok"], fmt(t)
    syns = [s for s in segs(t) if s["flags"] == "S"]
    assert sorted(s["seq"] for s in syns) == [1000, 9000]
    synacks = [s for s in segs(t) if s["flags"] == "SA"]
    by_src = {s["src"]: s for s in synacks}
    assert by_src["client"]["seq"] == 1000 and by_src["client"]["ack"] == 9001, fmt(t)
    assert by_src["server"]["seq"] == 9000 and by_src["server"]["ack"] == 1001, fmt(t)
    assert t.delivered["server"] == payload_pattern(300)
    assert t.delivered["client"] == payload_pattern(200)
    assert not any("R" in s["flags"] for s in segs(t)), fmt(t)
    # One connection, so one incarnation number, and Wireshark-style relative acks throughout.
    assert len({s["conn"] for s in segs(t)}) == 1, fmt(t)
    for s in segs(t):
        if "A" in s["flags"]:
            assert s["rel_ack"] == rel(s["ack"], 9000 if s["src"] == "client" else 1000), fmt(t)


def test_simultaneous_open_matches_the_capture_segment_for_segment():
    """simultaneous-open.pcap against its scenario, every segment: flags, relative numbers,
    length, the raw window field and the option kinds. An active opener's SYN-ACK keeps the
    window its SYN announced (64240, from the MSS without timestamps: tcp_connect_init()),
    not a passive open's 65160 (tcp_openreq_init_rwin()), so the windows after it are 63."""
    import tcpsim
    from tcpsim.course import capture_path
    real = tcpsim.read_pcap(capture_path("simultaneous-open")).segments
    sim = tcpsim.run(str(capture_path("simultaneous-open").with_suffix(".json"))).segments
    cols = ["flags", "rel_seq", "rel_ack", "len", "win"]
    assert len(real) == len(sim)
    assert real[cols].fillna(-1).values.tolist() == sim[cols].fillna(-1).values.tolist()
    assert [sorted(o) for o in real["options"]] == [sorted(o) for o in sim["options"]]
    synack_windows = set(sim.loc[sim["flags"] == "SA", "win"])
    assert synack_windows == set(sim.loc[sim["flags"] == "S", "win"])


# ----------------------------------------------------------------- refused
def test_connect_refused_no_listener():
    """linux-facts §6a / RFC 9293 §3.10.7.1: a SYN to a port nobody listens on gets
    `[R.] seq 0 ack ISN+1 win 0` without options; connect() fails with ECONNREFUSED and the
    socket goes SYN-SENT -> CLOSED (RFC 9293 §3.10.7.3 second check)."""
    t = run(scenario([act(0.0, "client", "connect", to="server")], open=False, client_isn=777))
    f = flows(t)
    assert [x[:2] for x in f] == [("client", "S"), ("server", "RA")], fmt(t)
    rst = segs(t)[1]
    assert rst["seq"] == 0 and rst["ack"] == 778 and rst["win"] == 0 and rst["options"] == {}
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ECONNREFUSED"]
    assert path(t, "client") == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert entered(t, "client", "CLOSED")[0] == pytest.approx(rst["arrival"])


# ----------------------------------------------------------------- SYN loss
def syn_times(t):
    return [s["t"] for s in segs(t, src="client", flags="S")]


def test_syn_loss_linux_default_schedule():
    """linux-facts §7a (tcp_syn_retries 6, tcp_syn_linear_timeouts 4): SYNs at 0,1,2,3,4,5,7,
    11,19,35,68 s, all identical but TSval; connect() -> ETIMEDOUT at the next expiry
    (measured 133.7 s with jiffy drift; the simulator has none: 131 s +- 3 s)."""
    t = run(scenario(faults=[{"drop": {"from": "client", "flags": "S"}}], until=300))
    times = syn_times(t)
    # The model of facts §7a: RTO 1 s for the first 5 intervals, then 2, 4, 8, 16, 32 s.
    assert times == pytest.approx([0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67], abs=0.05), times
    # ... and within the accumulated jiffy drift (<= 1.2 s) of the measured times.
    measured = [0.000, 1.003, 2.027, 3.051, 4.075, 5.099, 7.115, 11.339, 19.531, 35.659, 68.171]
    assert times == pytest.approx(measured, abs=1.2), times
    syns = segs(t, src="client", flags="S")
    assert len({s["seq"] for s in syns}) == 1
    assert [s["retransmission"] for s in syns] == [False] + [True] * 10
    tsvals = [s["options"]["ts"][0] for s in syns]
    assert tsvals == sorted(tsvals) and len(set(tsvals)) == len(tsvals)
    timeouts = events(t, host="client", call="connect")
    assert [e["result"] for e in timeouts] == ["ETIMEDOUT"], fmt(t)
    assert 128 <= timeouts[0]["t"] <= 134
    assert path(t, "client") == ["CLOSED", "SYN-SENT", "CLOSED"]


def test_syn_loss_linux_syncnt_2():
    """linux-facts §7a (TCP_SYNCNT=2): SYNs at 0,1,2,3,4,5 s, ETIMEDOUT at 7 s (give-up is
    time based: first expiry >= (2^3 - 1) s)."""
    t = run(scenario(faults=[{"drop": {"from": "client", "flags": "S"}}],
                     client={"syn_retries": 2}, until=60))
    assert syn_times(t) == pytest.approx([0, 1, 2, 3, 4, 5], abs=0.05), fmt(t)
    timeouts = events(t, host="client", call="connect")
    assert [e["result"] for e in timeouts] == ["ETIMEDOUT"]
    assert timeouts[0]["t"] == pytest.approx(7.0, abs=0.2)


def test_syn_loss_rfc9293_doubling():
    """RFC 6298 §2.1 / §5.5 (and RFC 9293 §3.8.1): initial RTO 1 s, doubled at every
    retransmission; after syn_retries retransmissions the connect fails (RFC 9293 §3.8.3 R2)."""
    t = run(scenario(faults=[{"drop": {"from": "client", "flags": "S"}}], profile="rfc9293",
                     client={"syn_retries": 4}, until=100))
    times = syn_times(t)
    assert times == pytest.approx([0, 1, 3, 7, 15], abs=0.05), fmt(t)
    timeouts = events(t, host="client", call="connect")
    assert [e["result"] for e in timeouts] == ["ETIMEDOUT"]
    assert timeouts[0]["t"] == pytest.approx(31, abs=0.1)


# ----------------------------------------------------------------- SYN-ACK loss
def test_synack_lost_once_recovered():
    """RFC 9293 §3.8.1 / linux-facts §7b: the first SYN-ACK is lost; a second SYN-ACK (same
    ISN, ack = client ISN+1, marked as retransmission) completes the handshake."""
    t = run(scenario([act(3.0, "client", "send", bytes=100)],
                     faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1]}}],
                     client_isn=5000, server_isn=70000))
    sas = segs(t, src="server", flags="SA")
    assert len(sas) >= 2, fmt(t)
    assert sas[0]["dropped"] and not sas[1]["dropped"]
    assert all(s["seq"] == 70000 and s["ack"] == 5001 for s in sas)
    assert sas[1]["retransmission"] is True
    assert 0.9 <= sas[1]["t"] <= 1.1, fmt(t)
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok"]
    assert t.delivered["server"] == payload_pattern(100)


def test_synack_timer_schedule():
    """linux-facts §7b: with no duplicate SYNs reaching it, the server retransmits its
    SYN-ACK on its own timer at +1, +3, +7, +15, +31 s (synack_retries 5), then drops the
    request silently (no RST) and the client's connect fails on its own SYN schedule."""
    t = run(scenario(faults=[{"drop": {"from": "server", "flags": "SA"}},
                             {"drop": {"from": "client", "flags": "S", "nth": list(range(2, 30))}}],
                     until=300))
    sas = segs(t, src="server", flags="SA")
    t0 = sas[0]["t"]
    assert [s["t"] - t0 for s in sas] == pytest.approx([0, 1, 3, 7, 15, 31], abs=0.05), fmt(t)
    assert not segs(t, src="server", flags="R") and not segs(t, src="server", flags="RA")
    server_child = path(t, "server")
    assert server_child[-2:] == ["SYN-RECEIVED", "CLOSED"], fmt(t)
    closed_at = entered(t, "server", "CLOSED")[0]
    assert 60 <= closed_at - t0 <= 70     # the request is dropped ~63 s after the first SYN-ACK
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ETIMEDOUT"]


def test_duplicate_syn_gets_immediate_synack():
    """linux-facts §7b: every retransmitted SYN that reaches a SYN-RECEIVED request gets an
    immediate SYN-ACK (same ISN). The first two SYN-ACKs are lost and the client's second SYN
    is held back 0.5 s so that it arrives between the server's own timer expiries."""
    t = run(scenario(faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1, 2]}},
                             {"delay": {"from": "client", "flags": "S", "nth": [2], "extra": 0.5}}],
                     server_isn=1234))
    syn2 = segs(t, src="client", flags="S")[1]
    sas = segs(t, src="server", flags="SA")
    replies = [s for s in sas if s["t"] == pytest.approx(syn2["arrival"], abs=1e-9)]
    assert replies, fmt(t)
    assert replies[0]["seq"] == 1234 and not replies[0]["dropped"]
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok"], fmt(t)
    assert entered(t, "client", "ESTABLISHED")[0] == pytest.approx(replies[0]["arrival"])


# ----------------------------------------------------------------- two-way handshake
def test_two_way_handshake_server_established_on_syn():
    """Teaching variant (`handshake: "two-way"`): the server is ESTABLISHED as soon as it
    sends its SYN-ACK; no third segment is needed (contrast RFC 9293 §3.5)."""
    t = run(scenario([act(0.5, "server", "send", bytes=100)],
                     server={"handshake": "two-way"},
                     faults=[{"drop": {"from": "client", "flags": "A", "nth": [1]}}]))
    assert path(t, "server")[-2:] == ["LISTEN", "ESTABLISHED"] or \
        path(t, "server") == ["LISTEN", "ESTABLISHED"], fmt(t)
    syn = segs(t, src="client", flags="S")[0]
    assert entered(t, "server", "ESTABLISHED")[0] == pytest.approx(syn["arrival"]), fmt(t)
    assert "SYN-RECEIVED" not in path(t, "server")
    assert t.delivered["client"] == payload_pattern(100), fmt(t)


def test_two_way_handshake_both_sides_two_segments():
    """Two-way on both hosts: exactly S and SA, then data; both ESTABLISHED."""
    t = run(scenario([act(0.5, "client", "send", bytes=10)],
                     client={"handshake": "two-way"}, server={"handshake": "two-way"}))
    f = flows(t)
    assert [x[:2] for x in f[:2]] == [("client", "S"), ("server", "SA")], fmt(t)
    assert f[2][0] == "client" and f[2][4] == 10, fmt(t)   # no pure 3rd ACK before the data
    assert t.delivered["server"] == payload_pattern(10)
    assert path(t, "client")[-1] == "ESTABLISHED" and path(t, "server")[-1] == "ESTABLISHED"


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_two_way_server_retransmits_its_synack_not_a_byte(profile):
    """Two-way on both hosts, and the client sends nothing: the server's SYN-ACK is the only
    thing unacknowledged. Its retransmission timer sends the SYN-ACK again (seq = ISN, no
    data), never a data byte at the SYN's sequence number; the greeting still arrives."""
    t = run(scenario([{"after": "accept", "host": "server", "do": "send", "data": "hello"}],
                     client={"handshake": "two-way"}, server={"handshake": "two-way"},
                     faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1]}}]
                     if profile == "linux" else [], until=5, profile=profile))
    s_isn = isn(t, "server")
    for s in segs(t, src="server"):
        assert not (s["seq"] == s_isn and s["len"] > 0), fmt(t)
    again = [s for s in segs(t, src="server", flags="SA") if s["retransmission"]]
    assert again and again[0]["seq"] == s_isn and again[0]["len"] == 0, fmt(t)
    assert t.delivered["client"] == b"hello", fmt(t)


# ----------------------------------------------------------------- ISN strategies
def client_isn_of(**kw):
    t = run(scenario(**kw))
    return segs(t, src="client", flags="S")[0]["seq"], t


def test_isn_zero():
    """Teaching variant isn_strategy "zero": both SYNs carry sequence number 0."""
    t = run(scenario(client={"isn_strategy": "zero"}, server={"isn_strategy": "zero"}))
    syn, synack, ack3 = handshake(t)
    assert syn["seq"] == 0 and synack["seq"] == 0 and synack["ack"] == 1 and ack3["ack"] == 1


def test_isn_clock_ticks_every_4us():
    """RFC 9293 §3.4.1: the ISN generator is a 32-bit clock whose low bit is incremented
    roughly every 4 µs; connecting 1 s later gives an ISN larger by 250000 (same seed)."""
    a, _ = client_isn_of(open=False, actions=[act(0.0, "client", "connect", to="server")],
                         profile="rfc9293")
    b, _ = client_isn_of(open=False, actions=[act(1.0, "client", "connect", to="server")],
                         profile="rfc9293")
    assert rel(b, a) == pytest.approx(250000, abs=1)


def test_isn_rfc6528_per_four_tuple_and_clock():
    """RFC 6528 §3 / linux-facts §2: ISN = hash(4-tuple, secret) + a 64 ns clock. Another
    source port gives an unrelated ISN; the same 4-tuple 50 ms later gives +781250."""
    base = dict(open=False, seed=5)
    a, _ = client_isn_of(actions=[act(0.0, "client", "connect", to="server")], **base)
    b, _ = client_isn_of(actions=[act(0.05, "client", "connect", to="server")], **base)
    c, _ = client_isn_of(actions=[act(0.0, "client", "connect", to="server")],
                         client_port=40001, **base)
    assert rel(b, a) == pytest.approx(781250, abs=1)
    assert abs(sdiff32(c, a)) > 1000000


def sdiff32(a, b):
    d = (a - b) % MOD
    return d - MOD if d >= 2 ** 31 else d


def test_isn_server_independent_of_client():
    """linux-facts §2: the server's ISN is its own hash of the reversed tuple, unrelated to
    the client's."""
    t = run(scenario(seed=11))
    syn, synack, _ = handshake(t)
    assert abs(sdiff32(synack["seq"], syn["seq"])) > 1000


def test_isn_determinism_per_seed():
    """The contract: the same scenario and seed give the same ISNs; another seed others."""
    a, _ = client_isn_of(seed=3)
    a2, _ = client_isn_of(seed=3)
    b, _ = client_isn_of(seed=4)
    assert a == a2
    assert a != b


# ----------------------------------------------------------------- a new incarnation
def test_reconnect_is_a_new_incarnation():
    """The contract (`conn`) / RFC 9293 §3.4.1: after the first connection is over the client
    connects again from the same port; the new incarnation's rows carry conn 1 and its
    relative numbers start again at 0. With RFC 6528 ISNs the same 4-tuple 70 s later gets an
    ISN larger by 70 s x 15.625 MHz (mod 2**32), far from the old sequence space."""
    t = run(scenario([act(0.5, "client", "send", bytes=100), act(1.0, "client", "close"),
                      act("eof", "server", "close"),
                      act(70.0, "client", "connect", to="server"),
                      act(70.5, "client", "send", bytes=200)], until=200))
    syns = segs(t, src="client", flags="S")
    assert [s["conn"] for s in syns] == [0, 1], fmt(t)
    assert all(s["rel_seq"] == 0 for s in syns)
    assert rel(syns[1]["seq"], syns[0]["seq"]) == pytest.approx((70 * 15625000) % MOD, abs=1)
    second = [s for s in segs(t) if s["conn"] == 1]
    assert [s["flags"] for s in second[:3]] == ["S", "SA", "A"], fmt(t)
    assert second[1]["rel_ack"] == 1 and second[2]["rel_seq"] == 1
    assert t.delivered["server"] == payload_pattern(100) + payload_pattern(200)
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok", "ok"]


def test_synack_drop_all_linux_schedule():
    """linux-facts §7b (every SYN-ACK dropped on the client's input): the client keeps its
    §7a SYN schedule; the server answers every SYN at once, retransmits on its own timer too,
    the request expires after ~63-67 s; a later SYN creates a new request whose own timer
    gives SYN-ACKs at +1, +3, +7, +15, +31 s; connect() fails with ETIMEDOUT (~131 s without
    jiffy drift, measured 135.2 s)."""
    t = run(scenario(faults=[{"drop": {"from": "server", "flags": "SA"}}], until=300))
    syns = segs(t, src="client", flags="S")
    sas = segs(t, src="server", flags="SA")
    assert [s["t"] for s in syns] == pytest.approx([0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67], abs=0.05)
    for syn in syns:          # each SYN answered immediately
        assert any(a["t"] == pytest.approx(syn["arrival"], abs=1e-9) for a in sas), (syn["t"], fmt(t))
    # the server's own timer fired between client SYNs too (7, 11, 19, 35 s: two SYN-ACKs)
    for when in (1, 7, 11, 19, 35):
        assert len([a for a in sas if abs(a["t"] - when) < 0.05]) == 2, (when, fmt(t))
    last_syn = syns[-1]
    later = [a["t"] - last_syn["arrival"] for a in sas if a["t"] > last_syn["arrival"] + 0.5]
    assert later == pytest.approx([1, 3, 7, 15, 31], abs=0.05), fmt(t)
    requests = [r for r in t.doc["states"] if r["host"] == "server" and r["to"] == "SYN-RECEIVED"]
    assert len(requests) == 2 and 63 <= requests[1]["t"] <= 70, fmt(t)
    connect = events(t, host="client", call="connect")
    assert [e["result"] for e in connect] == ["ETIMEDOUT"] and 128 <= connect[0]["t"] <= 136


def test_connect_takes_over_own_time_wait():
    """linux tcp_tw_reuse (loopback): the client closed first and sits in TIME-WAIT; a new
    connect() 1 s later on the same ports ends the TIME-WAIT at once (TIME-WAIT -> CLOSED)
    and opens a new incarnation that completes normally."""
    t = run(scenario([act(0.5, "client", "close"), act("eof", "server", "close"),
                      act(1.5, "client", "connect", to="server")], until=200))
    client_states = [(s["from"], s["to"], s["conn"]) for s in states(t, socket="client")]
    assert ("TIME-WAIT", "CLOSED", 0) in client_states, fmt(t)
    takeover = [s for s in states(t, socket="client")
                if s["from"] == "TIME-WAIT" and s["to"] == "CLOSED"]
    assert takeover[0]["t"] == pytest.approx(1.5) and "connect()" in takeover[0]["cause"]
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok", "ok"]
    assert [s["conn"] for s in segs(t, src="client", flags="S")] == [0, 1]
