"""TIME-WAIT policies in the simulator (issue 14): tw_reuse, a new SYN for a TIME-WAIT
4-tuple, rfc1337, SO_REUSEADDR and EADDRINUSE.

The rules are Linux's, as tcpsim/timewait.py models them and tests/test_kernel_connections.py
measured them on this machine's kernel (docs/linux-connections.md §3):

* ``tcp_twsk_unique()``: an ephemeral ``connect()`` may take over a 4-tuple in TIME-WAIT
  only with timestamps, ``tw_reuse`` 1 (or 2 with a loopback address), and once
  ``tcp_tw_reuse_delay`` (1000 ms) has passed since the peer's last timestamp; the new SYN
  starts at the old ``snd_nxt + 65537`` with a newer TSval.
* ``tcp_timewait_state_process()``: a SYN beyond the old sequence space (or with a newer
  timestamp, RFC 6191) reopens the connection, the SYN-ACK's ISN being ``snd_nxt + 65537``;
  an in-window RST ends TIME-WAIT unless ``rfc1337``.
* ``inet_csk_bind_conflict()``: ``listen()`` on a port TIME-WAIT connections hold fails
  with EADDRINUSE unless SO_REUSEADDR (``reuseaddr``) is set.

Expected times and numbers are computed from each trace (when TIME-WAIT began, the FIN's
sequence number), never copied from one.
"""
from __future__ import annotations

import pytest

import tcpsim

from conftest import DELAY, SERVER_PORT, act, events, scenario

TW_ISN_GAP = 65535 + 2        # tcp_twsk_unique(), tcp_timewait_state_process()
ATTEMPTS = [round(0.1 + 0.05 * k, 3) for k in range(30)]      # connect every 50 ms to 1.55 s


def reuse_scenario(tw_reuse=None, loopback=True, timestamps=None, delay_ms=None):
    """One ephemeral port: conn 0 opens at 0 and the client closes first (TIME-WAIT); then
    connect() every 50 ms."""
    options = {"port_range": [40000, 40000]}
    if tw_reuse is not None:
        options["tw_reuse"] = tw_reuse
    if timestamps is not None:
        options["timestamps"] = timestamps
    if delay_ms is not None:
        options["tw_reuse_delay"] = delay_ms
    sc = scenario([act(t, "client", "connect", to="server") for t in ATTEMPTS] + [
        {"after": "connect", "host": "client", "do": "close"},
        act("eof", "server", "close")], client=options,
        server={"timestamps": timestamps} if timestamps is not None else None, until=3.0)
    sc["hosts"]["client"]["port"] = None
    if loopback:
        sc["hosts"]["client"]["addr"] = "127.0.0.1"
        sc["hosts"]["server"]["addr"] = "127.0.0.2"
    return sc


def connect_results(trace):
    return [(e["t"], e["result"]) for e in events(trace, host="client", call="connect")]


def time_wait_entered(trace, conn):
    return next(r["t"] for r in trace.doc["states"]
                if r["host"] == "client" and r["conn"] == conn and r["to"] == "TIME-WAIT")


@pytest.fixture(scope="module")
def reused():
    return tcpsim.run(reuse_scenario(tw_reuse=1))


def test_tw_reuse_takes_the_port_over_once_the_delay_has_passed(reused):
    tw_at = time_wait_entered(reused, 0)
    results = [(t, r) for t, r in connect_results(reused) if t > 0.05]
    first_ok = next(t for t, r in results if r == "ok")
    # every attempt before tw_reuse_delay (1 s) failed, the first one after it succeeded
    assert all(r == "EADDRNOTAVAIL" for t, r in results if t < first_ok)
    assert 1.0 < first_ok - tw_at <= 1.0 + 0.05 + 0.01
    old = [r for r in reused.doc["states"] if r["host"] == "client" and r["conn"] == 0]
    assert old[-1]["to"] == "CLOSED" and old[-1]["from"] == "TIME-WAIT"
    assert old[-1]["cause"] == "connect() reuses the port"


def test_the_new_syn_continues_the_old_sequence_space_and_timestamps(reused):
    segments = reused.doc["segments"]
    old_fin = next(s for s in segments if s["src"] == "client" and s["conn"] == 0
                   and "F" in s["flags"])
    old_last_ts = [s["options"]["ts"][0] for s in segments
                   if s["src"] == "client" and s["conn"] == 0][-1]
    syn = next(s for s in segments if s["src"] == "client" and s["conn"] == 1 and s["flags"] == "S")
    assert syn["sport"] == old_fin["sport"] == 40000
    assert syn["seq"] == (old_fin["seq"] + 1 + TW_ISN_GAP) % 2**32
    assert 0 < (syn["options"]["ts"][0] - old_last_ts) % 2**32 < 2**31     # newer (PAWS)


@pytest.mark.parametrize("case", [
    dict(tw_reuse=2, loopback=False),      # the default: loopback only
    dict(tw_reuse=0, loopback=True),
    dict(tw_reuse=1, loopback=True, timestamps=False),    # no PAWS, no reuse
])
def test_no_reuse_without_the_conditions(case):
    trace = tcpsim.run(reuse_scenario(**case))
    results = connect_results(trace)
    assert results[0][1] == "ok"
    assert {r for _, r in results[1:]} == {"EADDRNOTAVAIL"}


def test_tw_reuse_2_is_on_for_loopback_and_the_delay_is_an_option():
    trace = tcpsim.run(reuse_scenario(loopback=True, delay_ms=200))   # tw_reuse 2: default
    tw_at = time_wait_entered(trace, 0)
    first_ok = next(t for t, r in connect_results(trace) if t > 0.05 and r == "ok")
    assert 0.2 < first_ok - tw_at <= 0.2 + 0.05 + 0.01


