"""Regression tests for what fuzzing found (issue 10: 10 000 scenarios, 20 000 mutated pcaps,
500 lossy transfers), each with the issue's repro.

Four simulator bugs (three livelocked until the event budget, after gigabytes and with a
traceback from the CLI), then the smaller findings: a chain of ``on: eof`` reconnects, a huge
``seed``, a huge ``link.delay``, JSON text with a byte-order mark. A run that does not settle
must end in one line naming the cause (``SimulationStuck``, a ``ScenarioError``).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tcpsim
from tcpsim.clock import MAX_EVENTS_AT_ONE_INSTANT, Clock
from tcpsim.endpoint import Endpoint
from tcpsim.errors import ScenarioError, SimulationStuck
from tcpsim.profiles import PROFILES
from tcpsim.segment import Segment

from conftest import error_events, fmt, path

ROOT = Path(__file__).resolve().parent.parent


def listen_connect(**extra):
    return [{"at": 0, "host": "server", "do": "listen"},
            {"at": 0, "host": "client", "do": "connect", "to": "server"}] + extra.get("then", [])


# ------------------------------------------------------------------------------ bug 1
def test_time_wait_sockets_do_not_ack_each_other_for_ever():
    """Bug 1: after a simultaneous close, one duplicated FIN made the two TIME-WAIT sockets
    ACK each other for ever. An in-window bare ACK in TIME-WAIT is now taken silently (RFC
    9293 §3.10.7.4 fifth check; linux tcp_timewait_state_process())."""
    sc = {"hosts": {"client": {}, "server": {}},
          "actions": listen_connect(then=[{"at": 0.5, "host": "client", "do": "close"},
                                          {"at": 0.5, "host": "server", "do": "close"}]),
          "faults": [{"duplicate": {"from": "server", "flags": "FA", "extra": 0.001}}]}
    t = tcpsim.run(sc)
    segments = t.doc["segments"]
    assert len(segments) < 20, fmt(t)
    for host in ("client", "server"):
        assert path(t, host)[-2:] == ["TIME-WAIT", "CLOSED"], fmt(t)
    # the duplicate FIN is ACKed once (RFC 9293: a retransmitted FIN is ACKed) and that
    # ACK gets no answer
    (fin,) = [s for s in segments if s["src"] == "server" and s["flags"] == "FA"]
    after = [s for s in segments if s["t"] >= fin["copies"][0]]
    assert [(s["src"], s["flags"]) for s in after] == [("client", "A")], fmt(t)


# ------------------------------------------------------------------------------ bug 2
@pytest.mark.parametrize("profile", ["rfc9293", "linux"])
def test_two_way_transfer_survives_lost_acks(profile):
    """Bug 2: both sides have data in flight and their ACKs are lost. The pure ACKs each
    sends after its timeout carried the rewound SND.NXT, below the peer's RCV.NXT, and were
    discarded ACK field and all, so both retransmitted until ETIMEDOUT (663 s on rfc9293,
    925 s on linux). An ACK now carries the highest sequence number sent (RFC 9293
    §3.10.7.4 <SEQ=SND.NXT>; linux tcp_acceptable_seq())."""
    sc = {"profile": profile,
          "hosts": {"client": {"options": {"mss": 536}}, "server": {"options": {"mss": 536}}},
          "actions": listen_connect(then=[{"at": 0.3, "host": "client", "do": "send", "bytes": 1072},
                                          {"at": 0.3, "host": "server", "do": "send", "bytes": 1072}]),
          "faults": [{"drop": {"flags": "A", "between": [0.300005, 0.31]}}], "until": 3000}
    t = tcpsim.run(sc)
    assert not error_events(t), fmt(t)
    assert len(t.delivered["client"]) == len(t.delivered["server"]) == 1072
    assert path(t, "client")[-1] == path(t, "server")[-1] == "ESTABLISHED", fmt(t)
    last_data = max(s["t"] for s in t.doc["segments"] if s["len"])
    assert last_data < 5, fmt(t)            # one retransmission timeout, not fifteen
    for s in t.doc["segments"]:
        if s["flags"] == "A" and not s["len"]:
            sent = [x for x in t.doc["segments"] if x["src"] == s["src"] and x["t"] <= s["t"]]
            highest = max(x["rel_seq"] + x["len"] + ("S" in x["flags"]) for x in sent)
            assert s["rel_seq"] == highest, fmt(t)


def _established_pair(profile):
    """Two endpoints after a handshake, wired by hand (no simulator)."""
    p = PROFILES[profile]
    a = Endpoint("a", "a", "b", 40000, 5001, p, 1460, 1000, 0, 0, 0.0)
    b = Endpoint("b", "b", "a", 5001, 40000, p, 1460, 5000, 0, 0, 0.0)
    (syn,) = a.connect(0.0)
    (synack,) = b.listen_child(syn, 0.0)
    (ack,) = a.on_segment(synack, 0.0)
    b.on_segment(ack, 0.0)
    assert a.state == b.state == "ESTABLISHED"
    return a, b


@pytest.mark.parametrize("profile, acked", [("linux", True), ("rfc9293", False)])
def test_old_segment_at_rcv_wup_has_its_ack_taken_on_linux_only(profile, acked):
    """Linux's sequence check starts at RCV.WUP, the RCV.NXT of the last window it sent
    (tcp_sequence()); RFC 9293 §3.10.7.4 starts at RCV.NXT and drops the rest, ACK field
    included. Here b has data from a that it has not ACKed yet, and a's pure ACK of b's data
    carries a sequence number below b's RCV.NXT but at its RCV.WUP."""
    a, b = _established_pair(profile)
    b_data = b.send(b"x" * 100, 0.1)[1]
    a.on_segment(b_data[0], 0.1)
    wup = b.rcv_nxt
    b.rcv_wup = wup                        # the window b last sent was at this RCV.NXT
    b.rcv_nxt = (wup + 10) & 0xFFFFFFFF    # ... then 10 bytes came in, not ACKed yet
    b.rcv_adv_right = (b.rcv_adv_right + 10) & 0xFFFFFFFF
    ack_of_b = Segment("a", "b", 40000, 5001, wup, b.snd_max, "A", 1000)
    b.on_segment(ack_of_b, 0.2)
    assert (b.snd_una == b.snd_max) is acked


