"""Every row of the transition table, taken by the machine on its own.

``in_state(name)`` is a per-state fixture (smoltcp's tests have one per state): a ``Pair``
whose endpoint ``ep`` is in that state, reached through the table from CLOSED. ``ROWS``
says, for each (state, event) row of ``endpoint.TRANSITIONS``, how to take it from that
fixture. ``test_every_row`` takes each one and checks the new state;
``test_the_walk_covers_the_table`` checks that the rows taken and ``UNREACHABLE`` together
are the table, and never overlap.
"""
from __future__ import annotations

import pytest

from tcpsim.endpoint import TRANSITIONS, UNREACHABLE, Endpoint
from tcpsim.listener import Listener
from tcpsim.segment import Segment

from endpoint_pair import Pair

PROFILE = "rfc9293"           # immediate ACKs: every exchange settles at once


def pair(**kw):
    return Pair(PROFILE, **kw)


def segment_to(ep, flags, seq=None, ack=None, data=b""):
    """A segment from ep's peer, by default at ep's RCV.NXT and acknowledging SND.NXT."""
    return Segment(ep.peer, ep.host, ep.remote_port, ep.local_port,
                   ep.rcv_nxt if seq is None else seq, ep.snd_max if ack is None else ack,
                   flags, 1000, data)


def in_state(name, **kw):
    """(pair, ep): ep in state ``name``; nothing is in flight unless the state needs it."""
    p = pair(**kw)
    a, b = p.a, p.b
    if name == "SYN-SENT":
        p.a_connects()
        return p, a
    if name == "SYN-RECEIVED":                  # a passive open, its SYN-ACK not delivered
        (syn,) = p.a_connects()
        p.b_accepts(syn)
        return p, b
    if name == "SYN-RECEIVED active":           # simultaneous open (RFC 9293 Figure 8)
        p.a_connects()
        p.sent(b, b.connect(p.now))
        p.deliver([Segment("server", "client", b.local_port, b.remote_port, b.iss, 0, "S",
                           1000)], a)
        return p, a
    p.open()
    if name == "ESTABLISHED":
        return p, a
    if name == "FIN-WAIT-1":
        p.sent(a, a.close(p.now))               # the FIN is not delivered
        return p, a
    if name == "FIN-WAIT-2":
        p.exchange(p.sent(a, a.close(p.now)), b)
        return p, a
    if name == "CLOSE-WAIT":
        p.exchange(p.sent(b, b.close(p.now)), a)
        return p, a
    if name == "LAST-ACK":
        p.exchange(p.sent(b, b.close(p.now)), a)
        p.sent(a, a.close(p.now))
        return p, a
    if name == "CLOSING":
        fin_a = p.sent(a, a.close(p.now))
        fin_b = p.sent(b, b.close(p.now))
        p.deliver(fin_b, a)                     # a's FIN is still on its way
        del fin_a
        return p, a
    if name == "TIME-WAIT":
        p.exchange(p.sent(a, a.close(p.now)), b)
        p.exchange(p.sent(b, b.close(p.now)), a)
        return p, a
    raise ValueError(name)


def expire_all(p, ep, until=10_000.0):
    """Nothing gets through: fire ep's timers, dropping what it sends, until none is left."""
    while ep.next_deadline() is not None and ep.next_deadline() <= until:
        p.now = ep.next_deadline()
        ep.on_timer(p.now)


def with_data_in_flight(p, ep):
    p.sent(ep, ep.send(b"x" * 100, p.now)[1])     # not delivered


# (state, event) -> (fixture, how to take the row). Each action gets (pair, ep).
def _rst(p, ep):
    p.deliver([segment_to(ep, "R")], ep)


