"""Resets: active RSTs (close with unread data, abort, SO_LINGER 0), RST acceptability, RST
in SYN-RECEIVED, RST to data after close().

Sources: RFC 9293 §3.5.2 (reset generation), §3.5.3 (reset processing), §3.10.5 (ABORT),
§3.10.7.4 (first and second checks); RFC 5961 §3 (blind reset: challenge ACK); RFC 1122
§4.2.2.13 (close with pending data -> RST); docs/linux-facts.md §6 for the ``linux`` profile.
"""
from __future__ import annotations

import pytest

from conftest import act, entered, events, fmt, path, payload_pattern, run, scenario, segs

C_ISN, S_ISN = 100000, 500000


def rsts(trace, src=None):
    return [s for s in segs(trace, src=src) if "R" in s["flags"]]


def results(trace, host):
    return [e["result"] for e in events(trace, host=host)]


# ----------------------------------------------------------------- active resets
@pytest.mark.parametrize("profile,after", [("linux", 0), ("rfc9293", "ENOTCONN")])
def test_a_read_after_the_reported_reset_returns_0(profile, after):
    """linux-facts §6b: recv() on a reset connection gives ECONNRESET once, then 0 (tcp_done()
    shuts the socket down both ways), every time; RFC 9293 §3.10.3: a RECEIVE in CLOSED is
    "error: connection does not exist". The client reads only when told; each explicit read
    after the one that took the error records that result, and nothing is sent."""
    t = run(scenario([act(0.0, "client", "read", mode="off"),
                      act(0.0, "server", "read", mode="off"),
                      act(0.5, "client", "send", bytes=100),
                      act(1.0, "server", "close"),
                      act(1.5, "client", "read", bytes=1000), act(2.0, "client", "read", bytes=1000),
                      act(2.5, "client", "read", bytes=1000)], profile=profile))
    assert len(rsts(t)) == 1, fmt(t)
    reads = [(e["t"], e["result"]) for e in events(t, host="client", call="read")]
    assert reads == [(pytest.approx(1.5), "ECONNRESET"), (pytest.approx(2.0), after),
                     (pytest.approx(2.5), after)], fmt(t)
    assert segs(t)[-1]["flags"] == "RA" and path(t, "client")[-1] == "CLOSED"


def test_close_with_unread_data_sends_rst():
    """linux-facts §6b / RFC 1122 §4.2.2.13: the server stops reading, 100 B arrive, the
    server close()s: `[R.] seq = snd_nxt, ack = rcv_nxt` (covering the unread bytes), with
    the TS option and the current window, no FIN. The client sees ECONNRESET once, then
    send() gives EPIPE."""
    t = run(scenario([act(0.0, "server", "read", mode="off"),
                      act(0.5, "client", "send", bytes=100),
                      act(1.0, "server", "close"),
                      act(2.0, "client", "send", bytes=10)],
                     client_isn=C_ISN, server_isn=S_ISN))
    r = rsts(t)
    assert len(r) == 1 and r[0]["src"] == "server", fmt(t)
    r = r[0]
    assert r["flags"] == "RA" and r["t"] == pytest.approx(1.0)
    assert r["seq"] == S_ISN + 1 and r["ack"] == C_ISN + 1 + 100
    assert "ts" in r["options"] and r["win"] > 0
    assert not [s for s in segs(t, src="server") if "F" in s["flags"]]
    assert "ECONNRESET" in results(t, "client"), fmt(t)
    assert [e["result"] for e in events(t, host="client", call="send")][-1] == "EPIPE"
    assert path(t, "client")[-1] == "CLOSED" and path(t, "server")[-1] == "CLOSED"
    assert "TIME-WAIT" not in path(t, "client") + path(t, "server")
    assert t.delivered["server"] == b""


def test_abort_sends_rst():
    """RFC 9293 §3.10.5 (ABORT in ESTABLISHED: send a reset, enter CLOSED) / linux-facts §6:
    `[R.] seq = snd_nxt ack = rcv_nxt`; the peer reports ECONNRESET and is CLOSED."""
    t = run(scenario([act(0.5, "client", "send", bytes=300), act(0.6, "server", "send", bytes=70),
                      act(1.0, "client", "abort")], client_isn=C_ISN, server_isn=S_ISN))
    r = rsts(t)
    assert len(r) == 1 and r[0]["src"] == "client" and r[0]["flags"] == "RA", fmt(t)
    assert r[0]["seq"] == C_ISN + 1 + 300 and r[0]["ack"] == S_ISN + 1 + 70
    assert "ECONNRESET" in results(t, "server"), fmt(t)
    assert path(t, "client")[-1] == "CLOSED" and path(t, "server")[-1] == "CLOSED"
    assert entered(t, "server", "CLOSED")[-1] == pytest.approx(r[0]["arrival"])
    assert len(segs(t)) == len([s for s in segs(t) if s["t"] <= r[0]["t"]])   # nothing after


