"""The endpoint on its own (no simulator): typed events, snapshots, and the machine's rows.

Driven through ``endpoint_pair.Pair``, as h11 and smoltcp test their machines.
"""
from __future__ import annotations

import dataclasses

import pytest

from tcpsim import events as ev
from tcpsim.trace import TCB_COLUMNS, TcbSnapshot

from endpoint_pair import Pair


def kinds(endpoint):
    return [type(e).__name__ for e in endpoint.events]


def test_events_are_frozen_dataclasses():
    for kind in ev.EVENT_TYPES:
        assert dataclasses.is_dataclass(kind)
        assert kind.__dataclass_params__.frozen
    event = ev.ConnectResult(1.0, "ok")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.result = "ETIMEDOUT"


def test_handshake_events_on_both_sides():
    pair = Pair().open()
    a, b = pair.a, pair.b
    assert kinds(a) == ["StateChanged", "StateChanged", "ConnectResult"]
    assert [(e.old, e.new) for e in a.events if isinstance(e, ev.StateChanged)] == [
        ("CLOSED", "SYN-SENT"), ("SYN-SENT", "ESTABLISHED")]
    assert a.events[-1] == ev.ConnectResult(0.0, "ok")
    assert kinds(b) == ["StateChanged", "StateChanged", "Established"]
    assert [(e.old, e.new) for e in b.events if isinstance(e, ev.StateChanged)] == [
        ("LISTEN", "SYN-RECEIVED"), ("SYN-RECEIVED", "ESTABLISHED")]


def test_data_and_fin_make_readable_and_eof_events():
    pair = Pair().open()
    a, b = pair.a, pair.b
    b.events.clear()
    result, segments = a.send(b"hello", pair.now)
    assert result == 5
    pair.exchange(segments, b)
    assert ev.DataReadable(0.0, 5) in b.events
    pair.exchange(pair.sent(a, a.close(pair.now)), b)
    assert ev.EndOfFile(0.0) in b.events
    assert b.read(None, pair.now)[0] == b"hello" and b.at_eof()


def test_a_reset_raises_an_error_event():
    pair = Pair().open()
    a, b = pair.a, pair.b
    b.events.clear()
    pair.deliver(pair.sent(a, a.abort(pair.now)), b)
    assert ev.ErrorRaised(0.0, "ECONNRESET") in b.events
    assert b.state == "CLOSED"


def test_snapshot_fields_are_the_tcb_variables():
    pair = Pair().open()
    a = pair.a
    pair.exchange(pair.sent(a, a.send(b"x" * 3000, 0.0)[1]), pair.b)
    snap = a.snapshot(0.5)
    assert isinstance(snap, TcbSnapshot) and list(snap._fields) == TCB_COLUMNS
    assert snap.t == 0.5 and snap.host == a.name
    for name in ("conn", "state", "iss", "irs", "snd_una", "snd_nxt", "snd_max", "snd_wnd",
                 "rcv_nxt", "cwnd", "timers"):
        assert getattr(snap, name) == getattr(a, name), name
    assert snap.rcv_wnd == (a.rcv_adv_right - a.rcv_nxt) % 2**32
    assert snap.rcv_buffered == len(a.rcv_buf) and snap.snd_buffered == len(a.send_buf)
    assert snap.rcv_out_of_order == 0