# ------------------------------------------------------------------------------ bug 3
def test_small_receive_buffer_still_opens_a_window():
    """Bug 3: a connecting side whose rcvbuf (32768) is below 65535 but smaller than one MSS
    (65483 at the default MTU) offered a window of 0 after the handshake and received
    nothing, not even the FIN. Linux rounds the initial window down to whole segments only
    when it holds more than one (tcp_select_initial_window())."""
    sc = {"hosts": {"client": {"options": {"rcvbuf": 32768}}, "server": {}},
          "actions": listen_connect(then=[{"at": 0.1, "host": "server", "do": "send", "bytes": 1000},
                                          {"at": 0.1, "host": "server", "do": "close"}])}
    t = tcpsim.run(sc)
    assert t.delivered["client"] == tcpsim.scenario.payload_pattern(1000), fmt(t)
    assert path(t, "client")[-1] == "CLOSE-WAIT", fmt(t)
    third_ack = t.doc["segments"][2]
    assert third_ack["src"] == "client" and third_ack["win"] > 0, fmt(t)


# ------------------------------------------------------------------------------ bug 4
def test_half_open_connections_do_not_trade_syn_acks_for_ever():
    """Bug 4: two half-open connections (injected SYNs, two listeners, zero ISNs, no link
    delay) answered each other's SYN-ACK with a SYN-ACK for ever. Only a SYN without ACK is
    the peer's retransmitted SYN (linux tcp_check_req(): flg == TCP_FLAG_SYN)."""
    sc = {"link": {"delay": 0},
          "hosts": {"client": {"port": 40000, "options": {"isn_strategy": "zero"}},
                    "server": {"port": 5001, "options": {"isn_strategy": "zero"}}},
          "actions": [{"at": 0, "host": "server", "do": "listen"},
                      {"at": 0, "host": "client", "do": "listen"}],
          "faults": [{"inject": {"at": 0.1, "from": "client", "flags": "S", "seq": 0, "ack": 0}},
                     {"inject": {"at": 0.1, "from": "server", "flags": "S", "seq": 0, "ack": 0}}]}
    t = tcpsim.run(sc)
    assert len(t.doc["segments"]) < 20, fmt(t)
    assert sum(s["flags"] == "SA" for s in t.doc["segments"]) == 2, fmt(t)


# ------------------------------------------------------------------- livelock guard
def test_a_zero_time_loop_ends_in_one_line():
    """Whatever the cause, time standing still ends in SimulationStuck, a ScenarioError."""
    clock = Clock(10.0)

    def again(now):
        clock.schedule(now, again)

    clock.schedule(1.0, again)
    with pytest.raises(SimulationStuck) as err:
        clock.run()
    assert isinstance(err.value, ScenarioError)
    assert str(err.value) == f"more than {MAX_EVENTS_AT_ONE_INSTANT} events at t=1.000000 s"


EOF_CHAIN = {"hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
             "actions": listen_connect(then=[
                 # (an on-eof action acts on the connection that saw the EOF, so the
                 # shutdown of each new connection is an "after": "connect" action)
                 {"after": "connect", "host": "client", "do": "shutdown"},
                 {"on": "eof", "host": "server", "do": "close"},
                 {"on": "eof", "host": "client", "do": "connect", "to": "server"}])}