def test_linger0_close_sends_rst():
    """linux-facts §6c (SO_LINGER {1,0}): close() with nothing unread sends the same
    `[R.] seq = snd_nxt, ack = rcv_nxt` instead of a FIN; the client gets ECONNRESET."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(0.6, "server", "send", bytes=20),
                      act(1.0, "server", "close")], server={"linger0": True},
                     client_isn=C_ISN, server_isn=S_ISN))
    r = rsts(t)
    assert len(r) == 1 and r[0]["src"] == "server" and r[0]["flags"] == "RA", fmt(t)
    assert r[0]["seq"] == S_ISN + 1 + 20 and r[0]["ack"] == C_ISN + 1 + 10
    assert "ts" in r[0]["options"]
    assert not [s for s in segs(t) if "F" in s["flags"]]
    assert "ECONNRESET" in results(t, "client"), fmt(t)
    assert path(t, "client")[-1] == "CLOSED"


# ----------------------------------------------------------------- RST acceptability
@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_rst_exact_sequence_resets(profile):
    """RFC 9293 §3.10.7.4 second check / RFC 5961 §3.2: an RST whose sequence number is
    exactly RCV.NXT resets the connection (ECONNRESET, CLOSED)."""
    t = run(scenario([act(0.5, "client", "send", bytes=10)],
                     faults=[{"inject": {"at": 1.0, "from": "client", "flags": "R",
                                         "seq": C_ISN + 11}}],
                     profile=profile, client_isn=C_ISN, server_isn=S_ISN))
    assert path(t, "server")[-1] == "CLOSED", fmt(t)
    assert entered(t, "server", "CLOSED")[-1] == pytest.approx(1.0 + 0.00001)
    assert "ECONNRESET" in results(t, "server")
    assert not [s for s in segs(t, src="server") if s["t"] >= 1.0], fmt(t)  # an RST is not answered


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_rst_in_window_wrong_seq_gets_challenge_ack(profile):
    """RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second check): an RST in the window but not exactly
    at RCV.NXT is not accepted; the receiver sends a challenge ACK (seq = SND.NXT,
    ack = RCV.NXT) and stays ESTABLISHED."""
    t = run(scenario([act(0.5, "client", "send", bytes=10)],
                     faults=[{"inject": {"at": 1.0, "from": "client", "flags": "R",
                                         "seq": C_ISN + 11 + 1000}}],
                     profile=profile, client_isn=C_ISN, server_isn=S_ISN))
    assert path(t, "server")[-1] == "ESTABLISHED", fmt(t)
    answer = [s for s in segs(t, src="server") if s["t"] >= 1.0]
    assert len(answer) == 1 and answer[0]["flags"] == "A", fmt(t)
    assert answer[0]["seq"] == S_ISN + 1 and answer[0]["ack"] == C_ISN + 11
    assert answer[0]["t"] == pytest.approx(1.0 + 0.00001)
    assert "ECONNRESET" not in results(t, "server")


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_rst_out_of_window_ignored(profile):
    """RFC 9293 §3.10.7.4 first check: an unacceptable segment with RST is dropped silently
    (no ACK); the connection is unaffected."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(2.0, "client", "send", bytes=10)],
                     faults=[{"inject": {"at": 1.0, "from": "client", "flags": "R",
                                         "seq": (C_ISN + 11 + 2 ** 31) % 2 ** 32}}],
                     profile=profile, client_isn=C_ISN, server_isn=S_ISN))
    assert path(t, "server")[-1] == "ESTABLISHED", fmt(t)
    assert not [s for s in segs(t, src="server") if 1.0 <= s["t"] < 2.0], fmt(t)
    assert t.delivered["server"] == payload_pattern(10) * 2


def test_rst_with_ack_in_syn_sent_wrong_ack_ignored():
    """RFC 9293 §3.10.7.3 first/second check: in SYN-SENT an RST is acceptable only if its ACK
    acknowledges our SYN; an RST,ACK with another ack is dropped and the handshake goes on."""
    t = run(scenario(faults=[{"inject": {"at": 0.0, "from": "server", "flags": "RA", "seq": 0,
                                         "ack": C_ISN + 5}},
                             {"drop": {"from": "client", "flags": "S", "nth": [1]}}],
                     client_isn=C_ISN, server_isn=S_ISN))
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok"], fmt(t)


