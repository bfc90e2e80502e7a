"""Ignored segments in the trace (docs/trace.md, "ignored"): every arriving segment that
changes nothing appears with its receiver and the reason, so "why did nothing happen?" has
an answer. The rows name the segment by its row number in ``segments``.
"""
from __future__ import annotations

import json

import tcpsim

from conftest import act, fmt, scenario


def ignored(trace):
    return [(r["host"], r["reason"]) for r in trace.doc["ignored"]]


def check_rows(trace):
    """Each row names a segment that went to that host and arrived by then."""
    segments = trace.doc["segments"]
    for row in trace.doc["ignored"]:
        seg = segments[row["segment"]]
        assert seg["dst"] == row["host"], fmt(trace)
        arrivals = [seg["arrival"]] + seg.get("copies", [])
        assert any(a is not None and abs(a - row["t"]) < 1e-12 for a in arrivals), fmt(trace)


def test_a_handshake_ignores_nothing():
    t = tcpsim.run(scenario([act(0.1, "client", "send", bytes=1000), act(0.2, "client", "close"),
                             act("eof", "server", "close")]))
    assert t.doc["ignored"] == []
    assert list(t.ignored.columns) == ["t", "host", "segment", "reason"]


def test_a_syn_to_a_closed_port_is_answered_by_rst_and_ignored():
    t = tcpsim.run(scenario([act(0.0, "client", "connect", to="server")], open=False, until=0.5))
    assert ("server", "no socket for port 5001 (RFC 9293 §3.10.7.1): RST sent") in ignored(t)
    check_rows(t)


def test_time_wait_bare_ack_and_out_of_window_reasons():
    """The duplicated-FIN run of issue 10's bug 1: the client ACKs the FIN copy; that ACK
    reaches the server's TIME-WAIT and is ignored."""
    sc = scenario([act(0.5, "client", "close"), act(0.5, "server", "close")],
                  faults=[{"duplicate": {"from": "server", "flags": "FA", "extra": 0.001}}])
    t = tcpsim.run(sc)
    assert ("server", "TIME-WAIT: a bare ACK, nothing to do (RFC 9293 §3.10.7.4 fifth check)") \
        in ignored(t), fmt(t)
    check_rows(t)


def test_an_old_retransmission_is_ignored_with_an_ack_rfc9293():
    """A data segment that arrives twice: the copy is old, outside the window (rfc9293)."""
    sc = scenario([act(0.1, "client", "send", bytes=100)], profile="rfc9293",
                  faults=[{"duplicate": {"from": "client", "data_segment": 1, "extra": 0.01}}])
    t = tcpsim.run(sc)
    assert ("server", "outside the receive window (RFC 9293 §3.10.7.4 first check): ACK sent") \
        in ignored(t), fmt(t)
    check_rows(t)


def test_injected_segments_get_reasons():
    """An RST without ACK in SYN-SENT, an ACK to a listener, a segment without ACK."""
    t = tcpsim.run(scenario(
        [act(0.0, "server", "listen"), act(1.0, "client", "connect", to="server"),
         act(2.0, "client", "send", bytes=10)],
        open=False, delay=0.01, until=3,
        faults=[{"inject": {"at": 1.005, "from": "server", "flags": "R", "seq": 0, "ack": 0}},
                {"inject": {"at": 0.5, "from": "client", "flags": "A", "seq": 1, "ack": 1}},
                {"inject": {"at": 2.5, "from": "client", "flags": "P", "seq": 7, "ack": 0,
                            "bytes": 3}}]))
    reasons = ignored(t)
    assert ("client", "SYN-SENT: an RST without ACK (RFC 9293 §3.10.7.3 second check)") in reasons
    assert ("server", "LISTEN: an ACK before any SYN (RFC 9293 §3.10.7.2 second check): RST sent") \
        in reasons
    assert any("no ACK flag" in r or "outside the receive window" in r
               for host, r in reasons if host == "server"), reasons
    check_rows(t)


def test_ignored_rows_are_in_the_json():
    t = tcpsim.run(scenario([act(0.0, "client", "connect", to="server")], open=False, until=0.5))
    doc = json.loads(t.to_json())
    assert doc["ignored"] and set(doc["ignored"][0]) == {"t", "host", "segment", "reason"}
