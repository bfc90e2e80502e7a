"""Connection release: FIN exchanges, TIME-WAIT, half-close, FIN loss.

Sources: RFC 9293 §3.6 (closing a connection, Figures 12-13), §3.6.1 (half-closed), §3.10.4
(CLOSE call), §3.10.7.4 (eighth check), §3.4.2 / §3.6.1 (TIME-WAIT = 2 MSL, MSL = 2 min);
docs/linux-facts.md §5 (close sequences), §7e/§7h (FIN loss), §8 (TIME-WAIT), §9 (orphaned
FIN-WAIT-2) for the ``linux`` profile.
"""
from __future__ import annotations

import pytest

from conftest import act, entered, events, fmt, path, payload_pattern, run, scenario, segs

EXCHANGE = [act(0.1, "client", "send", bytes=10), act(0.2, "server", "send", bytes=10)]


def after(trace, t0):
    return [s for s in segs(trace) if s["t"] >= t0]


# ----------------------------------------------------------------- client closes first
def test_client_close_then_server_close_later_linux():
    """linux-facts §5a: `F.` -> ; <- `.` ack after a 40 ms delayed ACK (a FIN puts the receiver
    in pingpong mode); <- `F.` when the server closes 0.5 s later; `.` -> at once. States:
    FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT (60 s) -> CLOSED, and CLOSE-WAIT -> LAST-ACK ->
    CLOSED (RFC 9293 §3.6 Figure 12)."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act(1.5, "server", "close")]))
    tail = after(t, 1.0)
    assert [(s["src"], s["flags"], s["rel_seq"], s["rel_ack"], s["len"]) for s in tail] == [
        ("client", "FA", 11, 11, 0),
        ("server", "A", 11, 12, 0),
        ("server", "FA", 11, 12, 0),
        ("client", "A", 12, 12, 0),
    ], fmt(t)
    fin, ack, fin2, ack2 = tail
    assert ack["t"] - fin["arrival"] == pytest.approx(0.040, abs=0.005), fmt(t)   # delayed ACK
    assert fin2["t"] == pytest.approx(1.5)
    assert ack2["t"] == pytest.approx(fin2["arrival"])                           # immediate
    assert path(t, "client") == ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1",
                                 "FIN-WAIT-2", "TIME-WAIT", "CLOSED"], fmt(t)
    assert path(t, "server")[-4:] == ["ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    tw = entered(t, "client", "TIME-WAIT")[0]
    assert tw == pytest.approx(fin2["arrival"])
    assert entered(t, "client", "CLOSED")[-1] - tw == pytest.approx(60.0, abs=0.01)
    assert entered(t, "server", "CLOSED")[-1] == pytest.approx(ack2["arrival"])
    assert [e["result"] for e in events(t, host="server", call="read")][-1] == 0   # EOF seen


def test_client_close_then_server_close_later_rfc9293():
    """RFC 9293 §3.6 Figure 12 with immediate ACKs (no delayed ACK in the textbook profile):
    FIN, ACK at once, FIN later, ACK; TIME-WAIT lasts 2 MSL = 240 s (§3.4.2, MSL = 2 min)."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act(1.5, "server", "close")],
                     profile="rfc9293", until=400))
    tail = after(t, 1.0)
    assert [(s["src"], s["flags"], s["rel_seq"], s["rel_ack"]) for s in tail] == [
        ("client", "FA", 11, 11), ("server", "A", 11, 12),
        ("server", "FA", 11, 12), ("client", "A", 12, 12)], fmt(t)
    assert tail[1]["t"] == pytest.approx(tail[0]["arrival"])
    tw = entered(t, "client", "TIME-WAIT")[0]
    assert entered(t, "client", "CLOSED")[-1] - tw == pytest.approx(240.0, abs=0.01), fmt(t)


