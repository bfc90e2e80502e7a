"""Many connections per host, ephemeral ports and ``after`` actions (issue 14, the contract's
"Additions for the rest of the course").

* A host keeps every connection that is not CLOSED, keyed by its 4-tuple; an arriving segment
  goes to the one with its 4-tuple, else to the listener, else it is answered with an RST
  (RFC 9293 §3.10.7.1), never an RST for an RST.
* ``conn`` numbers a host's connections 0, 1, 2, ... in creation order; segment rows carry
  ``sport``/``dport``; ``send``/``close``/... act on the newest connection; ``on: eof`` runs
  once per connection, on it; ``after`` actions once per connection, ``delay`` s later.
* ``"port": null``: a port per ``connect`` from ``options.port_range``, as Linux's
  ``__inet_hash_connect()`` chooses (tcpsim/ports.py is the model: the expected ports are
  computed from it, never copied from a trace), skipping 4-tuples still held (TIME-WAIT
  included); ``EADDRNOTAVAIL`` when none is left.

The runs are small (a few connections, or a 10-port range) and shared through module-scoped
fixtures.
"""
from __future__ import annotations

import pytest

import tcpsim
from tcpsim.errors import ScenarioError
from tcpsim.keyedhash import secret_from_seed
from tcpsim.ports import EphemeralPorts

from conftest import SERVER_PORT, act, events, scenario

SEED = 3


def ephemeral(actions, *, client=None, server=None, open=True, **kw):
    sc = scenario(actions, client=client, server=server, seed=SEED, open=open, **kw)
    sc["hosts"]["client"]["port"] = None
    return sc


def rows(trace, key):
    return trace.doc[key]


# --------------------------------------------------------------------------- two at once
TWO_AT_ONCE = ephemeral([
    act(0.0, "client", "connect", to="server"),        # a second connection, while the first lives
    act(0.1, "client", "send", bytes=300),             # the newest: conn 1
    act(0.2, "client", "close"),                       # closes conn 1 only
    act("eof", "server", "close"),                     # on each server connection at its EOF
    act(0.5, "client", "close"),                       # the newest is still conn 1: nothing new
], until=5)


@pytest.fixture(scope="module")
def two():
    return tcpsim.run(TWO_AT_ONCE)


def test_each_connection_has_its_own_port_and_conn_id(two):
    syns = [s for s in rows(two, "segments") if s["flags"] == "S"]
    assert [s["conn"] for s in syns] == [0, 1]
    assert syns[0]["sport"] != syns[1]["sport"]
    assert {s["dport"] for s in syns} == {SERVER_PORT}
    accepts = events(two, host="server", call="accept")
    assert [e["conn"] for e in accepts] == [0, 1]
    connects = events(two, host="client", call="connect")
    assert [(e["conn"], e["result"]) for e in connects] == [(0, "ok"), (1, "ok")]


def test_segment_rows_carry_the_4_tuple_of_their_connection(two):
    ports = {}
    for s in rows(two, "segments"):
        client_port = s["sport"] if s["src"] == "client" else s["dport"]
        server_port = s["dport"] if s["src"] == "client" else s["sport"]
        assert server_port == SERVER_PORT
        ports.setdefault((s["src"], s["conn"]), set()).add(client_port)
    # one client port per connection, the same seen from both hosts
    for conn in (0, 1):
        assert len(ports[("client", conn)]) == 1
        assert ports[("client", conn)] == ports[("server", conn)]


def test_send_and_close_act_on_the_newest_connection(two):
    data = [s for s in rows(two, "segments") if s["len"] > 0]
    assert {s["conn"] for s in data} == {1}
    assert sum(s["len"] for s in data if not s["retransmission"]) == 300
    assert [e["result"] for e in events(two, host="server", call="read") if e["conn"] == 1] \
        == [300, 0]
    # conn 0 is never closed by the application: it stays ESTABLISHED on both hosts
    last = {}
    for r in rows(two, "states"):
        last[(r["host"], r["conn"])] = r["to"]
    assert last[("client", 0)] == last[("server", 0)] == "ESTABLISHED"
    assert last[("client", 1)] == "TIME-WAIT" and last[("server", 1)] == "CLOSED"


def test_on_eof_runs_once_per_connection_on_that_connection(two):
    reads0 = [e for e in events(two, host="server", call="read") if e["result"] == 0]
    assert [e["conn"] for e in reads0] == [1]          # only conn 1 saw a FIN
    closes = events(two, host="server", call="close")
    assert [e["conn"] for e in closes] == [1]
    # the client's second close() at 0.5 s acts on its newest connection (conn 1) again
    assert [e["conn"] for e in events(two, host="client", call="close")] == [1, 1]


