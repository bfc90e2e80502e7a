"""What notebook 07 tells students, checked against the simulator and the real captures.

Each test quotes the claim it checks (the notebook's sentence, or the course's source text
that the notebook quotes and tests). If the simulator or a capture changes so that a
sentence of the notebook becomes false, a test here fails.
"""
import pytest

import tcpsim
from tcpsim import course
from tcpsim.profiles import LINUX, RFC9293, TCP_TIMEWAIT_LEN

SOURCES = ("simulated", "real")
DELAYED_ACK_S = LINUX.delayed_ack_s           # 40 ms
JIFFY_S = 0.004                               # CONFIG_HZ=250 on the capture machine


def load(name, source, profile="linux"):
    return course.simulate(name, profile) if source == "simulated" else course.capture(name)


def path(trace, host):
    """The states ``host``'s connection went through (its listener aside), in order."""
    rows = trace.states[(trace.states["host"] == host)
                        & ~trace.states["socket"].astype(str).str.endswith(":listen")]
    return list(rows["to"])


def closing_segments(trace):
    segs = trace.segments
    first = segs.index[segs["flags"].str.contains("F")][0]
    return segs.loc[first:]


def flags_from(trace):
    return [(s["src"], s["flags"]) for _, s in closing_segments(trace).iterrows()]