def test_server_closes_on_eof_three_segments():
    """linux-facts §5b: the server closes as soon as read() returns 0, within the 40 ms the
    ACK of the client's FIN is delayed, so the ACK rides on the server's FIN: `F.` ->,
    <- `F.` (ack = client FIN + 1), `.` -> : 3 segments."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")]))
    tail = after(t, 1.0)
    assert [(s["src"], s["flags"], s["rel_seq"], s["rel_ack"]) for s in tail] == [
        ("client", "FA", 11, 11), ("server", "FA", 11, 12), ("client", "A", 12, 12)], fmt(t)
    assert tail[1]["t"] == pytest.approx(tail[0]["arrival"])
    assert path(t, "client")[-2:] == ["TIME-WAIT", "CLOSED"]
    assert path(t, "server")[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]


def test_server_closes_on_eof_after_bulk():
    """linux-facts §5 (handshake-data pcap): after a 100 kB transfer the close is still
    FIN, FIN+ACK, ACK, and the server has read every byte before its EOF."""
    t = run(scenario([act(0.1, "client", "send", bytes=100000), act(0.1, "client", "close"),
                      act("eof", "server", "close")]))
    assert t.delivered["server"] == payload_pattern(100000), fmt(t)
    fins = [s for s in segs(t) if "F" in s["flags"]]
    assert [s["src"] for s in fins] == ["client", "server"], fmt(t)
    last = segs(t)[-1]
    assert last["src"] == "client" and last["flags"] == "A" and last["rel_ack"] == 2


# ----------------------------------------------------------------- simultaneous close
@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_simultaneous_close(profile):
    """RFC 9293 §3.6 Figure 13 / linux-facts §5c2: the FINs cross (each ack = the peer's
    pre-FIN sequence number), each side receives the other's FIN in FIN-WAIT-1 -> CLOSING
    and ACKs it at once; each ACK moves its receiver to TIME-WAIT; both end in TIME-WAIT."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act(1.0, "server", "close")],
                     profile=profile, delay=0.01, until=600))
    tail = after(t, 1.0)
    fins = [s for s in tail if s["flags"] == "FA"]
    acks = [s for s in tail if s["flags"] == "A"]
    assert sorted((s["src"], s["rel_seq"], s["rel_ack"]) for s in fins) == [
        ("client", 11, 11), ("server", 11, 11)], fmt(t)
    assert sorted((s["src"], s["rel_seq"], s["rel_ack"]) for s in acks) == [
        ("client", 12, 12), ("server", 12, 12)], fmt(t)
    assert len(tail) == 4
    tw_len = 60.0 if profile == "linux" else 240.0
    for host in ("client", "server"):
        p = path(t, host)
        assert p[-4:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"], fmt(t)
        assert entered(t, host, "CLOSED")[-1] - entered(t, host, "TIME-WAIT")[0] == \
            pytest.approx(tw_len, abs=0.01)
    for a in acks:
        peer_fin = next(f for f in fins if f["src"] != a["src"])
        assert a["t"] == pytest.approx(peer_fin["arrival"])          # immediate


# ----------------------------------------------------------------- half-close
def test_half_close_data_flows_the_other_way():
    """RFC 9293 §3.6.1 / linux-facts §5d: shutdown(SHUT_WR) sends a FIN; the server keeps
    sending 3 x 1000 B which the client (FIN-WAIT-2, not orphaned) reads and ACKs; the server's
    FIN moves the client to TIME-WAIT. A send after shutdown fails with EPIPE."""
    t = run(scenario([act(0.1, "client", "send", bytes=10),
                      act(1.0, "client", "shutdown"),
                      act(1.1, "server", "send", bytes=1000),
                      act(1.2, "server", "send", bytes=1000),
                      act(1.3, "server", "send", bytes=1000),
                      act(1.35, "client", "send", bytes=5),
                      act(1.4, "server", "close")]))
    assert t.delivered["client"] == payload_pattern(1000) * 3, fmt(t)
    assert t.delivered["server"] == payload_pattern(10)
    cfin = [s for s in segs(t, src="client") if "F" in s["flags"]]
    assert len(cfin) == 1 and cfin[0]["t"] == pytest.approx(1.0) and cfin[0]["rel_seq"] == 11
    sdata = segs(t, src="server", data=True)
    assert [(s["rel_seq"], s["len"]) for s in sdata] == [(1, 1000), (1001, 1000), (2001, 1000)]
    assert all(s["rel_ack"] == 12 for s in sdata)               # the client's FIN is ACKed
    for s in sdata:                                             # FIN-WAIT-2 ACKs each at once
        ack = [a for a in segs(t, src="client", flags="A") if a["rel_ack"] == s["rel_seq"] + 1000]
        assert ack and ack[0]["t"] == pytest.approx(s["arrival"]), fmt(t)
    assert [e["result"] for e in events(t, host="client", call="send")][-1] == "EPIPE"
    p = path(t, "client")
    assert p[-4:] == ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"], fmt(t)
    assert 0 in [e["result"] for e in events(t, host="client", call="read")]


def test_half_closed_fin_wait_2_has_no_timeout():
    """linux-facts §9: a non-orphaned FIN-WAIT-2 (after shutdown(), the application still
    holds the socket) has no timer and waits for the peer's FIN even past fin_timeout."""
    t = run(scenario([act(1.0, "client", "shutdown"), act(20.0, "server", "close")],
                     client={"fin_timeout": 5}, until=200))
    p = path(t, "client")
    assert p[-4:] == ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"], fmt(t)
    assert entered(t, "client", "TIME-WAIT")[0] == pytest.approx(20.0, abs=0.01)


# ----------------------------------------------------------------- TIME-WAIT length
def test_rfc9293_msl_option():
    """RFC 9293 §3.4.2: TIME-WAIT = 2 x MSL; `options.msl: 5` -> 10 s."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")],
                     profile="rfc9293", client={"msl": 5}))
    tw = entered(t, "client", "TIME-WAIT")
    assert tw, fmt(t)
    assert entered(t, "client", "CLOSED")[-1] - tw[0] == pytest.approx(10.0, abs=0.01)


def test_time_wait_zero():
    """Teaching variant `options.time_wait: 0`: no TIME-WAIT delay, the active closer is
    CLOSED as soon as the last ACK is sent."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")],
                     client={"time_wait": 0}))
    last_ack = segs(t)[-1]
    assert last_ack["src"] == "client" and last_ack["flags"] == "A", fmt(t)
    assert path(t, "client")[-1] == "CLOSED"
    assert entered(t, "client", "CLOSED")[-1] == pytest.approx(last_ack["t"], abs=1e-9), fmt(t)