def test_the_segments_of_each_connection_use_its_own_sequence_space(two):
    isn = {}
    for s in rows(two, "segments"):
        if "S" in s["flags"]:
            isn[(s["src"], s["conn"])] = s["seq"]
    for s in rows(two, "segments"):
        assert s["rel_seq"] == (s["seq"] - isn[(s["src"], s["conn"])]) % 2**32


# --------------------------------------------------------------------------- demultiplexing
def test_a_segment_for_no_connection_is_answered_with_an_rst_and_an_rst_never():
    """The client holds conn 0 (alive) and had conn 1 (its TIME-WAIT over at ~60 s). Segments
    to conn 1's port then match no connection and no listener: an ACK gets an RST with the
    ACK's ack as seq, an RST gets nothing (RFC 9293 §3.10.7.1), and conn 0 never sees them."""
    sc = ephemeral([act(0.0, "client", "connect", to="server"),
                    act(0.2, "client", "close"), act("eof", "server", "close")], until=80,
                   faults=[{"inject": {"from": "server", "at": 70, "flags": "A", "seq": 5,
                                       "ack": 77}},
                           {"inject": {"from": "server", "at": 71, "flags": "R", "seq": 5}}])
    trace = tcpsim.run(sc)
    segments = rows(trace, "segments")
    port1 = [s["sport"] for s in segments if s["flags"] == "S" and s["conn"] == 1][0]
    ack, rst = [s for s in segments if s.get("injected")]
    assert ack["dport"] == rst["dport"] == port1
    answers = [s for s in segments if s["t"] >= 70 and s["src"] == "client"]
    assert [(s["flags"], s["seq"], s["sport"], s["dport"]) for s in answers] == \
        [("R", 77, port1, SERVER_PORT)]
    ignored = {r["segment"]: r["reason"] for r in rows(trace, "ignored")}
    assert ignored[ack["i"]].startswith(f"no socket for port {port1} (RFC 9293 §3.10.7.1)")
    assert ignored[rst["i"]].endswith("an RST is never answered")
    assert [r["to"] for r in rows(trace, "states") if r["host"] == "client" and r["conn"] == 0] \
        == ["SYN-SENT", "ESTABLISHED"]


def test_a_segment_for_a_closed_port_with_other_connections_alive_gets_an_rst():
    """Connections to the server's port stay; a SYN to another port of that host meets no
    socket: RST+ACK, ack = the SYN's seq + 1 (RFC 9293 §3.10.7.1)."""
    sc = scenario([], seed=SEED, faults=[
        {"inject": {"from": "client", "at": 0.2, "flags": "S", "seq": 1000}}])
    sc["hosts"]["server"]["port"] = SERVER_PORT
    trace = tcpsim.run(sc)
    # the injected SYN carries the client's port and the server's port: it reaches the
    # established connection (same 4-tuple), which answers with a challenge ACK, not a reset
    injected = [s for s in rows(trace, "segments") if s.get("injected")][0]
    assert (injected["sport"], injected["dport"]) == (40000, SERVER_PORT)
    after = [s for s in rows(trace, "segments") if s["t"] >= 0.2 and s["src"] == "server"]
    assert after and "R" not in after[0]["flags"]


# --------------------------------------------------------------------------- after actions
AFTER = ephemeral([
    act(0.5, "client", "connect", to="server"),
    {"after": "connect", "host": "client", "delay": 0.2, "do": "send", "bytes": 50},
    {"after": "connect", "host": "client", "delay": 0.3, "do": "close"},
    {"after": "accept", "host": "server", "do": "send", "bytes": 7},
    act("eof", "server", "close"),
], faults=[{"drop": {"from": "client", "flags": "S", "nth": 1}}])   # the first SYN: 1 s later


@pytest.fixture(scope="module")
def after():
    return tcpsim.run(AFTER)


def test_after_connect_runs_delay_seconds_after_each_connect_returned(after):
    oks = {e["conn"]: e["t"] for e in events(after, host="client", call="connect")
           if e["result"] == "ok"}
    assert set(oks) == {0, 1}
    assert oks[0] > 1.0                     # the first SYN was dropped: connect returned late
    sends = [e for e in events(after, host="client", call="send")]
    closes = [e for e in events(after, host="client", call="close")]
    assert sorted((e["conn"], e["t"]) for e in sends) == \
        sorted((c, pytest.approx(t + 0.2)) for c, t in oks.items())
    assert sorted((e["conn"], e["t"]) for e in closes) == \
        sorted((c, pytest.approx(t + 0.3)) for c, t in oks.items())


def test_after_accept_runs_on_the_accepted_connection(after):
    accepts = {e["conn"]: e["t"] for e in events(after, host="server", call="accept")}
    sends = {e["conn"]: e for e in events(after, host="server", call="send")}
    assert set(accepts) == set(sends) == {0, 1}
    for conn, t in accepts.items():
        assert sends[conn]["t"] == pytest.approx(t) and sends[conn]["result"] == 7
    data = [s for s in rows(after, "segments") if s["src"] == "server" and s["len"]]
    assert sorted(s["conn"] for s in data) == [0, 1]


