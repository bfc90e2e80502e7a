"""The ``crash`` action: a host loses every TCB at once (RFC 9293 §3.5.1, half-open
connections), and the reset that sorts it out (Figures 9 and 10).

Expectations come from the scenario and the trace's own numbers (ISNs, the ACK the peer
sent), never from a dump.
"""
from __future__ import annotations

import pytest

import tcpsim
from tcpsim.endpoint import TRANSITIONS

from conftest import act, entered, events, path, run, scenario, segs, states

PROFILES = ("linux", "rfc9293")


def crashed_then(actions, *, down=0.0, profile="linux", until=10.0, **kw):
    """The client connects at 0, the handshake completes, the client crashes at 1.0."""
    return run(scenario([act(1.0, "client", "crash", down=down)] + list(actions),
                        profile=profile, until=until, **kw))


@pytest.mark.parametrize("profile", PROFILES)
def test_crash_sends_nothing_and_leaves_the_peer_established(profile):
    """A crash loses the TCB silently: the crashed side goes to CLOSED with nothing on the
    wire; the peer stays ESTABLISHED (a half-open connection)."""
    t = crashed_then([], profile=profile, until=5.0)
    assert [s["t"] for s in segs(t) if s["t"] >= 1.0] == []
    client = states(t, socket="client")
    assert client[-1]["to"] == "CLOSED" and client[-1]["t"] == 1.0
    assert client[-1]["cause"] == "host crashed: the TCB is lost"
    assert path(t, "server")[-1] == "ESTABLISHED"
    assert [e["result"] for e in events(t, host="client", call="crash")] == ["ok"]


@pytest.mark.parametrize("profile", PROFILES)
def test_figure_9_half_open_discovery(profile):
    """RFC 9293 Figure 9: the crashed side connects again; the peer, still ESTABLISHED,
    answers the SYN with an ACK of its old sequence numbers; the SYN-SENT side resets with
    SEQ = that ACK's ACK; the peer aborts; the next SYN opens a new connection."""
    t = crashed_then([act(2.0, "client", "connect", to="server")], profile=profile)
    new_syn = segs(t, src="client", flags="S", conn=1)[0]
    answer = next(s for s in segs(t, src="server") if s["t"] > new_syn["t"])
    assert answer["flags"] == "A" and answer["conn"] == 0       # the old connection answers
    old_ack = segs(t, src="server", flags="A", conn=0)[0]
    assert answer["seq"] == old_ack["seq"] and answer["ack"] == old_ack["ack"]
    rst = next(s for s in segs(t, src="client") if s["t"] > answer["t"])
    assert rst["flags"] == "R" and rst["seq"] == answer["ack"]
    assert entered(t, "server", "CLOSED", conn=0) == [pytest.approx(rst["arrival"])]
    assert events(t, host="server", call="read")[-1]["result"] == "ECONNRESET"
    retry = [s for s in segs(t, src="client", flags="S", conn=1) if s["t"] > rst["t"]]
    assert retry and retry[0]["seq"] == new_syn["seq"]           # the same SYN again
    assert path(t, "client", conn=1)[-1] == "ESTABLISHED"
    assert path(t, "server", conn=1)[-3:] == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED"] or \
        path(t, "server", conn=1)[-2:] == ["SYN-RECEIVED", "ESTABLISHED"]
    assert [e["result"] for e in events(t, host="client", call="connect")] == ["ok", "ok"]


@pytest.mark.parametrize("profile", PROFILES)
def test_figure_10_data_to_a_crashed_host_gets_a_reset(profile):
    """RFC 9293 Figure 10: the peer sends data on the half-open connection; the rebooted
    host has no connection and answers RST with SEQ = the data's ACK; the peer aborts."""
    t = crashed_then([act(2.0, "server", "send", bytes=10)], profile=profile)
    data = segs(t, src="server", data=True)[0]
    rst = next(s for s in segs(t, src="client") if s["t"] > data["t"])
    assert rst["flags"] == "R" and rst["seq"] == data["ack"]
    assert path(t, "server")[-1] == "CLOSED"
    assert entered(t, "server", "CLOSED") == [pytest.approx(rst["arrival"])]
    assert events(t, host="server", call="read")[-1]["result"] == "ECONNRESET"