# ----------------------------------------------------------------- FIN rides on data
@pytest.mark.parametrize("profile", ["linux", "rfc9293"])
def test_fin_rides_on_last_data_segment(profile):
    """RFC 9293 §3.10.4 (CLOSE: the FIN follows the queued SENDs) / linux tcp_send_fin(): when
    close() is called while data is still queued (20000 B sent and closed at the same
    instant: more than the initial window of 10 segments), the FIN is set on the last data
    segment (`FP.`), not sent as a separate segment."""
    n = 20000
    t = run(scenario([act(1.0, "client", "send", bytes=n), act(1.0, "client", "close"),
                      act("eof", "server", "close")], profile=profile, until=600))
    fins = [s for s in segs(t, src="client") if "F" in s["flags"]]
    assert len(fins) == 1, fmt(t)
    fin = fins[0]
    assert set(fin["flags"]) == set("FPA") and fin["len"] > 0, fmt(t)
    assert fin["rel_seq"] + fin["len"] == n + 1
    assert t.delivered["server"] == payload_pattern(n)
    server_fin = [s for s in segs(t, src="server") if "F" in s["flags"]]
    assert server_fin and server_fin[0]["rel_ack"] == n + 2, fmt(t)


def test_fin_rides_on_nagle_held_segment():
    """linux tcp_send_fin(): a FIN queued behind a small write that Nagle holds (RFC 9293
    §3.7.4) is sent on that segment when the ACK releases it: 100 B go out, 50 B wait, close();
    the 50 B leave with FIN set."""
    t = run(scenario([act(1.0, "client", "send", bytes=100), act(1.0, "client", "send", bytes=50),
                      act(1.0, "client", "close"), act("eof", "server", "close")],
                     delay=0.001))
    cdata = segs(t, src="client", data=True)
    assert [(s["rel_seq"], s["len"]) for s in cdata] == [(1, 100), (101, 50)], fmt(t)
    assert "F" not in cdata[0]["flags"] and set(cdata[1]["flags"]) == set("FPA"), fmt(t)
    assert sum(1 for s in segs(t, src="client") if "F" in s["flags"]) == 1
    assert t.delivered["server"] == payload_pattern(100) + payload_pattern(50)