def test_after_fields_are_validated():
    def error(extra):
        sc = ephemeral([{"host": "client", "do": "close", **extra}])
        with pytest.raises(ScenarioError) as info:
            tcpsim.run(sc)
        return str(info.value)
    assert error({"after": "listen"}) == ('actions[2].after: unknown value \'listen\' '
                                          '(use one of "connect", "accept")')
    assert error({"after": "connect", "delay": -1}) == "actions[2].delay: must be a number >= 0"
    assert error({"at": 1, "delay": 1}) == \
        'actions[2].delay: goes with "after": "connect" or "accept"'
    assert error({"at": 1, "after": "connect"}) == 'actions[2]: has both "at" and "after"; use one'


# --------------------------------------------------------------------------- ephemeral ports
RANGE = (40000, 40009)
SHORT = [
    {"after": "connect", "host": "client", "do": "close"},       # client closes first:
    act("eof", "server", "close"),                                 # it keeps TIME-WAIT
]


def exhaust(n_connects, port_range=RANGE, gap=0.01):
    acts = [act(gap * (i + 1), "client", "connect", to="server") for i in range(n_connects)]
    return ephemeral(acts + SHORT, client={"port_range": list(port_range)}, open=False) | {
        "actions": [act(0.0, "server", "listen")] + acts + SHORT}


@pytest.fixture(scope="module")
def exhausted():
    return tcpsim.run(exhaust(12))


def test_ports_are_chosen_as_linux_chooses_them(exhausted):
    """The ports of the run are those EphemeralPorts gives for the same secret and the same
    held ports (every earlier connection is still in TIME-WAIT)."""
    model = EphemeralPorts(secret_from_seed(SEED, "ports"), RANGE)
    held = model.held_ports()
    expected = []
    for _ in range(10):
        port = model.connect_held("10.0.0.1", "10.0.0.2", SERVER_PORT, held)
        held.hold(port)
        expected.append(port)
    syns = [s["sport"] for s in rows(exhausted, "segments") if s["flags"] == "S"]
    assert syns == expected


def test_lo_parity_first_then_the_other_parity_then_eaddrnotavail(exhausted):
    """Measured on the kernel (docs/linux-connections.md §1): [40000, 40009] gives the five
    even ports first, then the five odd ones, then EADDRNOTAVAIL."""
    syns = [s["sport"] for s in rows(exhausted, "segments") if s["flags"] == "S"]
    assert sorted(syns[:5]) == list(range(RANGE[0], RANGE[1] + 1, 2))
    assert sorted(syns[5:]) == list(range(RANGE[0] + 1, RANGE[1] + 1, 2))
    results = [(e["result"], e["conn"]) for e in events(exhausted, host="client", call="connect")]
    assert results[:10] == [("ok", i) for i in range(10)]
    assert results[10:] == [("EADDRNOTAVAIL", None)] * 2


def test_a_port_is_free_again_once_its_time_wait_ends():
    """TIME-WAIT lasts 60 s on linux: a connect after it finds the port free."""
    sc = exhaust(2, port_range=(40000, 40000))
    sc["actions"].append(act(61.0, "client", "connect", to="server"))
    trace = tcpsim.run(sc)
    results = [e["result"] for e in events(trace, host="client", call="connect")]
    assert results == ["ok", "EADDRNOTAVAIL", "ok"]
    assert {s["sport"] for s in rows(trace, "segments") if s["src"] == "client"} == {40000}


def test_a_fixed_port_reconnects_on_the_same_4_tuple():
    sc = scenario([act(0.1, "client", "close"), act("eof", "server", "close"),
                   act(1.0, "client", "connect", to="server")], seed=SEED)
    trace = tcpsim.run(sc)
    syns = [s for s in rows(trace, "segments") if s["flags"] == "S"]
    assert [(s["sport"], s["conn"]) for s in syns] == [(40000, 0), (40000, 1)]


def test_port_range_is_validated_with_its_field_name():
    sc = ephemeral([], client={"port_range": [5000, 4000]})
    with pytest.raises(ScenarioError) as info:
        tcpsim.run(sc)
    assert str(info.value) == "hosts.client.options.port_range: lo must be <= hi (got [5000, 4000])"
    sc = ephemeral([], client={"tw_reuse": 3})
    with pytest.raises(ScenarioError) as info:
        tcpsim.run(sc)
    assert str(info.value).startswith("hosts.client.options.tw_reuse: must be 0")
    # null is the same as leaving the option out
    assert tcpsim.run(ephemeral([], client={"port_range": None, "tw_reuse": None}))