def test_on_eof_reconnects_end_in_a_message_about_the_scenario():
    """An on-eof connect runs at every EOF, on each new connection too: it used to chain
    connections until the event budget and then ask for a bug report."""
    with pytest.raises(ScenarioError) as err:
        tcpsim.run(EOF_CHAIN)
    text = str(err.value)
    assert "\n" not in text and "bug" not in text
    assert "more than 1000 connections" in text
    assert "actions[4] (on eof: connect) ran 1000 times" in text
    assert "every end of file" in text


def test_cli_prints_one_line_for_a_run_that_does_not_settle(tmp_path):
    f = tmp_path / "chain.json"
    f.write_text(json.dumps(EOF_CHAIN))
    r = subprocess.run([sys.executable, "-m", "tcpsim", "run", str(f)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: the scenario opens")
    assert r.stdout == ""


# -------------------------------------------------------------------- smaller findings
def test_seed_with_thousands_of_digits_is_refused_by_name():
    sc = {"hosts": {"client": {}, "server": {}}, "seed": 10 ** 5000}
    with pytest.raises(ScenarioError, match=r"^seed: must be an integer from -2\*\*63 to 2\*\*64 - 1$"):
        tcpsim.run(sc)


@pytest.mark.parametrize("where, doc", [
    ("link.delay", {"link": {"delay": 1e308}}),
    ("until", {"until": 1e308}),
    ("actions[0].at", {"actions": [{"at": 1e308, "host": "server", "do": "listen"}]}),
])
def test_huge_times_are_refused_by_name(where, doc):
    """"link": {"delay": 1e308} made the CLI print Infinity, which is not JSON."""
    sc = {"hosts": {"client": {}, "server": {}}, **doc}
    with pytest.raises(ScenarioError, match="^" + where.replace("[", r"\[").replace("]", r"\]")
                       + r": must be at most 1000000 \(seconds\)$"):
        tcpsim.run(sc)


def test_json_text_with_a_byte_order_mark_is_json():
    """It was taken for a file path, and the error echoed the whole text."""
    text = "\ufeff" + json.dumps({"hosts": {"client": {}, "server": {}},
                                  "actions": listen_connect()})
    t = tcpsim.run(text)
    assert [s["flags"] for s in t.doc["segments"][:3]] == ["S", "SA", "A"]


def test_a_long_bad_path_is_cut_in_the_message():
    with pytest.raises(ScenarioError) as err:
        tcpsim.run("no-such-dir/" + "x" * 500 + ".json")
    assert len(str(err.value)) < 120


@pytest.mark.parametrize("profile, answered", [("linux", 2), ("rfc9293", 1)])
def test_linux_acks_every_retransmitted_fin(profile, answered):
    """Two copies of the server's FIN arrive 0.1 s apart. A copy ends at RCV.NXT = RCV.WUP:
    Linux's sequence check takes it (tcp_sequence()) and tcp_data_queue() ACKs it at once,
    each time. For rfc9293 it is unacceptable, and answers to those are rate-limited to one
    per 500 ms (RFC 5961 §7)."""
    sc = {"profile": profile, "hosts": {"client": {"port": 40000}, "server": {"port": 5001}},
          "actions": listen_connect(then=[{"at": 0.5, "host": "server", "do": "shutdown"}]),
          "faults": [{"duplicate": {"from": "server", "flags": "FA", "extra": 0.1}},
                     {"duplicate": {"from": "server", "flags": "FA", "extra": 0.2}}],
          "until": 5}
    t = tcpsim.run(sc)
    (fin,) = [s for s in t.doc["segments"] if s["src"] == "server" and s["flags"] == "FA"]
    assert len(fin["copies"]) == 2, fmt(t)
    acks = [s for s in t.doc["segments"] if s["src"] == "client" and s["flags"] == "A"
            and any(s["t"] == copy for copy in fin["copies"])]
    assert len(acks) == answered, fmt(t)


def test_a_run_over_the_event_budget_names_the_repeating_segments(monkeypatch):
    """Any other run that does not settle: one line, what kept repeating, a bug to report."""
    import tcpsim.clock
    monkeypatch.setattr(tcpsim.clock, "MAX_EVENTS", 200)
    sc = {"hosts": {"client": {}, "server": {}},
          "actions": listen_connect(then=[{"at": 0.1, "host": "client", "do": "send",
                                           "bytes": 10_000_000}])}
    with pytest.raises(SimulationStuck) as err:
        tcpsim.run(sc)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("the run does not settle (more than 200 events by t=")
    assert "client->server [A] x" in text and "please report the scenario" in text