def test_a_host_that_is_down_answers_nothing():
    """While down, segments are lost unanswered (ignored); after the restart the next
    retransmission gets the RST."""
    t = crashed_then([act(1.5, "server", "send", bytes=10)], down=2.0, until=20.0)
    data = segs(t, src="server", data=True)
    while_down = [s for s in data if s["arrival"] < 3.0]
    assert while_down, "the server retransmits while the client is down"
    down = [r for r in t.doc["ignored"] if r["host"] == "client" and "down" in r["reason"]]
    assert {r["segment"] for r in down} == {s["i"] for s in while_down}
    first_after = next(s for s in data if s["arrival"] >= 3.0)
    rst = next(s for s in segs(t, src="client") if s["t"] >= first_after["arrival"])
    assert rst["flags"] == "R" and rst["t"] == pytest.approx(first_after["arrival"])


def test_crash_of_a_listening_host_loses_the_listener():
    """The server crashes: its listener and its connection vanish; a new SYN then gets an
    RST (no socket), until it listens again."""
    t = run(scenario([act(1.0, "server", "crash"), act(2.0, "client", "abort"),
                      act(2.5, "client", "connect", to="server"),
                      act(4.0, "server", "listen"), act(4.5, "client", "connect", to="server")],
                     until=10.0))
    lst = states(t, socket="server:listen")
    assert [(r["to"], r["t"]) for r in lst] == [("LISTEN", 0.0), ("CLOSED", 1.0), ("LISTEN", 4.0)]
    assert [e["result"] for e in events(t, host="client", call="connect")] == \
        ["ok", "ECONNREFUSED", "ok"]


def test_crash_during_the_handshake_and_in_time_wait():
    """Every state has its crash row: a crash in SYN-SENT and in TIME-WAIT ends both."""
    t = run(scenario([act(0.0, "client", "crash")], faults=[
        {"drop": {"from": "client", "flags": "S"}}], until=3.0))
    assert path(t, "client") == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert [s["t"] for s in segs(t, src="client")] == [0.0]      # no SYN retransmission
    t = run(scenario([act(0.5, "client", "close"), act("eof", "server", "close"),
                      act(1.0, "client", "crash")], until=100.0))
    assert path(t, "client")[-2:] == ["TIME-WAIT", "CLOSED"]
    assert entered(t, "client", "CLOSED") == [1.0]


def test_every_state_has_a_crash_row():
    rows = {state for (state, event) in TRANSITIONS if event == "host crash"}
    assert {str(s) for s in rows} == {"LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
                                      "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",
                                      "LAST-ACK", "TIME-WAIT"}
    assert all(TRANSITIONS[row][1].startswith("RFC 9293 §3.5.1") for row in TRANSITIONS
               if row[1] == "host crash")


@pytest.mark.parametrize("change, message", [
    ({"do": "crash", "on": "eof"},
     'actions[2].at: a crash needs "at" (seconds), not "on" or "after"'),
    ({"do": "crash", "at": 1.0, "down": -1},
     "actions[2].down: must be a number >= 0"),
    ({"do": "close", "at": 1.0, "down": 1},
     'actions[2].down: goes with "do": "crash"'),
])
def test_bad_crash_actions_name_the_field(change, message):
    sc = scenario([{"host": "client", **change}])
    with pytest.raises(tcpsim.ScenarioError) as err:
        tcpsim.run(sc)
    assert str(err.value) == message


def test_an_action_while_the_host_is_down_is_refused():
    sc = scenario([act(1.0, "client", "crash", down=2.0), act(2.0, "client", "connect",
                                                               to="server")])
    with pytest.raises(tcpsim.ScenarioError) as err:
        tcpsim.run(sc)
    assert str(err.value) == ("actions[3].at: 'client' is down from 1 s to 3 s (actions[2], "
                              "crash); act at 3 s or later")