# ----------------------------------------------------------------- TIME-WAIT and a lost ACK
def test_retransmitted_fin_in_time_wait_is_acked_and_restarts_timer():
    """linux-facts §8 / RFC 9293 §3.10.7.4 (eighth check, TIME-WAIT): the client's last ACK is
    lost; the server in LAST-ACK retransmits its FIN (~0.2 s); the TIME-WAIT socket answers at
    once with a pure ACK whose TSecr stays the first FIN's TSval, and restarts its 60 s timer."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")],
                     faults=[{"drop": {"from": "client", "flags": "A", "between": [1.0, 1.1]}}]))
    sfins = [s for s in segs(t, src="server") if "F" in s["flags"]]
    assert len(sfins) == 2, fmt(t)
    assert sfins[1]["retransmission"] and sfins[1]["seq"] == sfins[0]["seq"]
    assert 0.19 <= sfins[1]["t"] - sfins[0]["t"] <= 0.25, fmt(t)
    acks = [s for s in segs(t, src="client", flags="A") if s["t"] >= 1.0]
    assert len(acks) == 2 and acks[0]["dropped"] and not acks[1]["dropped"], fmt(t)
    assert acks[1]["t"] == pytest.approx(sfins[1]["arrival"])
    assert acks[1]["rel_ack"] == acks[0]["rel_ack"] == 12
    assert acks[1]["options"]["ts"][1] == sfins[0]["options"]["ts"][0]
    # still TIME-WAIT (never left it), closed 60 s after the retransmitted FIN
    p = path(t, "client")
    assert p.count("CLOSED") == 2 and p[-1] == "CLOSED"
    assert entered(t, "client", "CLOSED")[-1] - sfins[1]["arrival"] == pytest.approx(60, abs=0.01)
    assert path(t, "server")[-2:] == ["LAST-ACK", "CLOSED"]
    assert entered(t, "server", "CLOSED")[-1] == pytest.approx(acks[1]["arrival"])


# ----------------------------------------------------------------- orphaned FIN-WAIT-2
def test_orphaned_fin_wait_2_timeout_then_rst():
    """linux-facts §9: after close() the client sits in FIN-WAIT-2 with the tcp_fin_timeout
    timer (5 s here); it vanishes silently; the server's later FIN hits no socket and gets a
    no-socket RST `[R] seq = the FIN's ack`, window 0, no options (RFC 9293 §3.10.7.1)."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act(9.0, "server", "close")],
                     client={"fin_timeout": 5}, until=100))
    fw2 = entered(t, "client", "FIN-WAIT-2")
    assert fw2, fmt(t)
    closed = entered(t, "client", "CLOSED")[-1]
    assert closed - fw2[0] == pytest.approx(5.0, abs=0.01), fmt(t)
    assert "TIME-WAIT" not in path(t, "client")
    assert not [s for s in segs(t, src="client") if abs(s["t"] - closed) < 1e-6], fmt(t)
    sfin = [s for s in segs(t, src="server") if "F" in s["flags"]][0]
    rst = [s for s in segs(t, src="client") if "R" in s["flags"]]
    assert len(rst) == 1, fmt(t)
    assert rst[0]["flags"] == "R" and rst[0]["seq"] == sfin["ack"] and rst[0]["win"] == 0
    assert rst[0]["options"] == {}
    assert rst[0]["t"] == pytest.approx(sfin["arrival"])
    assert path(t, "server")[-1] == "CLOSED"