# --------------------------------------------------------------------------- pictures
def test_connection_trace_keeps_one_connection_renumbered(after):
    from tcpsim import plots
    assert plots.connection_ids(after) == [0, 1]
    one = plots.connection_trace(after, 1)
    original = [s for s in rows(after, "segments") if s["conn"] == 1]
    assert [s["trace_i"] for s in one.doc["segments"]] == [s["i"] for s in original]
    assert [s["i"] for s in one.doc["segments"]] == list(range(len(original)))
    assert {r["conn"] for r in one.doc["states"]} == {1}
    assert one.hosts["client"]["port"] == original[0]["sport"]
    with pytest.raises(ValueError, match="conn: no connection 7 in this trace"):
        plots.connection_trace(after, 7)


def test_ladder_of_one_connection_draws_only_its_segments(after):
    from tcpsim import plots
    fig = plots.ladder(after, conn=1)
    arrows = fig.axes[0].tcpsim["arrows"]
    assert len(arrows) == sum(1 for s in rows(after, "segments") if s["conn"] == 1)


def test_connections_view_has_a_row_per_connection_with_its_states(after):
    from tcpsim import plots
    spans = plots.connection_spans(after)
    assert set(spans) == {0, 1}
    for conn in (0, 1):
        client = [state for _, _, state in spans[conn]["client"]]
        assert client == ["SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
        assert [state for _, _, state in spans[conn]["server"]][:2] == ["SYN-RECEIVED",
                                                                        "ESTABLISHED"]
        # each span starts where the previous ended
        items = spans[conn]["client"]
        assert all(a[1] == b[0] for a, b in zip(items, items[1:]))
    fig = plots.connections(after)
    info = fig.axes[0].tcpsim
    assert set(info["rows"]) == {0, 1} and info["note"] is None
    assert info["bars"][(0, "client")] == spans[0]["client"]
    fig = plots.connections(after, max_rows=1)
    assert list(fig.axes[0].tcpsim["rows"]) == [0]
    assert "1 more connections not drawn" in fig.axes[0].tcpsim["note"].get_text()


def bar_width_px(ax, t0, t1):
    """How many pixels the time from t0 to t1 takes on the axis."""
    ax.figure.canvas.draw()
    (x0, _), (x1, _) = ax.transData.transform([(t0, 0), (t1, 0)])
    return x1 - x0


def test_connections_view_squeezes_the_quiet_time_of_time_wait(after):
    """TIME-WAIT's 60 s, in which nothing starts or ends, takes a short piece of the axis
    marked //, so a handshake takes pixels (on the true scale it takes well under one)."""
    from tcpsim import plots
    from tcpsim.plots.connections import quiet_stretches
    spans = plots.connection_spans(after)
    quiet = quiet_stretches(spans)
    assert len(quiet) == 1
    ends = [t1 for items in spans.values() for host in items.values() for t0, t1, s in host]
    time_wait_end = min(t1 for items in spans.values() for t0, t1, s in items["client"]
                        if s == "TIME-WAIT")
    a, b = quiet[0]
    assert b == time_wait_end and a == max(t for t in ends if t < time_wait_end)
    assert b - a > 55                                       # most of TIME-WAIT's 60 s
    shortest = min((item for ends in spans.values() for items in ends.values() for item in items
                    if item[1] > item[0]), key=lambda item: item[1] - item[0])
    squeezed = plots.connections(after).axes[0]
    linear = plots.connections(after, time_axis="linear").axes[0]
    assert squeezed.tcpsim["quiet"] == quiet and linear.tcpsim["quiet"] == []
    # the whole trace is about 62 s, its busy time about 2.5 s: the short states get wider
    assert bar_width_px(squeezed, *shortest[:2]) > 10 * bar_width_px(linear, *shortest[:2])
    texts = [t.get_text() for t in squeezed.texts]
    assert "//" in texts and f"{b - a:.3g} s" in texts
    # the busy time keeps one scale on both sides of the squeezed stretch
    before = bar_width_px(squeezed, a - 0.01, a)
    after_ = bar_width_px(squeezed, b, b + 0.01)
    assert before == pytest.approx(after_, rel=1e-6)
    assert bar_width_px(squeezed, a, b) < 0.5 * bar_width_px(squeezed, spans[0]["client"][0][0], a)


def test_connections_view_refuses_an_unknown_time_axis(after):
    from tcpsim import plots
    with pytest.raises(ValueError, match="time_axis: 'log'"):
        plots.connections(after, time_axis="log")


def test_the_player_plays_one_connection(after):
    from tcpsim import widgets
    p = widgets.player(after, conn=1, views=("ladder",))
    assert {s["conn"] for s in p.trace.doc["segments"]} == {1}
    first_syn = next(s for s in rows(after, "segments") if s["conn"] == 1)
    assert p.times[0] == first_syn["t"]