@pytest.fixture(scope="module")
def four():
    return {s: load("close-four-segments", s) for s in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_the_four_way_close_segments(four, source):
    """"Four segments, the same in both: the client's FIN, the server's ACK of it, later
    the server's own FIN, and the client's ACK of that"; "each is acknowledged with its
    seq + 1" (section 1); the ladders start at segment 7."""
    trace = four[source]
    assert flags_from(trace) == [("client", "FA"), ("server", "A"), ("server", "FA"),
                                 ("client", "A")]
    fin_c, ack_s, fin_s, ack_c = (row for _, row in closing_segments(trace).iterrows())
    assert closing_segments(trace).index[0] == 7 and len(trace.segments) == 11
    assert ack_s["rel_ack"] == fin_c["rel_seq"] + 1 and ack_c["rel_ack"] == fin_s["rel_seq"] + 1
    assert fin_s["rel_ack"] == fin_c["rel_seq"] + 1 and fin_c["len"] == fin_s["len"] == 0


@pytest.mark.parametrize("source", SOURCES)
def test_the_source_text_client_first(four, source):
    """"The client sends FIN and enters FIN-WAIT-1. The server ACKs and enters CLOSE-WAIT;
    the client enters FIN-WAIT-2." "When it is done the server sends FIN; the client ACKs it
    and enters the timed wait. After the timeout the client closes; the server closes as
    soon as it gets the ACK." The notebook: "The client: ESTABLISHED → FIN-WAIT-1 →
    FIN-WAIT-2 → TIME-WAIT → CLOSED 60 s later. The server: ESTABLISHED → CLOSE-WAIT →
    LAST-ACK → CLOSED as soon as the last ACK arrives." (The capture's own states, read from
    its packets, stop at TIME-WAIT: the kernel sends nothing when it ends.)"""
    trace = four[source]
    client, server = path(trace, "client"), path(trace, "server")
    tail = ["ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert client[-5:-1] == tail if source == "simulated" else client[-4:] == tail
    assert server[-4:] == ["ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    last_ack = closing_segments(trace).iloc[-1]
    states = trace.states
    server_closed = states[(states["host"] == "server") & (states["to"] == "CLOSED")]["t"].iloc[-1]
    assert server_closed == pytest.approx(last_ack["arrival"], abs=1e-4)
    if source == "simulated":
        rows = states[states["host"] == "client"]
        entered = rows[rows["to"] == "TIME-WAIT"]["t"].iloc[0]
        assert rows["t"].iloc[-1] - entered == pytest.approx(TCP_TIMEWAIT_LEN)


def test_ss_saw_the_same_states_on_the_kernel():
    """`course.socket_states("close-four-segments")`: what ss showed, FIN-WAIT-1 with its
    retransmission timer, FIN-WAIT-2, TIME-WAIT with "59sec", CLOSE-WAIT, CLOSED."""
    ss = course.socket_states("close-four-segments")
    client = list(ss[ss["host"] == "client"]["to"])
    assert client == ["ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert list(ss[ss["host"] == "server"]["to"])[-2:] == ["CLOSE-WAIT", "CLOSED"]
    assert ss[ss["to"] == "TIME-WAIT"]["timer"].iloc[0] == "timewait,59sec,0"


def test_the_server_enters_close_wait_on_arrival_and_acks_40_ms_later(four):
    """"the server enters CLOSE-WAIT when the FIN *arrives*; its ACK leaves 40 ms later
    here" (section 1); "its pure ACK left after the delayed-ACK timer (40 ms, and a few ms
    more: the kernel's timers tick every 4 ms)" (section 3)."""
    sim = four["simulated"]
    fin = closing_segments(sim).iloc[0]
    rows = sim.states[(sim.states["host"] == "server") & (sim.states["to"] == "CLOSE-WAIT")]
    assert rows["t"].iloc[0] == pytest.approx(fin["arrival"])
    for source in SOURCES:
        fin, ack = closing_segments(four[source]).iloc[0], closing_segments(four[source]).iloc[1]
        gap = ack["t"] - fin["t"]
        assert DELAYED_ACK_S - 1e-4 <= gap <= DELAYED_ACK_S + 3 * JIFFY_S, (source, gap)


@pytest.mark.parametrize("source", SOURCES)
def test_server_first_close(source):
    """"Now the server goes FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT, and the client goes
    CLOSE-WAIT → LAST-ACK → CLOSED"; "three segments, not four" (sections 2 and 3)."""
    trace = load("server-closes-first", source)
    assert path(trace, "server")[-4:-1] == ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"] or \
        path(trace, "server")[-3:] == ["FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert path(trace, "client")[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    assert flags_from(trace) == [("server", "FA"), ("client", "FA"), ("server", "A")]
    assert closing_segments(trace).index[0] == 7


def test_time_wait_is_always_the_side_that_closed_first():
    """"In every one of them, the side that sent the first FIN is the one that waits in
    TIME-WAIT" (section 2's table), real and simulated; and in the other shipped closes."""
    names = ["close-four-segments", "server-closes-first", "handshake", "half-close"]
    table = course.time_wait_table(names)
    assert list(table["capture"]) == names
    assert list(table["first FIN from"]) == list(table["TIME-WAIT (real)"]) == \
        list(table["TIME-WAIT (simulated)"]) == ["client", "server", "client", "client"]
    more = course.time_wait_table(["fin-loss", "time-wait-fin-timeout5", "bulk-100k"])
    assert (more["first FIN from"] == more["TIME-WAIT (real)"]).all()
    assert (more["first FIN from"] == more["TIME-WAIT (simulated)"]).all()


def test_three_segments_when_the_second_close_is_quick():
    """"In handshake the server's FIN+ACK left a fraction of a millisecond after the
    client's FIN; in close-four-segments the server's pure ACK left after the delayed-ACK
    timer, and its FIN 0.5 s later" (section 3, the gaps table); the handshake ladder
    starts at segment 7."""
    gaps = course.close_gaps(["handshake", "close-four-segments"])
    hs = gaps[gaps["capture"] == "handshake"]
    assert list(hs["flags"]) == ["FA", "FA", "A"]
    assert 0 < hs["ms after the first FIN"].iloc[1] < 1.0
    four = gaps[gaps["capture"] == "close-four-segments"]
    assert list(four["flags"]) == ["FA", "A", "FA", "A"]
    assert 1000 * DELAYED_ACK_S <= four["ms after the first FIN"].iloc[1] <= \
        1000 * (DELAYED_ACK_S + 3 * JIFFY_S)
    assert four["ms after the first FIN"].iloc[2] == pytest.approx(500, abs=10)
    assert closing_segments(course.capture("handshake")).index[0] == 7


def test_the_textbook_profile_closes_in_four():
    """"its textbook rfc9293 profile, which ACKs every segment at once, always closes in
    four" (section 3)."""
    for name in ("handshake", "server-closes-first", "close-four-segments"):
        trace = course.simulate(name, profile="rfc9293")
        assert [f for _, f in flags_from(trace)] == ["FA", "A", "FA", "A"], name
    assert RFC9293.delayed_ack is False and LINUX.delayed_ack is True


def test_the_four_or_three_quick_check_answer_is_sealed_right():
    """The predict widget's right choice (b) is the one the captures show."""
    from tcpsim import exercises
    assert exercises.check_four_or_three("b")
    assert exercises.FOUR_OR_THREE_CHOICES["b"].startswith("Four in principle")


@pytest.mark.parametrize("source", SOURCES)
def test_half_close_data_still_flows(source):
    """"After the client's FIN the server's read() returns 0 (end of file) at 0.5 s, yet at
    0.8 s it sends 1000 bytes and the client, in FIN-WAIT-2, reads them and ACKs them at
    once. The server's ACK of the FIN came alone, after the 40 ms timer" (section 4); the
    source: "The server can still send data, and the client can still receive it."; the
    ladder shows segments 3 to 10."""
    trace = load("half-close", source)
    events = trace.events
    server_eof = events[(events["host"] == "server") & (events["call"] == "read")
                        & (events["result"] == 0)]
    assert server_eof["t"].iloc[0] == pytest.approx(0.5, abs=0.01)
    sent = events[(events["host"] == "server") & (events["call"] == "send")]
    assert list(sent["result"]) == [1000] and sent["t"].iloc[0] == pytest.approx(0.8, abs=0.01)
    client_reads = events[(events["host"] == "client") & (events["call"] == "read")]
    assert 1000 in list(client_reads["result"])
    segs = closing_segments(trace)
    assert [(s["src"], s["flags"], s["len"]) for _, s in segs.iterrows()] == [
        ("client", "FA", 0), ("server", "A", 0), ("server", "PA", 1000), ("client", "A", 0),
        ("server", "FA", 0), ("client", "A", 0)]
    data, ack = segs.iloc[2], segs.iloc[3]
    assert ack["t"] - data["t"] < 0.001
    assert segs.iloc[1]["t"] - segs.iloc[0]["t"] >= DELAYED_ACK_S - 1e-4
    assert len(trace.segments) == 11
    states = trace.states
    client = states[states["host"] == "client"]
    in_fw2 = client[client["to"] == "FIN-WAIT-2"]["t"].iloc[0]
    assert in_fw2 < data["t"] < client[client["to"] == "TIME-WAIT"]["t"].iloc[0]


def test_shutdown_finwait2_has_no_timer_but_an_orphan_has_one():
    """"A client in FIN-WAIT-2 after shutdown() may wait there for ever ... Only an
    orphaned FIN-WAIT-2 (after close()) has a time limit" (section 4)."""
    hold = {"hosts": {"client": {"port": 40300, "options": {"fin_timeout": 5}},
                      "server": {"port": 5300}}, "until": 30,
            "actions": [{"at": 0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"at": 0.5, "host": "client", "do": "shutdown"}]}
    assert path(tcpsim.run(hold), "client")[-1] == "FIN-WAIT-2"
    hold["actions"][-1]["do"] = "close"
    assert path(tcpsim.run(hold), "client")[-2:] == ["FIN-WAIT-2", "CLOSED"]


@pytest.mark.parametrize("source", SOURCES)
def test_simultaneous_close(source):
    """"Both sides go FIN-WAIT-1 → CLOSING → TIME-WAIT"; "FIN, FIN, ACK, ACK"; "each FIN is
    ACKed at once" (section 5); the ladder starts at segment 7."""
    trace = load("simultaneous-close", source)
    for host in ("client", "server"):
        assert path(trace, host)[-3:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"] or \
            path(trace, host)[-4:-1] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"]
    assert [f for _, f in flags_from(trace)] == ["FA", "FA", "A", "A"]
    assert closing_segments(trace).index[0] == 7
    segs = closing_segments(trace)
    fins = segs[segs["flags"] == "FA"]
    assert fins["t"].max() < fins["t"].min() + 0.01          # the second left before the first arrived
    hold_s = course.scenario("simultaneous-close")["faults"][0]["delay"]["extra"]
    assert hold_s == 0.01                                   # "held every FIN for 10 ms"


def test_ss_found_two_time_wait_sockets():
    """"ss on the real kernel found two TIME-WAIT sockets" (section 5)."""
    ss = course.socket_states("simultaneous-close")
    assert sorted(ss[ss["to"] == "TIME-WAIT"]["host"]) == ["client", "server"]


@pytest.mark.parametrize("source", SOURCES)
def test_close_with_unread_data_is_a_reset(source):
    """"The RST carries seq = the server's next sequence number and ack = everything it
    received (rel 101), read or not, and the current window"; "sent once, never
    retransmitted"; the client's read gets ECONNRESET (sections 6 and exercise 3); ladder
    segments 3 to 5."""
    trace = load("close-unread", source)
    segs = trace.segments
    rsts = segs[segs["flags"].str.contains("R")]
    assert len(rsts) == 1 and rsts.index[0] == 5 and len(segs) == 6
    rst = rsts.iloc[0]
    assert rst["src"] == "server" and rst["flags"] == "RA"
    assert rst["rel_ack"] == 101 and rst["rel_seq"] == 1 and rst["win"] > 0
    events = trace.events
    assert list(events[events["host"] == "client"]["result"])[-1] == "ECONNRESET"
    assert "FIN-WAIT-1" not in path(trace, "server") and "TIME-WAIT" not in path(trace, "server")


@pytest.mark.parametrize("source", SOURCES)
def test_linger0_resets(source):
    """SO_LINGER 0 then close(): a RST (ladder segments 5 to 7), the peer's read gets
    ECONNRESET, nobody in TIME-WAIT (section 6)."""
    trace = load("linger0", source)
    segs = trace.segments
    assert segs.iloc[-1]["flags"] == "RA" and segs.iloc[-1]["src"] == "client" and len(segs) == 8
    events = trace.events
    assert "ECONNRESET" in list(events[events["host"] == "server"]["result"])
    assert "TIME-WAIT" not in list(trace.states["to"])


def test_a_later_read_after_the_reset_returns_0():
    """"a later read() returns 0 in both" (section 6; the kernel: docs/linux-facts.md §6):
    abort-then-write with one more read by the client after its send's EPIPE."""
    scenario = course.scenario("abort-then-write")
    scenario["actions"].append({"at": 1.0, "host": "client", "do": "read", "bytes": 100})
    events = tcpsim.run(scenario).events
    client = events[events["host"] == "client"]
    assert [(c, r) for c, r in zip(client["call"], client["result"])][-3:] == \
        [("read", "ECONNRESET"), ("send", "EPIPE"), ("read", 0)]


@pytest.mark.parametrize("source", SOURCES)
def test_abort_then_write_gets_econnreset_then_epipe(source):
    """"The real kernel and the simulator agree on the first read's ECONNRESET and the later
    send's EPIPE (data/captures/abort-then-write)"; "the side that sent the RST: nothing:
    its socket is gone at once, with no TIME-WAIT" (section 6); ladder segments 3 to 5."""
    trace = load("abort-then-write", source)
    client = trace.events[trace.events["host"] == "client"]
    assert [(c, r) for c, r in zip(client["call"], client["result"])][-2:] == \
        [("read", "ECONNRESET"), ("send", "EPIPE")]
    segs = trace.segments
    assert len(segs) == 6 and segs.iloc[5]["flags"] == "RA" and segs.iloc[5]["src"] == "server"
    assert "TIME-WAIT" not in list(trace.states["to"])
    assert path(trace, "server")[-1] == "CLOSED"
    scenario = course.scenario("abort-then-write")
    assert [(a["host"], a["do"], a["at"]) for a in scenario["actions"][-2:]] == \
        [("server", "abort", 0.6), ("client", "send", 0.8)]


@pytest.mark.parametrize("source", SOURCES)
def test_close_wait_leak(source):
    """"After the ACK of its FIN, the client sits in FIN-WAIT-2 with a 5 s timer ... and is
    gone about 5 s later; no segment tells the server, which is still in CLOSE-WAIT when the
    run ends at 8 s" (section 7); ladder segments 7 to 8."""
    trace = load("close-wait-leak", source)
    segs = trace.segments
    assert len(segs) == 9 and list(segs["flags"].iloc[7:]) == ["FA", "A"]
    scenario = course.scenario("close-wait-leak")
    assert scenario["until"] == 8.0 and scenario["hosts"]["client"]["options"]["fin_timeout"] == 5
    states = course.socket_states("close-wait-leak") if source == "real" else trace.states
    client = states[states["host"] == "client"]
    entered = client[client["to"] == "FIN-WAIT-2"]
    left = client[client["from"] == "FIN-WAIT-2"]
    assert left["to"].iloc[0] == "CLOSED"
    assert left["t"].iloc[0] - entered["t"].iloc[0] == pytest.approx(5, abs=0.1)
    if source == "real":
        assert entered["timer"].iloc[0].startswith("timewait,")
    server = states[(states["host"] == "server") & (states["to"] != "LISTEN")]
    assert server["to"].iloc[-1] == "CLOSE-WAIT"
    assert segs["t"].max() < 1.0                               # nothing after the FIN's ACK


def test_default_fin_timeout_is_60_s_and_time_wait_is_compiled_in():
    """"after net.ipv4.tcp_fin_timeout seconds (60 by default)"; "TCP_TIMEWAIT_LEN (60 s,
    include/net/tcp.h)"; RFC 9293's TIME-WAIT is 2·MSL (sections 7 and 8)."""
    assert LINUX.fin_timeout_s == 60.0 and TCP_TIMEWAIT_LEN == 60.0 == LINUX.time_wait_s
    assert RFC9293.time_wait_s == 2 * 120.0


@pytest.mark.parametrize("source", SOURCES)
def test_fin_timeout_does_not_change_time_wait(source):
    """"The client's FIN-WAIT-2 timer starts at 5 s, as set; its TIME-WAIT timer starts at
    59 s (ss rounds down), and the socket left TIME-WAIT about 60 s after it entered it"
    (section 8); the simulator's option fin_timeout changes only FIN-WAIT-2."""
    if source == "real":
        ss = course.socket_states("time-wait-fin-timeout5")
        client = ss[ss["host"] == "client"]
        fw2 = client[client["to"] == "FIN-WAIT-2"].iloc[0]
        assert fw2["timer"].startswith("timewait,") and 4.9 <= fw2["timer_left_s"] <= 5
        tw = client[client["to"] == "TIME-WAIT"].iloc[0]
        assert tw["timer"] == "timewait,59sec,0"
        left = client[client["from"] == "TIME-WAIT"].iloc[0]
        assert left["t"] - tw["t"] == pytest.approx(60, abs=0.5)
    else:
        trace = course.simulate("time-wait-fin-timeout5")
        client = trace.states[trace.states["host"] == "client"]
        entered = client[client["to"] == "TIME-WAIT"]["t"].iloc[0]
        left = client[client["from"] == "TIME-WAIT"]["t"].iloc[0]
        assert left - entered == pytest.approx(TCP_TIMEWAIT_LEN)
        assert course.scenario("time-wait-fin-timeout5")["until"] == 64.0


CLOSE_ON_A_LAN = {   # the notebook's explorer scenario (section 9)
    "link": {"mtu": 1500, "delay": 0.001},
    "hosts": {"client": {"port": 40031}, "server": {"port": 5231}},
    "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                {"at": 0.3, "host": "client", "do": "send", "bytes": 100},
                {"at": 0.5, "host": "server", "do": "send", "bytes": 100},
                {"at": 0.8, "host": "client", "do": "close"},
                {"at": 1.3, "host": "server", "do": "close"}]}


def test_explore_scenario_segment_numbers():
    """Section 9: "drop the client's FIN (segment 7), then the server's FIN (segment 9)",
    "drop the last ACK (segment 10)", "the server's close() at 1.3 s"; it is section 1's
    scenario with a 1 ms delay."""
    segs = tcpsim.run(CLOSE_ON_A_LAN).segments
    assert (segs.iloc[7]["src"], segs.iloc[7]["flags"]) == ("client", "FA")
    assert (segs.iloc[9]["src"], segs.iloc[9]["flags"]) == ("server", "FA")
    assert (segs.iloc[10]["src"], segs.iloc[10]["flags"]) == ("client", "A")
    assert len(segs) == 11
    section1 = course.scenario("close-four-segments")
    assert section1["actions"] == CLOSE_ON_A_LAN["actions"]
    assert section1["hosts"] == CLOSE_ON_A_LAN["hosts"]
