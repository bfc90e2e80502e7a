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


# ------------------------------------------------------------------------- the listener
from tcpsim.listener import LISTEN_RULES, Listener  # noqa: E402
from tcpsim.segment import Segment  # noqa: E402

from endpoint_pair import endpoint  # noqa: E402


def listener_and_children():
    lst = Listener("server", 5001)
    lst.listen(0.0)
    children = []

    def make_child(syn):
        child = endpoint("server", "client", 5001, syn.sport, iss=5000 + len(children))
        children.append(child)
        return child

    return lst, children, make_child


def test_listener_states_go_through_the_table():
    lst = Listener("server", 5001)
    lst.listen(0.0)
    lst.listen(0.1)                     # listening already: nothing
    lst.close(0.2)
    assert [(e.old, e.new, e.cause, e.socket) for e in lst.events] == [
        ("CLOSED", "LISTEN", "listen()", "server:listen"),
        ("LISTEN", "CLOSED", "close()", "server:listen")]


@pytest.mark.parametrize("flags, action", [("R", "ignore"), ("RA", "ignore"), ("A", "reset"),
                                           ("PA", "reset"), ("S", "open"), ("", "ignore"),
                                           ("F", "ignore")])
def test_every_listen_rule(flags, action):
    """RFC 9293 §3.10.7.2's checks in order; LISTEN_RULES has one row for each."""
    lst, children, make_child = listener_and_children()
    lst.events.clear()
    seg = Segment("client", "server", 40000, 5001, 100, 7, flags, 1000)
    child, out = lst.on_segment(seg, 1.0, make_child)
    if action == "open":
        assert child is children[0] and lst.syn_queue == [child]
        assert [s.flags for s in out] == ["SA"] and child.state == "SYN-RECEIVED"
        assert lst.events == []
    else:
        assert child is None and not children
        (event,) = lst.events
        assert isinstance(event, ev.SegmentIgnored) and event.segment is seg
        rule = next(rule for rule in LISTEN_RULES if rule[0] in flags)  # first match wins
        assert rule[1] == action and event.reason == rule[2]
        assert [s.flags for s in out] == (["R"] if action == "reset" else [])


def test_syn_queue_then_accept_queue():
    lst, _, make_child = listener_and_children()
    a = endpoint("client", "server", 40000, 5001)
    (syn,) = a.connect(0.0)
    child, (synack,) = lst.on_segment(syn, 0.0, make_child)
    assert lst.syn_queue == [child] and lst.accept_queue == []
    (ack,) = a.on_segment(synack, 0.0)
    child.on_segment(ack, 0.0)
    assert child.state == "ESTABLISHED"
    lst.child_established(child)
    assert lst.syn_queue == [] and lst.accept_queue == [child]
    assert lst.accept() is child and lst.accept() is None


def test_a_reset_child_leaves_the_queue():
    lst, _, make_child = listener_and_children()
    syn = Segment("client", "server", 40000, 5001, 100, 0, "S", 1000)
    child, _ = lst.on_segment(syn, 0.0, make_child)
    child.on_segment(Segment("client", "server", 40000, 5001, 101, 0, "R", 0), 0.1)
    assert child.state == "LISTEN"          # RFC 9293 §3.10.7.4: back to LISTEN, then gone
    lst.child_gone(child)
    assert lst.syn_queue == [] and lst.accept_queue == []