# ----------------------------------------------------------------- RST in SYN-RECEIVED
def test_rst_in_syn_received_passive_returns_to_listen():
    """RFC 9293 §3.10.7.4 second check (SYN-RECEIVED): "If this connection was initiated with
    a passive OPEN ... return this connection to the LISTEN state". The SYN-ACK is lost, an
    acceptable RST reaches the request; the listener then accepts the client's retransmitted
    SYN and the handshake completes."""
    t = run(scenario([act(2.0, "client", "send", bytes=10)],
                     faults=[{"drop": {"from": "server", "flags": "SA", "nth": [1]}},
                             {"inject": {"at": 0.5, "from": "client", "flags": "R",
                                         "seq": C_ISN + 1}}],
                     client_isn=C_ISN, server_isn=S_ISN))
    server_rows = [(r["from"], r["to"]) for r in
                   [x for x in t.doc["states"] if x["host"] == "server"]]
    assert ("SYN-RECEIVED", "LISTEN") in server_rows, fmt(t)
    back = [x for x in t.doc["states"] if x["host"] == "server" and x["to"] == "LISTEN"
            and x["from"] == "SYN-RECEIVED"][0]
    assert back["t"] == pytest.approx(0.5 + 0.00001)
    assert "ECONNREFUSED" not in results(t, "server") and "ECONNRESET" not in results(t, "server")
    # the request is gone: no SYN-ACK retransmission from it at ~1 s other than the reply to
    # the client's retransmitted SYN, and the connection is then established
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok"], fmt(t)
    assert t.delivered["server"] == payload_pattern(10)
    final = {r["socket"]: r["to"] for r in t.doc["states"]}
    assert final["server:listen"] == "LISTEN"


# ----------------------------------------------------------------- data after close()
def test_data_after_close_gets_rst():
    """linux-facts §6d / RFC 1122 §4.2.2.13 (RFC 9293 §3.10.7.4 "segment text" after CLOSE):
    the client close()d (orphan, FIN-WAIT-2); 10 B from the server then get a no-socket style
    `[R] seq = the segment's ack`, window 0, no options. The server's connection is reset:
    its application sees ECONNRESET, a later send() EPIPE."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(1.0, "client", "close"),
                      act(2.0, "server", "send", bytes=10), act(3.0, "server", "send", bytes=10)],
                     client_isn=C_ISN, server_isn=S_ISN))
    data = [s for s in segs(t, src="server", data=True)]
    assert data and data[0]["t"] == pytest.approx(2.0), fmt(t)
    r = rsts(t, src="client")
    assert len(r) == 1, fmt(t)
    assert r[0]["flags"] == "R" and r[0]["seq"] == data[0]["ack"] and r[0]["win"] == 0
    assert r[0]["options"] == {}
    assert r[0]["t"] == pytest.approx(data[0]["arrival"])
    assert path(t, "client")[-1] == "CLOSED" and path(t, "server")[-1] == "CLOSED", fmt(t)
    srv = results(t, "server")
    assert "ECONNRESET" in srv or "EPIPE" in srv, fmt(t)
    assert [e["result"] for e in events(t, host="server", call="send")][-1] in ("EPIPE", "ECONNRESET")


def test_segment_to_closed_port_with_ack_gets_plain_rst():
    """linux-facts §6e / RFC 9293 §3.10.7.1: a segment with ACK for a connection that no longer
    exists gets `[R] seq = seg.ack`, no ACK flag, window 0, no options. The server aborted
    (its RST dropped), so the client's next data hits no socket."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(1.0, "server", "abort"),
                      act(2.0, "client", "send", bytes=10)],
                     faults=[{"drop": {"from": "server", "flags": "RA"}}],
                     client_isn=C_ISN, server_isn=S_ISN))
    data = [s for s in segs(t, src="client", data=True) if s["t"] >= 2.0]
    r = [s for s in rsts(t, src="server") if not s["dropped"]]
    assert data and len(r) >= 1, fmt(t)
    assert r[0]["flags"] == "R" and r[0]["seq"] == data[0]["ack"] and r[0]["win"] == 0
    assert r[0]["options"] == {}
    assert "ECONNRESET" in results(t, "client"), fmt(t)
    assert path(t, "client")[-1] == "CLOSED"


@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_syn_in_established_gets_challenge_ack(profile):
    """RFC 5961 §4 / RFC 9293 §3.10.7.4 (fourth check): a SYN arriving in a synchronized state
    is answered with a challenge ACK (seq = SND.NXT, ack = RCV.NXT); the connection is not
    reset and keeps working."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(2.0, "client", "send", bytes=10)],
                     faults=[{"inject": {"at": 1.0, "from": "client", "flags": "S",
                                         "seq": C_ISN + 5000}}],
                     profile=profile, client_isn=C_ISN, server_isn=S_ISN))
    answer = [s for s in segs(t, src="server") if 1.0 <= s["t"] < 2.0]
    assert len(answer) == 1 and answer[0]["flags"] == "A", fmt(t)
    assert answer[0]["seq"] == S_ISN + 1 and answer[0]["ack"] == C_ISN + 11
    assert path(t, "server")[-1] == "ESTABLISHED"
    assert t.delivered["server"] == payload_pattern(10) * 2


def test_abort_in_syn_sent_sends_nothing():
    """RFC 9293 §3.10.5 (ABORT in SYN-SENT: delete the TCB, no reset): the SYN was lost, the
    application aborts; no RST goes out and the socket is CLOSED."""
    t = run(scenario([act(0.5, "client", "abort")],
                     faults=[{"drop": {"from": "client", "flags": "S"}}], until=10))
    assert not rsts(t), fmt(t)
    assert path(t, "client") == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert len(segs(t, src="client")) == 1           # no SYN retransmission after the abort
