"""The listener under load: SYN queue and backlog, SYN cookies, a spoofed-SYN flood.

The decisions are the pure models' (tcpsim/backlog.py, tcpsim/syncookies.py, checked against
the kernel in tests/test_kernel_connections.py); these tests check that the Listener and the
simulator carry them out: which SYN gets a child, a cookie or nothing, what a cookie
connection keeps of the options, and that a flood fills the queue and cookies take over.
Simulation runs are module-scoped fixtures (each takes milliseconds).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tcpsim import events as ev
from tcpsim import syncookies
from tcpsim.connoptions import ConnectionOptions
from tcpsim.errors import ScenarioError
from tcpsim.faults import flood_syns
from tcpsim.keyedhash import secret_from_seed
from tcpsim.listener import Listener
from tcpsim.pcap import list_streams, read_pcap, write_pcap
from tcpsim.scenario import parse_scenario
from tcpsim.segment import SEQ_MASK, Segment
from tcpsim.simulator import run

from endpoint_pair import endpoint

SERVER_PORT, CLIENT_PORT = 5201, 40001
HOSTS = ("client", "server")


def scenario(server=None, client=None, faults=(), actions=None, until=None):
    doc = {"tcpsim": 1, "seed": 3, "link": {"mtu": 1500, "delay": 0.001},
           "hosts": {"client": {"port": CLIENT_PORT, "options": client or {}},
                     "server": {"port": SERVER_PORT, "options": server or {}}},
           "actions": actions or [
               {"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
               {"at": 0.3, "host": "client", "do": "send", "bytes": 3000},
               {"at": 0.5, "host": "server", "do": "send", "bytes": 100},
               {"at": 0.8, "host": "client", "do": "close"},
               {"on": "eof", "host": "server", "do": "close"}],
           "faults": list(faults)}
    if until is not None:
        doc["until"] = until
    return doc


def segments(trace, src=None, flags=None):
    return [r for r in trace.doc["segments"]
            if (src is None or r["src"] == src) and (flags is None or r["flags"] == flags)]


def server_states(trace):
    return [(s["from"], s["to"]) for s in trace.doc["states"] if s["host"] == "server"]


# ---------------------------------------------------------------------- sans-IO listener
def make_children(**options):
    """make_child for a Listener with no simulator: children are endpoints on port 5201."""
    made = []

    def make_child(seg, iss=None, keep=True):
        child = endpoint("server", seg.src, SERVER_PORT, seg.sport,
                         iss=5000 + len(made) if iss is None else iss, options=options)
        if keep:
            made.append(child)
        return child

    return made, make_child


def syn_from(port, seq=1000, options=None):
    return Segment("client", "server", port, SERVER_PORT, seq, 0, "S", 64240, b"",
                   {"mss": 1460} if options is None else options)


def listening(**conn_options):
    lst = Listener("server", SERVER_PORT, options=ConnectionOptions(**conn_options),
                   cookie_secret=secret_from_seed(1, "syncookies"), addr="10.0.0.2")
    lst.listen(0.0)
    lst.events.clear()
    return lst


def test_syn_queue_holds_backlog_plus_one_then_drops_without_cookies():
    lst = listening(backlog=3, syn_cookies=0)
    made, make_child = make_children()
    answers = [lst.on_segment(syn_from(40000 + i), 0.0, make_child) for i in range(6)]
    assert [child is not None for child, _ in answers] == [True] * 4 + [False] * 2
    assert lst.syn_queue == made and len(made) == 4
    assert [out for _, out in answers[4:]] == [[], []]          # dropped: nothing sent
    assert [e.reason for e in lst.events] == [
        ("LISTEN: SYN dropped: SYN queue full and tcp_syncookies=0 (TCPReqQFullDrop) "
         "(linux tcp_conn_request())")] * 2
    assert lst.counters["TCPReqQFullDrop"] == 2


def test_a_full_syn_queue_answers_with_cookies_and_keeps_nothing():
    lst = listening(backlog=3, syn_cookies=1)
    made, make_child = make_children()
    answers = [lst.on_segment(syn_from(40000 + i), 0.0, make_child) for i in range(6)]
    assert len(made) == 4 and lst.syn_queue == made
    for child, out in answers[4:]:
        (synack,) = out
        assert child is None and synack.flags == "SA"
    assert lst.counters["SyncookiesSent"] == 2
    assert all("SYN cookie as ISN sent, no connection created" in e.reason for e in lst.events)


def test_a_full_accept_queue_drops_every_syn_cookies_or_not():
    for cookies in (0, 1, 2):
        lst = listening(backlog=1, syn_cookies=cookies)
        lst.accept_queue = ["waiting", "waiting"]        # 2 > backlog 1: full
        made, make_child = make_children()
        child, out = lst.on_segment(syn_from(40000), 0.0, make_child)
        assert (child, out, made) == (None, [], [])
        assert "accept queue full" in lst.events[-1].reason
        assert lst.counters["ListenOverflows"] == 1


def _handshake_to_final_ack(lst, make_child, port=40000):
    client = endpoint("client", "server", port, SERVER_PORT, iss=1000)
    (syn,) = client.connect(0.0)
    child, (synack,) = lst.on_segment(syn, 0.0, make_child)
    (ack,) = client.on_segment(synack, 0.01)
    return client, child, synack, ack


@pytest.mark.parametrize("abort_on_overflow", [False, True])
def test_final_ack_meets_a_full_accept_queue(abort_on_overflow):
    """tcp_check_req(): the ACK is dropped (the request stays, its SYN-ACK is retransmitted)
    or, with tcp_abort_on_overflow, answered with an RST and the request dropped."""
    lst = listening(backlog=1, abort_on_overflow=abort_on_overflow)
    _, make_child = make_children()
    _, child, _, ack = _handshake_to_final_ack(lst, make_child)
    lst.accept_queue = ["waiting", "waiting"]
    out = lst.final_ack(child, ack, 0.01)
    assert "accept queue full" in lst.events[-1].reason
    if abort_on_overflow:
        (rst,) = out
        assert rst.flags == "R" and rst.seq == ack.ack and child.state == "CLOSED"
        assert child not in lst.syn_queue and child.timers == {}
    else:
        assert out == [] and child.state == "SYN-RECEIVED" and child in lst.syn_queue
        child.on_timer(child.next_deadline())                # the SYN-ACK again
        assert child.state == "SYN-RECEIVED"
    lst.accept_queue = []
    assert lst.final_ack(child, ack, 0.02) is None           # room again: the child takes it


def test_final_ack_with_room_goes_to_the_child():
    lst = listening(backlog=1)
    _, make_child = make_children()
    _, child, _, ack = _handshake_to_final_ack(lst, make_child)
    assert lst.final_ack(child, ack, 0.01) is None
    child.on_segment(ack, 0.01)
    assert child.state == "ESTABLISHED"


def test_a_cookie_ack_rebuilds_the_connection_established_at_once():
    lst = listening(syn_cookies=2)
    made, make_child = make_children()
    client, child, synack, ack = _handshake_to_final_ack(lst, make_child)
    assert child is None and made == [] and lst.syn_queue == []
    child, out = lst.on_segment(ack, 0.01, make_child)
    assert child is made[0] and child.state == "ESTABLISHED" and out == []
    assert child.iss == synack.seq and child.irs == client.iss
    assert [(e.old, e.new) for e in child.events if isinstance(e, ev.StateChanged)] == [
        ("LISTEN", "ESTABLISHED")]
    assert lst.counters["SyncookiesRecv"] == 1


def test_a_cookie_ack_meeting_a_full_accept_queue_is_dropped_silently():
    lst = listening(backlog=1, syn_cookies=2, abort_on_overflow=True)
    made, make_child = make_children()
    _, _, _, ack = _handshake_to_final_ack(lst, make_child)
    lst.accept_queue = ["waiting", "waiting"]
    assert lst.on_segment(ack, 0.01, make_child) == (None, [])     # no RST, whatever the sysctl
    assert made == [] and "accept queue is full: ACK dropped" in lst.events[-1].reason


def test_a_forged_ack_is_checked_only_after_a_cookie_was_sent():
    lst = listening(syn_cookies=1)
    _, make_child = make_children()
    forged = Segment("client", "server", 40000, SERVER_PORT, 1001, 123456, "A", 500)
    child, (rst,) = lst.on_segment(forged, 1.0, make_child)
    assert child is None and rst.seq == 123456 and lst.counters["SyncookiesFailed"] == 0
    lst.last_cookie_sent = 0.5
    child, (rst,) = lst.on_segment(forged, 1.0, make_child)
    assert child is None and rst.flags == "R" and lst.counters["SyncookiesFailed"] == 1
    assert "SYN cookie check failed" in lst.events[-1].reason
    lst.last_cookie_sent = 1.0 - syncookies.SYNCOOKIE_VALID_S      # 2 minutes ago: not checked
    lst.on_segment(forged, 1.0, make_child)
    assert lst.counters["SyncookiesFailed"] == 1


# ---------------------------------------------------------------------- simulated cookies
@pytest.fixture(scope="module")
def cookie_run():
    return run(scenario({"syn_cookies": 2}))


@pytest.fixture(scope="module")
def plain_run():
    return run(scenario({"syn_cookies": 0}))


def test_cookie_isn_encodes_the_mss_index_and_checks_out(cookie_run):
    (syn,) = segments(cookie_run, "client", "S")
    (synack,) = segments(cookie_run, "server", "SA")
    secret = secret_from_seed(3, "syncookies:server")
    four = ("10.0.0.1", "10.0.0.2", CLIENT_PORT, SERVER_PORT)
    index, age = syncookies.cookie_mss_index(secret, four, syn["seq"], synack["seq"], synack["t"])
    assert (index, age) == (syncookies.mss_index(syn["options"]["mss"]), 0)
    assert syncookies.check_cookie(secret, four, (syn["seq"] + 1) & SEQ_MASK,
                                   (synack["seq"] + 1) & SEQ_MASK, synack["t"]).valid


def test_cookie_connection_keeps_no_state_until_the_final_ack(cookie_run, plain_run):
    assert server_states(plain_run)[1:3] == [("LISTEN", "SYN-RECEIVED"),
                                             ("SYN-RECEIVED", "ESTABLISHED")]
    assert server_states(cookie_run)[1] == ("LISTEN", "ESTABLISHED")
    assert "SYN-RECEIVED" not in {s for pair in server_states(cookie_run) for s in pair}
    (first,) = [r for r in cookie_run.doc["ignored"] if r["host"] == "server"]
    assert "SYN cookie" in first["reason"] and first["segment"] == 0
    assert cookie_run.delivered["server"] == plain_run.delivered["server"]   # same data


def test_cookie_tsval_carries_wscale_and_sack(cookie_run):
    (syn,) = segments(cookie_run, "client", "S")
    (synack,) = segments(cookie_run, "server", "SA")
    tsval = synack["options"]["ts"][0]
    from tcpsim import isn as isn_mod
    from tcpsim.simulator import Simulation
    sim = Simulation(parse_scenario(scenario({"syn_cookies": 2})))
    offset = isn_mod.ts_offset("linux", ("10.0.0.2", SERVER_PORT, "10.0.0.1", CLIENT_PORT),
                               sim.secret)
    raw = (tsval - offset) & SEQ_MASK
    assert raw & 0x3F == syn["options"]["wscale"] | syncookies.TS_OPT_SACK
    assert int(synack["t"] * 1000) - 64 < raw <= int(synack["t"] * 1000)
    assert set(synack["options"]) == {"mss", "sack_perm", "ts", "wscale"}


def test_lost_synacks_are_never_retransmitted_by_a_cookie_listener():
    drop = [{"drop": {"from": "server", "flags": "SA", "nth": [1, 2]}}]
    trace = run(scenario({"syn_cookies": 2}, faults=drop))
    synacks = segments(trace, "server", "SA")
    syns = segments(trace, "client", "S")
    assert len(syns) == 3 and len(synacks) == 3                # one answer per SYN
    assert all(not r["retransmission"] for r in synacks)
    assert [round(a["t"] - s["t"], 6) for s, a in zip(syns, synacks)] == [0.001] * 3
    plain = run(scenario({"syn_cookies": 0}, faults=drop))
    assert any(r["retransmission"] for r in segments(plain, "server", "SA"))


@pytest.fixture(scope="module")
def no_ts_runs():
    """The client does not do timestamps; a loss makes the receiver report SACK if it can."""
    loss = [{"drop": {"from": "client", "data_segment": 1}}]
    client = {"timestamps": False, "mss": 1400}
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
               {"at": 0.3, "host": "client", "do": "send", "bytes": 3000},
               {"at": 0.5, "host": "server", "do": "send", "bytes": 3000},
               {"at": 0.8, "host": "client", "do": "close"},
               {"on": "eof", "host": "server", "do": "close"}]
    return {cookies: run(scenario({"syn_cookies": cookies}, client, loss, actions))
            for cookies in (0, 2)}


def test_without_timestamps_a_cookie_keeps_only_the_mss(no_ts_runs):
    plain, cookie = no_ts_runs[0], no_ts_runs[2]
    assert set(segments(plain, "server", "SA")[0]["options"]) == {"mss", "sack_perm", "wscale"}
    assert set(segments(cookie, "server", "SA")[0]["options"]) == {"mss"}
    # SACK lost: the server's duplicate ACKs after the lost segment carry no SACK blocks
    assert any("sack" in r["options"] for r in segments(plain, "server", "A"))
    assert not any("sack" in r["options"] for r in segments(cookie, "server", "A"))
    # window scale lost: the server's windows are raw bytes (at most 65535), not units of 1024
    plain_win = segments(plain, "server", "A")[-1]["win"]
    cookie_win = segments(cookie, "server", "A")[-1]["win"]
    assert plain_win < 200 < cookie_win <= 65535
    # the server's MSS: the client's 1400 rounded down to the kernel's table, 1300 (the
    # client still sends 1400-byte segments: the SYN-ACK announced the server's 1460)
    assert max(r["len"] for r in segments(plain, "server")) == 1400
    assert max(r["len"] for r in segments(cookie, "server")) == 1300
    assert max(r["len"] for r in segments(cookie, "client")) == 1400
    assert plain.delivered["server"] == cookie.delivered["server"]


def test_a_forged_ack_after_a_cookie_gets_an_rst_and_a_reason():
    inject = [{"drop": {"from": "client", "flags": "A", "nth": 1}},    # no connection yet
              {"inject": {"at": 0.2, "from": "client", "flags": "A", "seq": 5, "ack": 77}}]
    actions = [{"at": 0.0, "host": "server", "do": "listen"},
               {"at": 0.1, "host": "client", "do": "connect", "to": "server"}]
    trace = run(scenario({"syn_cookies": 2}, faults=inject, actions=actions, until=1.0))
    (rst,) = segments(trace, "server", "R")
    assert rst["seq"] == 77
    reasons = [r["reason"] for r in trace.doc["ignored"] if r["host"] == "server"]
    assert "(SYN cookie check failed: " in reasons[-1]      # a wrong count or MSS index


CAPTURES = Path(__file__).resolve().parent.parent / "data" / "captures"


def test_the_kernels_cookie_synack_without_timestamps_carries_only_the_mss():
    """data/captures/syncookies-no-ts.pcap (tcp_syncookies=2, timestamps off, client MSS
    1400): what the simulator does above, on the wire of the real kernel."""
    real = read_pcap(CAPTURES / "syncookies-no-ts.pcap").doc
    ports = {h["port"]: name for name, h in real["hosts"].items()}
    synack = next(r for r in real["segments"] if r["flags"] == "SA")
    assert set(synack["options"]) == {"mss"}
    server = [r for r in real["segments"] if ports[SERVER_PORT] == r["src"]]
    assert max(r["len"] for r in server) == 1300
    always = read_pcap(CAPTURES / "syncookies-always.pcap").doc
    synack = next(r for r in always["segments"] if r["flags"] == "SA")
    assert set(synack["options"]) == {"mss", "sack_perm", "ts", "wscale"}


# ---------------------------------------------------------------------- a flood
FLOOD = {"flood": {"to": "server", "count": 200, "between": [0.0, 0.05]}}


@pytest.fixture(scope="module")
def flood_runs():
    return {cookies: run(scenario({"backlog": 8, "syn_cookies": cookies}, faults=[FLOOD]))
            for cookies in (0, 1)}


def test_flood_syns_come_from_spoofed_sources_that_never_answer(flood_runs):
    trace = flood_runs[1]
    spoofed = [r for r in trace.doc["segments"] if r["src"] not in HOSTS]
    assert len(spoofed) == 200 and {r["flags"] for r in spoofed} == {"S"}
    assert len({r["src"] for r in spoofed}) > 100            # 200 draws from 256 addresses
    syns = flood_syns(parse_scenario(scenario(faults=[FLOOD])).faults[0].flood, 3, 0)
    assert len({(s.addr, s.port) for s in syns}) == 200        # each from its own pair
    assert [r["src"] for r in spoofed] == [s.addr for s in syns]
    assert all(r["src"].startswith("198.51.100.") and r.get("injected") for r in spoofed)
    assert spoofed[-1]["t"] < 0.05
    to_spoofed = [r for r in trace.doc["segments"] if r["dst"] not in HOSTS]
    assert to_spoofed and all(r["dropped"] for r in to_spoofed)
    assert {r["flags"] for r in to_spoofed} == {"SA"}


def test_flood_fills_the_syn_queue_then_cookies_take_over(flood_runs):
    trace = flood_runs[1]
    children = [s for s in trace.doc["states"] if s["host"] == "server"
                and (s["from"], s["to"]) == ("LISTEN", "SYN-RECEIVED")]
    assert len(children) == 9              # backlog + 1 flood requests
    assert {c["conn"] for c in children} < {r["conn"] for r in trace.doc["states"]}
    cookies = [r for r in trace.doc["ignored"] if "SYN cookie as ISN" in r["reason"]]
    assert len(cookies) == 200 - 9 + 1     # the rest of the flood, and the client
    first_cookie = trace.doc["segments"][cookies[0]["segment"]]
    assert first_cookie["src"] not in HOSTS
    # the real client gets a cookie too, and is served at once: its connection is rebuilt
    # from the cookie (LISTEN -> ESTABLISHED), its data read
    assert server_states(trace).count(("LISTEN", "ESTABLISHED")) == 1
    ok = [e for e in trace.doc["events"] if e["host"] == "client" and e["call"] == "connect"]
    assert ok[0]["result"] == "ok" and ok[0]["t"] == pytest.approx(0.102)
    assert len(trace.delivered["server"]) == 3000


def test_without_cookies_a_flood_locks_the_client_out(flood_runs):
    trace = flood_runs[0]
    drops = [r for r in trace.doc["ignored"] if "TCPReqQFullDrop" in r["reason"]]
    syns = segments(trace, "client", "S")
    assert len(drops) == 200 - 9 + len(syns) - 1       # every client SYN but the last dropped
    ok = [e for e in trace.doc["events"] if e["host"] == "client" and e["call"] == "connect"]
    # the flood's requests leave only when their SYN-ACK retries are over (1+2+...+32 = 63 s)
    assert ok[0]["result"] == "ok" and 63 < ok[0]["t"] < 130
    assert len(trace.delivered["server"]) == 3000


def test_a_flood_trace_writes_as_a_pcap_from_its_spoofed_addresses(tmp_path):
    """Rows to or from a spoofed source carry their own sport/dport (every row has them: the
    contract's many-connections addition); the pcap has one connection per
    spoofed (address, port): a queued request's SYN-ACK retransmitted (1+2+4+8+16 s), a
    cookie's sent once."""
    doc = scenario({"backlog": 2}, faults=[{"flood": {"to": "server", "count": 5,
                                                      "between": [0, 0.01]}}])
    trace = run(doc)
    spoofed = [r for r in trace.doc["segments"] if "client" not in (r["src"], r["dst"])]
    assert all(r["sport"] != SERVER_PORT and r["dport"] == SERVER_PORT for r in spoofed if r["dst"] == "server")
    assert all(r["sport"] == SERVER_PORT and r["dport"] != SERVER_PORT for r in spoofed if r["src"] == "server")
    write_pcap(trace.doc, tmp_path / "flood.pcap")
    streams = list_streams(tmp_path / "flood.pcap")
    assert [s.split("flags ")[1] for s in streams[:5]] == ["S:1 SA:6"] * 3 + ["S:1 SA:1"] * 2
    assert streams[0].split()[1].startswith("198.51.100.")


def test_flood_is_reproducible_and_old_faults_unchanged(flood_runs):
    again = run(scenario({"backlog": 8, "syn_cookies": 1}, faults=[FLOOD]))
    assert again.doc == flood_runs[1].doc


@pytest.mark.parametrize("body, message", [
    ({"count": 5, "between": [0, 1]}, "faults[0].flood.to: missing"),
    ({"to": "nobody", "count": 5, "between": [0, 1]}, "faults[0].flood.to: unknown value"),
    ({"to": "server", "between": [0, 1]}, "faults[0].flood.count: missing"),
    ({"to": "server", "count": 0, "between": [0, 1]}, "faults[0].flood.count: must be a positive"),
    ({"to": "server", "count": 5}, "faults[0].flood.between: missing"),
    ({"to": "server", "count": 5, "between": [2, 1]}, "faults[0].flood.between: must be a list"),
    ({"to": "server", "count": 5, "between": [0, 1], "from_ports": [9, 2]},
     "faults[0].flood.from_ports: lo must be <= hi"),
    ({"to": "server", "count": 5, "between": [0, 1], "from_ports": [0, 2]},
     "faults[0].flood.from_ports[0]: must be an integer from 1 to 65535"),
    ({"to": "server", "count": 5, "between": [0, 1], "from_ports": 7},
     "faults[0].flood.from_ports: must be a list"),
    ({"to": "server", "count": 5, "between": [0, 1], "from_addrs": "10.0.0.0/40"},
     "faults[0].flood.from_addrs: must be an IPv4 network"),
    ({"to": "server", "count": 5, "between": [0, 1], "from_addrs": "10.1.1.1/32",
      "from_ports": [1000, 1003]}, "faults[0].flood.count: must be at most 4,"),
    ({"to": "server", "count": 5, "between": [0, 1], "port": 70000},
     "faults[0].flood.port: must be an integer from 1 to 65535"),
    ({"to": "server", "count": 5, "between": [0, 1], "rate": 3},
     "faults[0].flood.rate: unknown field"),
])
def test_flood_fields_are_validated_one_line_each(body, message):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(scenario(faults=[{"flood": body}]))
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text


def test_new_host_options_are_validated_with_their_field():
    for options, message in [({"backlog": 0}, "hosts.server.options.backlog: must be a positive"),
                             ({"syn_cookies": 3}, "hosts.server.options.syn_cookies: must be 0")]:
        with pytest.raises(ScenarioError, match="^" + message.replace(".", r"\.")):
            parse_scenario(scenario(options))