def test_orphaned_fin_wait_2_default_60s():
    """linux-facts §5a/§9: tcp_fin_timeout defaults to 60 s."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close")], until=200))
    fw2 = entered(t, "client", "FIN-WAIT-2")
    assert fw2 and entered(t, "client", "CLOSED")[-1] - fw2[0] == pytest.approx(60, abs=0.01)
    assert path(t, "server")[-1] == "CLOSE-WAIT"


# ----------------------------------------------------------------- FIN loss
def test_fin_loss_retransmitted_after_200ms_linux():
    """linux-facts §7e: a lost FIN is retransmitted ~205 ms later (one packet in flight:
    probe/RTO ~ 200 ms rto_min); the peer, closing on EOF, answers with FIN+ACK."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")],
                     faults=[{"drop": {"from": "client", "flags": "FA", "nth": [1]}}]))
    cfins = [s for s in segs(t, src="client") if "F" in s["flags"]]
    assert len(cfins) == 2 and cfins[0]["dropped"], fmt(t)
    assert 0.195 <= cfins[1]["t"] - cfins[0]["t"] <= 0.25
    assert cfins[1]["retransmission"] and cfins[1]["seq"] == cfins[0]["seq"]
    tail = after(t, cfins[1]["t"])
    assert [(s["src"], s["flags"]) for s in tail] == [("client", "FA"), ("server", "FA"),
                                                      ("client", "A")], fmt(t)


def test_fin_loss_backoff_linux():
    """linux-facts §7h: FIN dropped repeatedly: retransmissions after ~205, 208, 416, 832 ms
    (first a ~200 ms probe/RTO, then the RTO doubles)."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")],
                     faults=[{"drop": {"from": "client", "flags": "FA", "nth": [1, 2, 3, 4]}}]))
    times = [s["t"] for s in segs(t, src="client") if "F" in s["flags"]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 4, fmt(t)
    for got, want in zip(gaps, [0.205, 0.208, 0.416, 0.832]):
        assert got == pytest.approx(want, rel=0.1, abs=0.01), gaps


def test_fin_loss_rfc9293_rto():
    """RFC 6298 §2.4 (RTO >= 1 s) and §5.5 (doubling): the textbook profile retransmits a
    lost FIN after 1 s, then 2 s."""
    t = run(scenario(EXCHANGE + [act(1.0, "client", "close"), act("eof", "server", "close")],
                     profile="rfc9293", faults=[{"drop": {"from": "client", "flags": "FA",
                                                         "nth": [1, 2]}}], until=600))
    times = [s["t"] for s in segs(t, src="client") if "F" in s["flags"]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps == pytest.approx([1.0, 2.0], abs=0.01), fmt(t)


# ----------------------------------------------------------------- TIME-WAIT and a new SYN
def test_new_syn_accepted_in_time_wait():
    """RFC 9293 §3.10.7.4 (TIME-WAIT) with RFC 6191 / linux tcp_timewait_state_process(): the
    server closed first and sits in TIME-WAIT; the client reconnects from the same port 1 s
    later with a higher ISN (clock-driven RFC 6528 ISN); the SYN ends TIME-WAIT and opens a
    new incarnation (conn 1) through the listener."""
    t = run(scenario([act(0.5, "client", "send", bytes=10), act(1.0, "server", "close"),
                      act("eof", "client", "close"), act(2.0, "client", "connect", to="server"),
                      act(2.5, "client", "send", bytes=20)], until=100))
    assert path(t, "server", conn=0)[-2:] == ["TIME-WAIT", "CLOSED"], fmt(t)
    assert entered(t, "server", "CLOSED", conn=0)[-1] == pytest.approx(2.0 + 0.00001)
    new = [s for s in segs(t) if s["conn"] == 1]
    assert [(s["src"], s["flags"]) for s in new[:3]] == [("client", "S"), ("server", "SA"),
                                                         ("client", "A")], fmt(t)
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok", "ok"]
    assert t.delivered["server"] == payload_pattern(10) + payload_pattern(20)