ROWS = {
    ("CLOSED", "connect()"): ("CLOSED", lambda p, ep: ep.connect(p.now)),
    ("LISTEN", "rcv SYN"): ("SYN-RECEIVED", None),
    ("LISTEN", "rcv SYN (two-way handshake)"): ("two-way", None),
    ("SYN-SENT", "rcv SYN+ACK"): ("ESTABLISHED", None),
    ("SYN-SENT", "rcv SYN"): ("SYN-RECEIVED active", None),
    ("SYN-SENT", "rcv RST"): ("SYN-SENT", lambda p, ep: p.deliver(
        [segment_to(ep, "RA", seq=0, ack=ep.iss + 1)], ep)),
    ("SYN-SENT", "close()"): ("SYN-SENT", lambda p, ep: ep.close(p.now)),
    ("SYN-SENT", "abort()"): ("SYN-SENT", lambda p, ep: ep.abort(p.now)),
    ("SYN-SENT", "SYN timeout"): ("SYN-SENT", expire_all),
    ("SYN-RECEIVED", "rcv ACK of SYN"): ("ESTABLISHED", None),
    ("SYN-RECEIVED", "rcv RST (passive open)"): ("SYN-RECEIVED", _rst),
    ("SYN-RECEIVED", "rcv RST"): ("SYN-RECEIVED active", _rst),
    ("SYN-RECEIVED", "close()"): ("SYN-RECEIVED", lambda p, ep: ep.close(p.now)),
    ("SYN-RECEIVED", "abort()"): ("SYN-RECEIVED", lambda p, ep: ep.abort(p.now)),
    ("SYN-RECEIVED", "SYN-ACK timeout"): ("SYN-RECEIVED", expire_all),
    ("SYN-RECEIVED", "close() with SO_LINGER 0"): ("SYN-RECEIVED linger0",
                                                    lambda p, ep: ep.close(p.now)),
    ("ESTABLISHED", "close()"): ("ESTABLISHED", lambda p, ep: ep.close(p.now)),
    ("ESTABLISHED", "rcv FIN"): ("CLOSE-WAIT", None),
    ("FIN-WAIT-1", "rcv ACK of FIN"): ("FIN-WAIT-2", None),
    ("FIN-WAIT-1", "rcv FIN"): ("CLOSING", None),
    ("FIN-WAIT-2", "rcv FIN"): ("TIME-WAIT", None),
    ("FIN-WAIT-2", "FIN-WAIT-2 timeout"): ("FIN-WAIT-2 orphan", expire_all),
    ("CLOSE-WAIT", "close()"): ("CLOSE-WAIT", lambda p, ep: ep.close(p.now)),
    ("CLOSING", "rcv ACK of FIN"): ("CLOSING", lambda p, ep: p.exchange(
        [next(s for n, s in reversed(p.log) if n == ep.name and "F" in s.flags)], p.other(ep))),
    ("LAST-ACK", "rcv ACK of FIN"): ("LAST-ACK", lambda p, ep: p.exchange(
        [p.log[-1][1]], p.other(ep))),
    ("TIME-WAIT", "rcv FIN"): ("TIME-WAIT", lambda p, ep: p.deliver(
        [segment_to(ep, "FA", seq=ep.rcv_nxt - 1)], ep)),
    ("TIME-WAIT", "TIME-WAIT timeout"): ("TIME-WAIT", expire_all),
    ("TIME-WAIT", "rcv RST"): ("TIME-WAIT", _rst),
    ("TIME-WAIT", "rcv SYN (new incarnation)"): ("TIME-WAIT", lambda p, ep: p.deliver(
        [segment_to(ep, "S", seq=ep.rcv_nxt + 100000, ack=0)], ep)),
    ("TIME-WAIT", "connect() reuses the port"): ("TIME-WAIT",
                                                 lambda p, ep: ep.give_up_time_wait(p.now)),
    ("FIN-WAIT-1", "data after close()"): ("FIN-WAIT-1", lambda p, ep: p.deliver(
        [segment_to(ep, "PA", ack=ep.snd_una, data=b"late")], ep)),   # our FIN not yet ACKed
    ("FIN-WAIT-2", "data after close()"): ("FIN-WAIT-2", lambda p, ep: p.deliver(
        [segment_to(ep, "PA", data=b"late")], ep)),
    ("ESTABLISHED", "keepalive timeout"): ("ESTABLISHED keepalive", expire_all),
    ("CLOSE-WAIT", "keepalive timeout"): ("CLOSE-WAIT keepalive", expire_all),
    ("LISTEN", "rcv ACK of SYN cookie"): ("cookie", None),
    ("LISTEN", "rcv SYN with Fast Open cookie"): ("fast open", None),
    ("SYN-RECEIVED", "accept queue full"): ("accept queue full", None),
}
for _state in ("ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK"):
    ROWS[(_state, "rcv RST")] = (_state, _rst)
    ROWS[(_state, "abort()")] = (_state, lambda p, ep: ep.abort(p.now))
    if (_state, "retransmission timeout") not in UNREACHABLE:
        ROWS[(_state, "retransmission timeout")] = (
            _state + (" data" if _state in ("ESTABLISHED", "CLOSE-WAIT") else ""),
            expire_all)