# --------------------------------------------------------------------------- passive side
def reopen_scenario(profile="linux"):
    """The server closes first and keeps TIME-WAIT; the client connects again at once from
    the same port."""
    return scenario([{"after": "accept", "host": "server", "do": "close"},
                     act("eof", "client", "close"),
                     act(0.5, "client", "connect", to="server")], profile=profile, until=3.0)


def test_a_new_syn_reopens_a_time_wait_connection_with_isn_snd_nxt_plus_65537():
    trace = tcpsim.run(reopen_scenario())
    server_tw = [r for r in trace.doc["states"] if r["host"] == "server" and r["conn"] == 0]
    assert server_tw[-1]["from"] == "TIME-WAIT" and server_tw[-1]["to"] == "CLOSED"
    assert server_tw[-1]["cause"] == "SYN for a new incarnation"
    segments = trace.doc["segments"]
    old_fin = next(s for s in segments if s["src"] == "server" and s["conn"] == 0
                   and "F" in s["flags"])
    synack = next(s for s in segments if s["src"] == "server" and s["conn"] == 1
                  and s["flags"] == "SA")
    assert synack["seq"] == (old_fin["seq"] + 1 + TW_ISN_GAP) % 2**32
    assert [e["result"] for e in events(trace, host="client", call="connect")] == ["ok", "ok"]


def test_rfc9293_keeps_its_clock_isn_for_the_new_incarnation():
    trace = tcpsim.run(reopen_scenario("rfc9293"))
    segments = trace.doc["segments"]
    old_fin = next(s for s in segments if s["src"] == "server" and s["conn"] == 0
                   and "F" in s["flags"])
    synack = next(s for s in segments if s["src"] == "server" and s["conn"] == 1
                  and s["flags"] == "SA")
    assert synack["seq"] != (old_fin["seq"] + 1 + TW_ISN_GAP) % 2**32


# --------------------------------------------------------------------------- rfc1337
def rst_scenario(rfc1337, seq):
    sc = scenario([act(0.1, "client", "close"), act("eof", "server", "close")],
                  client={"rfc1337": rfc1337}, until=100,
                  faults=[] if seq is None else
                  [{"inject": {"from": "server", "at": 1.0, "flags": "R", "seq": seq}}])
    return sc


@pytest.fixture(scope="module")
def rcv_nxt():
    """The client's RCV.NXT in TIME-WAIT: the server's FIN + 1."""
    trace = tcpsim.run(rst_scenario(False, None))
    fin = next(s for s in trace.doc["segments"] if s["src"] == "server" and "F" in s["flags"])
    return (fin["seq"] + 1) % 2**32


@pytest.mark.parametrize("rfc1337", [False, True])
def test_an_in_window_rst_ends_time_wait_unless_rfc1337(rcv_nxt, rfc1337):
    trace = tcpsim.run(rst_scenario(rfc1337, rcv_nxt))
    client = [r for r in trace.doc["states"] if r["host"] == "client"]
    after = [r for r in client if r["t"] >= 1.0]
    if not rfc1337:
        assert [(r["from"], r["to"]) for r in after] == [("TIME-WAIT", "CLOSED")]
        assert after[0]["t"] == pytest.approx(1.0 + DELAY)
    else:
        assert [(r["from"], r["to"]) for r in after] == [("TIME-WAIT", "TIME-WAIT"),
                                                         ("TIME-WAIT", "CLOSED")]
        assert after[0]["t"] == pytest.approx(1.0 + DELAY)
        assert after[1]["t"] == pytest.approx(61.0 + DELAY)


def test_an_rst_outside_the_window_never_ends_time_wait(rcv_nxt):
    trace = tcpsim.run(rst_scenario(False, (rcv_nxt + 5000) % 2**32))
    closed = [r for r in trace.doc["states"] if r["host"] == "client" and r["to"] == "CLOSED"]
    assert closed[-1]["from"] == "TIME-WAIT" and closed[-1]["t"] > 60


# --------------------------------------------------------------------------- EADDRINUSE
def restart_scenario(reuseaddr=None):
    """The server closes first (TIME-WAIT on its port), closes its listener and listens again."""
    options = {} if reuseaddr is None else {"reuseaddr": reuseaddr}
    return scenario([{"after": "accept", "host": "server", "do": "close"},
                     act("eof", "client", "close"),
                     {"at": 0.5, "host": "server", "do": "close", "listener": True},
                     act(0.6, "server", "listen"),
                     act(0.7, "client", "connect", to="server")],
                    server=options, client_port=None, until=5)


@pytest.mark.parametrize("reuseaddr", [None, False, True])
def test_listen_on_a_port_time_wait_holds_needs_so_reuseaddr(reuseaddr):
    trace = tcpsim.run(restart_scenario(reuseaddr))
    listens = [e["result"] for e in events(trace, host="server", call="listen")]
    second_connect = events(trace, host="client", call="connect")[1]["result"]
    if reuseaddr:
        assert listens == ["ok", "ok"] and second_connect == "ok"
    else:
        assert listens == ["ok", "EADDRINUSE"] and second_connect == "ECONNREFUSED"
    # the listening socket went LISTEN -> CLOSED at 0.5 s either way
    listener = [r for r in trace.doc["states"] if r["socket"] == "server:listen"]
    assert (listener[1]["from"], listener[1]["to"], listener[1]["t"]) == ("LISTEN", "CLOSED", 0.5)
    assert all(s["dport"] == SERVER_PORT for s in trace.doc["segments"] if s["src"] == "client")