def _rst_rfc1337(p, ep):
    ep.rfc1337 = True                 # the host's options.rfc1337 (simulator.py sets it)
    _rst(p, ep)


def _syn_newer_timestamp(p, ep):
    """RFC 6191: a SYN at an old sequence number but with a newer TSval."""
    syn = segment_to(ep, "S", seq=ep.rcv_nxt - 10, ack=0)
    syn.options = {"ts": [(ep.ts_recent + 1000) % 2**32, 0]}
    p.deliver([syn], ep)


ROWS[("TIME-WAIT", "rcv RST (tcp_rfc1337=1)")] = ("TIME-WAIT", _rst_rfc1337)
ROWS[("TIME-WAIT", "rcv SYN with a newer timestamp (new incarnation)")] = (
    "TIME-WAIT timestamps", _syn_newer_timestamp)
for _state in ("ESTABLISHED", "CLOSE-WAIT"):
    ROWS[(_state, "close() with unread data")] = (_state + " unread", lambda p, ep: ep.close(p.now))
    ROWS[(_state, "close() with SO_LINGER 0")] = (_state + " linger0", lambda p, ep: ep.close(p.now))


for _state in ("SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
               "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"):
    ROWS[(_state, "host crash")] = (_state, lambda p, ep: ep.crash(p.now))
ROWS[("LISTEN", "host crash")] = ("listener crash", None)


def _listener_crash():
    """The host of a listening socket crashes: LISTEN -> CLOSED, nothing sent."""
    lst = Listener("server", 5001)
    lst.listen(0.0)
    lst.crash(0.0)
    return lst


def fixture(name):
    """in_state() plus the variants the rows above need."""
    if name == "CLOSED":
        p = pair()
        return p, p.a
    if name == "two-way":
        return pair(b_options={"handshake": "two-way"}), None
    if name.endswith(" linger0"):
        side = "b_options" if name.startswith("SYN-RECEIVED") else "a_options"
        return in_state(name[:-8], **{side: {"linger0": True}})
    if name == "TIME-WAIT timestamps":
        p, ep = in_state("TIME-WAIT", a_options={"timestamps": True},
                         b_options={"timestamps": True})
        assert ep.ts_on
        return p, ep
    if name == "FIN-WAIT-2 orphan":
        return in_state("FIN-WAIT-2", a_options={"fin_timeout": 30.0})
    if name.endswith(" unread"):             # data arrived in ESTABLISHED, nobody read it
        p = pair().open()
        p.exchange(p.sent(p.b, p.b.send(b"unread", p.now)[1]), p.a)
        if name == "CLOSE-WAIT unread":
            p.exchange(p.sent(p.b, p.b.close(p.now)), p.a)
        assert p.a.rcv_buf
        return p, p.a
    if name.endswith(" keepalive"):          # the peer is gone: every probe unanswered
        from tcpsim.keepalive import KeepaliveConfig
        p, ep = in_state(name[:-10])
        ep.keepalive = KeepaliveConfig(1, 1, 2)
        ep.timers["keepalive"] = p.now + 1
        return p, ep
    if name.endswith(" data"):
        p, ep = in_state(name[:-5])
        with_data_in_flight(p, ep)
        return p, ep
    return in_state(name)


class Recorder:
    """Records every row taken, by wrapping the table lookups of Endpoint and Listener."""

    def __init__(self, monkeypatch):
        self.rows = []
        for cls in (Endpoint, Listener):
            original = cls._transition

            def wrapped(obj, event, now, cause=None, _original=original):
                self.rows.append((str(obj.state), event))
                return _original(obj, event, now, cause)

            monkeypatch.setattr(cls, "_transition", wrapped)


def _listener(**options):
    from tcpsim.connoptions import ConnectionOptions
    lst = Listener("server", 5001, options=ConnectionOptions(**options))
    lst.listen(0.0)
    p = pair()

    def make_child(seg, iss=None, keep=True):
        child = p.b if iss is None else Endpoint(
            "server", "server", "client", 5001, seg.sport, p.b.p, 1460, iss, 0, 0, 0.0)
        return child

    return lst, p, make_child


def _cookie_child():
    """A listener with tcp_syncookies=2: the final ACK's cookie makes the child at once."""
    lst, p, make_child = _listener(syn_cookies=2)
    (syn,) = p.a_connects()
    _, (synack,) = lst.on_segment(syn, 0.0, make_child)
    (ack,) = p.deliver([synack], p.a)
    child, _ = lst.on_segment(ack, 0.0, make_child)
    return child


def _accept_queue_full():
    """A final ACK meets a full accept queue with tcp_abort_on_overflow=1: RST, child dropped."""
    lst, p, make_child = _listener(backlog=1, abort_on_overflow=True)
    (syn,) = p.a_connects()
    child, synack = lst.on_segment(syn, 0.0, make_child)
    (ack,) = p.deliver(synack, p.a)
    lst.accept_queue = ["unaccepted", "unaccepted"]
    lst.final_ack(child, ack, 0.0)
    return child


def _fast_open_child():
    """A SYN with a valid Fast Open cookie and data: the child exists at the SYN."""
    from tcpsim.fastopen import make_cookie
    lst, p, make_child = _listener(fastopen=True)
    p.a.fastopen, p.a.tfo_cache = True, {"server": make_cookie(lst.tfo_secret, "client", "server")}
    p.a.connect(0.0)
    _, (syn,) = p.a.send(b"data in the SYN", 0.0)
    child, _ = lst.on_segment(syn, 0.0, make_child)
    assert bytes(child.rcv_buf) == b"data in the SYN"
    return child


LISTENER_ROWS = {"cookie": _cookie_child, "accept queue full": _accept_queue_full,
                 "fast open": _fast_open_child, "listener crash": _listener_crash}


def take(row):
    """Take ``row``: returns the endpoint and the state it should now be in."""
    state = row[0]
    name, action = ROWS[row]
    if name == "two-way":                        # LISTEN -> ESTABLISHED at once
        p, _ = fixture(name)
        (syn,) = p.a_connects()
        p.b_accepts(syn)
        return p.b
    if name in LISTENER_ROWS:
        return LISTENER_ROWS[name]()
    if action is None:            # a row on the way to a later state: build that state
        return _next_step(row)
    p, ep = fixture(name)
    assert str(ep.state) == state, (row, ep.state)
    action(p, ep)
    return ep


def _next_step(row):
    """Rows taken on the way to a later state's fixture: build that fixture."""
    later = {("LISTEN", "rcv SYN"): ("SYN-RECEIVED", "b"),
             ("SYN-SENT", "rcv SYN+ACK"): ("ESTABLISHED", "a"),
             ("SYN-SENT", "rcv SYN"): ("SYN-RECEIVED active", "a"),
             ("SYN-RECEIVED", "rcv ACK of SYN"): ("ESTABLISHED", "b"),
             ("ESTABLISHED", "rcv FIN"): ("CLOSE-WAIT", "a"),
             ("FIN-WAIT-1", "rcv ACK of FIN"): ("FIN-WAIT-2", "a"),
             ("FIN-WAIT-1", "rcv FIN"): ("CLOSING", "a"),
             ("FIN-WAIT-2", "rcv FIN"): ("TIME-WAIT", "a")}[row]
    p, _ = in_state(later[0])
    return getattr(p, later[1])


@pytest.mark.parametrize("row", sorted(ROWS), ids=lambda r: f"{r[0]}: {r[1]}")
def test_every_row(row, monkeypatch):
    rec = Recorder(monkeypatch)
    ep = take(row)
    assert row in rec.rows, rec.rows
    assert str(ep.state) == TRANSITIONS[row][0]


def test_the_walk_covers_the_table(monkeypatch):
    rec = Recorder(monkeypatch)
    for row in ROWS:
        take(row)
    lst = Listener("server", 5001)
    lst.listen(0.0)
    lst.close(0.0)
    taken = set(rec.rows)
    table = set(TRANSITIONS)
    assert taken <= table
    assert not taken & set(UNREACHABLE), taken & set(UNREACHABLE)
    assert table - taken == set(UNREACHABLE), sorted(table - taken - set(UNREACHABLE))


def test_unreachable_rows_are_rows_with_reasons():
    for row, reason in UNREACHABLE.items():
        assert row in TRANSITIONS and len(reason) > 40


def test_the_state_graph_marks_arcs_no_run_takes():
    from tcpsim.plots.states import state_machine_graph
    g = state_machine_graph()
    marked = {(u, v) for u, v, d in g.edges(data=True) if d["unreachable"]}
    assert marked == {("SYN-RECEIVED", "CLOSE-WAIT"), ("FIN-WAIT-1", "TIME-WAIT")}
