"""What notebook 10 (the interview questions) tells students, checked against the simulator
and the real captures.

Each test quotes the sentence it checks (the notebook's answer to one question, or a row of
its myth-vs-fact table). If the simulator, a profile or a capture changes so that a
sentence becomes false, a test here fails. tcpsim/interview.py builds the runs;
tests/test_fidelity.py compares each capture with its simulation as a whole.
"""
import pytest

import tcpsim
from tcpsim import backlog, course, interview
from tcpsim.exercises import answers, interview as selftest
from tcpsim.plots import connection_trace
from tcpsim.profiles import LINUX, RFC9293, TCP_DELACK_MIN, TCP_TIMEOUT_MIN, TCP_TIMEWAIT_LEN

SOURCES = ("simulated", "real")
IMMEDIATE_S = 0.001        # an answer with no timer in between (loopback)
JIFFY_S = 0.004            # CONFIG_HZ=250 on the capture machine


def load(name, source, stream=0):
    if source == "real":
        return course.capture(name, stream=stream)
    trace = course.simulate(name)
    return connection_trace(trace, stream) if stream else trace


def flags(trace, start=0, stop=None):
    return [(s["src"], s["flags"]) for _, s in trace.segments.iloc[start:stop].iterrows()]


def host_states(trace, host):
    rows = trace.states[(trace.states["host"] == host)
                        & ~trace.states["socket"].astype(str).str.endswith(":listen")]
    return list(rows["to"])


def calls(trace, host, call):
    events = trace.events
    return events[(events["host"] == host) & (events["call"] == call)]


# ---------------------------------------------------------------------- the table
def test_every_question_has_a_capture_a_notebook_and_working_ladders():
    """'seventeen of the classic questions ... each one with evidence: a run of the
    simulator's linux profile and a real capture' and '*In depth:* the notebook of the
    course that teaches it'."""
    assert len(interview.QUESTIONS) == 17
    table = interview.questions()
    assert list(table["#"]) == list(range(1, 18))
    teaches = {"02-three-way-handshake", "03-initial-sequence-numbers", "04-why-three-way",
               "05-buffers-and-acks", "06-loss-and-reordering", "07-closing-a-connection",
               "08-time-wait"}
    for q in interview.QUESTIONS:
        assert q.capture in course.names() and q.teaches in teaches
        html = interview.side_by_side(q.key)._repr_html_()
        assert html.count("<svg") == 2 and f"{q.capture}.pcap" in html


def test_an_unknown_question_is_a_clear_error():
    with pytest.raises(KeyError, match="no interview question 'nope'.*why-three"):
        interview.side_by_side("nope")


# ---------------------------------------------------------------------- 1 why three
@pytest.mark.parametrize("source", SOURCES)
def test_1_the_handshake_is_three_segments(source):
    """'the handshake, simulated and real' (three segments)."""
    assert flags(load("handshake", source), 0, 3) == [("client", "S"), ("server", "SA"),
                                                      ("client", "A")]


def test_1_an_old_duplicate_syn_opens_a_connection_only_with_two_segments():
    """'With three segments the client answers the unexpected SYN-ACK with an RST and the
    server's program never sees the old SYN; with two, the server's accept() returns a
    connection at 0.2 s that nobody asked for.'"""
    three = tcpsim.run(interview.old_duplicate_syn("three-way"))
    assert flags(three, 0, 3) == [("client", "S"), ("server", "SA"), ("client", "R")]
    assert list(calls(three, "server", "accept")["t"].round(3)) == [1.0]
    two = tcpsim.run(interview.old_duplicate_syn("two-way"))
    assert list(calls(two, "server", "accept")["t"].round(3)) == [0.2, 1.0]


# ---------------------------------------------------------------------- 2 why four
@pytest.mark.parametrize("source", SOURCES)
def test_2_four_segments_when_the_server_closes_later_three_when_at_once(source):
    """'four segments when the server's program closes 0.5 s after the client's FIN', and
    'a program that closes within that time sends one segment with both, FIN and ACK:
    three segments' (handshake)."""
    four = load("close-four-segments", source)
    assert [f for _, f in flags(four, 7)] == ["FA", "A", "FA", "A"]
    three = load("handshake", source)
    assert [f for _, f in flags(three, 7)] == ["FA", "FA", "A"]


def test_2_the_ack_of_a_fin_waits_40_ms():
    """'Linux delays the ACK of a FIN by up to 40 ms': in close-four-segments the server's
    pure ACK leaves after the delayed-ACK timer; in handshake its FIN+ACK well within it."""
    gaps = course.close_gaps(["handshake", "close-four-segments"])
    four = gaps[gaps["capture"] == "close-four-segments"]
    ack = four[four["flags"] == "A"].iloc[0]["ms after the first FIN"]
    assert TCP_DELACK_MIN * 1000 <= ack <= TCP_DELACK_MIN * 1000 + 3 * JIFFY_S * 1000
    three = gaps[gaps["capture"] == "handshake"]
    assert three.iloc[1]["flags"] == "FA" and three.iloc[1]["ms after the first FIN"] < 5


def test_2_the_textbook_profile_closes_in_four():
    """'the textbook profile ACKs at once: four segments'."""
    trace = course.simulate("handshake", profile="rfc9293")
    assert [f for _, f in flags(trace, 7)] == ["FA", "A", "FA", "A"]


# ---------------------------------------------------------------------- 3 lost SYNs
def test_3_linux_sends_11_syns_and_gives_up_after_about_131_s():
    """'Linux 6.18 does it with tcp_syn_retries = 6 and tcp_syn_linear_timeouts = 4: the
    first retransmissions leave 1 s apart, the later ones after doubling intervals, and the
    kernel gives up by time, at the first expiry after 127 s (2⁷ − 1): 11 SYNs, ETIMEDOUT
    after about 131 s.' Myth table: '11 SYNs, about 131 s'."""
    assert (LINUX.syn_retries, LINUX.syn_linear_timeouts) == (6, 4)
    trace = interview.syn_schedules()["linux"]
    syns = trace.segments[trace.segments["flags"] == "S"]
    times = list(syns["t"])
    gaps = [round(b - a, 6) for a, b in zip(times, times[1:])]
    assert len(times) == 11
    assert gaps[:5] == [1.0] * 5 and gaps[5:] == [2.0, 4.0, 8.0, 16.0, 32.0]
    (failed,) = calls(trace, "client", "connect").itertuples()
    assert failed.result == "ETIMEDOUT" and times[-1] < 2 ** 7 - 1 <= failed.t
    assert failed.t == pytest.approx(131, abs=1)


def test_3_the_textbook_timer_doubles_from_the_start():
    """'The RFC 6298 timer of the textbook (rfc9293 profile) doubles from the start.'"""
    trace = interview.syn_schedules()["rfc9293"]
    times = list(trace.segments[trace.segments["flags"] == "S"]["t"])
    gaps = [round(b - a, 6) for a, b in zip(times, times[1:])]
    assert gaps[:4] == [1.0, 2.0, 4.0, 8.0] and RFC9293.syn_linear_timeouts == 0


def test_3_the_real_kernels_first_syn_retransmissions_are_1_s_apart():
    """syn-loss (check it yourself): the first two SYNs dropped, each retransmission about
    1 s after the one before (1 s plus the kernel's timer lateness)."""
    segments = course.capture("syn-loss").segments
    syns = segments[segments["flags"] == "S"]
    gaps = list(syns["t"].diff().dropna())
    assert len(gaps) == 2 and all(1.0 <= g <= 1.0 + 10 * JIFFY_S for g in gaps)
    assert list(syns["dropped"]) == [True, True, False]


@pytest.mark.parametrize("source", SOURCES)
def test_3_a_lost_synack_both_sides_retransmit(source):
    """'When the SYN-ACK is lost, both sides retransmit: the server its SYN-ACK after 1 s,
    the client its SYN, which the server answers with one more SYN-ACK.'"""
    segments = load("synack-loss", source).segments
    synacks = segments[segments["flags"] == "SA"]
    syns = segments[segments["flags"] == "S"]
    assert bool(synacks["dropped"].iloc[0]) and len(synacks) == 3 and len(syns) == 2
    for gap in (synacks["t"].iloc[1] - synacks["t"].iloc[0], syns["t"].iloc[1] - syns["t"].iloc[0]):
        assert 1.0 - 1e-6 <= gap <= 1.0 + 10 * JIFFY_S
    after_syn = synacks[synacks.index > syns.index[1]]
    assert len(after_syn) >= 1 and after_syn["t"].iloc[0] - syns["t"].iloc[1] < IMMEDIATE_S


# ---------------------------------------------------------------------- 4 third ACK
@pytest.mark.parametrize("source", SOURCES)
def test_4_the_first_data_completes_the_servers_handshake(source):
    """'in the capture the client's 100 bytes reach a server still in SYN-RECEIVED, and the
    server delivers them and ACKs them at once' (no SYN-ACK retransmitted)."""
    trace = load("interview-ack-loss", source)
    segments = trace.segments
    third = segments.iloc[2]
    assert (third["flags"], bool(third["dropped"])) == ("A", True)
    data, answer = segments.iloc[3], segments.iloc[4]
    assert (data["flags"], data["len"], answer["src"], answer["rel_ack"]) == ("PA", 100, "server", 101)
    assert answer["t"] - data["t"] < IMMEDIATE_S
    assert (segments["flags"] == "SA").sum() == 1
    assert list(calls(trace, "server", "read")["result"])[0] == 100
    # the server was SYN-RECEIVED until the data (the real one as ss saw it: the wire alone
    # cannot tell that the third segment never arrived)
    states = course.socket_states("interview-ack-loss") if source == "real" else trace.states
    server = states[(states["host"] == "server") & (states["to"] == "ESTABLISHED")].iloc[0]
    assert server["from"] == "SYN-RECEIVED" and server["t"] >= data["t"] - 1e-6
    assert calls(trace, "server", "accept")["t"].iloc[0] >= data["t"] - 1e-6


def test_4_without_data_the_server_retransmits_its_synack_after_1_s():
    """'If the client sends nothing, the server retransmits its SYN-ACK after 1 s and the
    client ACKs it again.'"""
    trace = tcpsim.run(interview.third_ack_lost_no_data())
    assert flags(trace, 0, 5) == [("client", "S"), ("server", "SA"), ("client", "A"),
                                  ("server", "SA"), ("client", "A")]
    s = trace.segments
    assert s["t"].iloc[3] - s["t"].iloc[1] == pytest.approx(LINUX.initial_rto_s, abs=1e-3)
    assert s["t"].iloc[4] - s["t"].iloc[3] < IMMEDIATE_S


# ---------------------------------------------------------------------- 5 last ACK
@pytest.mark.parametrize("source", SOURCES)
def test_5_the_server_sends_its_fin_again_and_time_wait_acks_it(source):
    """'the FIN again after the server's RTO, 206 ms later on the wire, 200 ms in the
    simulation', 'it answers the repeated FIN with the same ACK at once', 'The server closes
    when that ACK arrives'."""
    trace = load("interview-last-ack-loss", source)
    s = trace.segments
    lost = s[s["dropped"]].iloc[0]
    fins = s[(s["src"] == "server") & (s["flags"] == "FA")]
    assert len(fins) == 2 and lost["flags"] == "A" and lost["src"] == "client"
    gap_ms = (fins["t"].iloc[1] - fins["t"].iloc[0]) * 1000
    assert round(gap_ms) == (206 if source == "real" else 200)
    again = s[s.index > fins.index[1]].iloc[0]
    assert (again["src"], again["flags"], again["seq"], again["ack"]) == \
        ("client", "A", lost["seq"], lost["ack"])
    assert again["t"] - fins["t"].iloc[1] < IMMEDIATE_S
    assert host_states(trace, "server")[-1] == "CLOSED"


def test_5_time_wait_restarts_its_timer_at_the_repeated_fin():
    """'starts its TIME-WAIT timer again (RFC 9293 §3.10.7.4)'."""
    states = course.simulate("interview-last-ack-loss").states
    client = states[states["host"] == "client"]
    restart = client[(client["from"] == "TIME-WAIT") & (client["to"] == "TIME-WAIT")]
    end = client[(client["from"] == "TIME-WAIT") & (client["to"] == "CLOSED")]
    assert len(restart) == 1 and "restart" in restart["cause"].iloc[0]
    assert end["t"].iloc[0] - restart["t"].iloc[0] == pytest.approx(TCP_TIMEWAIT_LEN)


def test_5_without_time_wait_the_repeated_fin_gets_an_rst():
    """'had the client already forgotten the connection, the FIN would get an RST'."""
    doc = course.scenario("interview-last-ack-loss")
    doc["hosts"]["client"]["options"] = {"time_wait": 0}
    s = tcpsim.run(doc).segments
    fins = s[(s["src"] == "server") & (s["flags"] == "FA")]
    answer = s[s.index > fins.index[1]].iloc[0]
    assert answer["src"] == "client" and "R" in answer["flags"]


# ---------------------------------------------------------------------- 6 data
@pytest.mark.parametrize("source", SOURCES)
def test_6_fast_open_syn_carries_6_bytes_which_the_synack_acknowledges(source):
    """'the SYN carries 6 bytes, and the SYN-ACK acknowledges them'; 'the SYN itself
    carries data, which the server accepts and acknowledges in its SYN-ACK'."""
    s = load("fastopen", source, stream=1).segments
    assert (s["flags"].iloc[0], s["len"].iloc[0]) == ("S", 6)
    assert (s["flags"].iloc[1], s["rel_ack"].iloc[1]) == ("SA", 7)
    assert s["options"].iloc[0]["tfo"]          # the cookie from the first connection


def test_6_linux_sends_the_third_segment_empty():
    """'Linux sends it empty and the data right after it, as every other capture here
    shows.'"""
    for q in interview.QUESTIONS:
        if q.capture in ("fastopen", "refused"):
            continue
        s = course.capture(q.capture, stream=q.stream).segments
        synack = s.index[s["flags"] == "SA"]
        if len(synack):
            third = s[(s.index > synack[0]) & (s["src"] == "client")].iloc[0]
            assert third["len"] == 0, q.capture


# ---------------------------------------------------------------------- 7 ISN
def test_7_linux_isns_are_a_keyed_hash_plus_a_clock_and_differ_per_connection():
    """'Linux adds a keyed hash of the four addresses and ports to a clock' (RFC 6528)."""
    assert LINUX.isn_strategy == "rfc6528"
    isns = set()
    for port in (40001, 40002, 40003):
        doc = course.scenario("handshake")
        doc["hosts"]["client"]["port"] = port
        isns.add(tcpsim.run(doc).doc["hosts"]["client"]["isn"])
    assert len(isns) == 3


@pytest.mark.parametrize("source", SOURCES)
def test_7_a_cookie_connection_opens_as_usual(source):
    """'the final ACK acknowledges the cookie + 1, and the connection opens as usual'."""
    trace = load("syncookies-always", source)
    s = trace.segments
    assert s["ack"].iloc[2] == (s["seq"].iloc[1] + 1) % 2 ** 32
    assert "ESTABLISHED" in host_states(trace, "server")
    assert list(calls(trace, "server", "read")["result"])[0] == 100


def test_7_the_simulated_listener_stored_nothing_for_the_cookie_request():
    """'Only with SYN cookies does it store nothing': the simulated listener answered with
    a cookie and had no request in SYN-RECEIVED before the final ACK."""
    trace = course.simulate("syncookies-always")
    ignored = trace.ignored
    assert ignored["reason"].str.contains("SYN cookie").any()
    server = trace.states[trace.states["host"] == "server"]
    assert "SYN-RECEIVED" not in list(server[~server["socket"].str.endswith(":listen")]["to"])


# ---------------------------------------------------------------------- 8 queues
def test_8_the_queue_rules():
    """'on Linux both are limited by the listen() backlog, capped by net.core.somaxconn. A
    SYN that finds the SYN queue full gets a SYN cookie (tcp_syncookies = 1, the default) or
    is dropped; a SYN that finds the accept queue full is dropped. A final ACK that finds
    the accept queue full is dropped too, so the server retransmits its SYN-ACK, unless
    tcp_abort_on_overflow = 1, which answers with an RST.'"""
    assert backlog.max_ack_backlog(10 ** 6) == backlog.SOMAXCONN_DEFAULT == 4096
    rules = list(interview.queue_rules()["Linux"])
    assert "tcp_syncookies=0" in rules[0] and "cookie" in rules[1]
    assert "accept queue full" in rules[2] and "retransmits" in rules[2]
    assert "ACK dropped" in rules[3] and "retransmitted" in rules[3]
    assert "RST" in rules[4]
    from tcpsim.connoptions import ConnectionOptions
    assert ConnectionOptions().syn_cookies == 1 and ConnectionOptions().abort_on_overflow is False


def test_8_a_flooded_listener_without_cookies_keeps_the_real_client_out():
    """The flood table: without cookies the real client's SYNs are dropped until the
    flood's requests time out; with cookies it connects at once."""
    table = interview.flood_table().set_index("tcp_syncookies")
    assert table.loc[0, "at (s)"] > 60 and table.loc[0, "client's SYNs"] > 1
    for cookies in (1, 2):
        assert table.loc[cookies, "at (s)"] == pytest.approx(0.5, abs=0.01)
        assert table.loc[cookies, "SYN-ACKs with a cookie"] > 0


# ---------------------------------------------------------------------- 9 SYN flood
@pytest.mark.parametrize("source", SOURCES)
def test_9_a_cookie_forgets_wscale_and_sack_without_timestamps(source):
    """'the client offers MSS 1400, window scaling and SACK; the cookie SYN-ACK carries only
    its own MSS option, and the server then sends segments of 1300 bytes: the client's 1400
    rounded down to one of the cookie's four values'."""
    s = load("syncookies-no-ts", source).segments
    syn, synack = s["options"].iloc[0], s["options"].iloc[1]
    assert syn["mss"] == 1400 and "wscale" in syn and syn.get("sack_perm")
    assert set(synack) == {"mss"}
    from tcpsim.syncookies import MSSTAB
    assert len(MSSTAB) == 4 and max(m for m in MSSTAB if m <= 1400) == 1300
    assert s[s["src"] == "server"]["len"].max() == 1300


@pytest.mark.parametrize("source", SOURCES)
def test_9_with_timestamps_the_cookie_keeps_the_options(source):
    """'(with timestamps Linux hides them in the SYN-ACK's timestamp)'."""
    synack = load("syncookies-always", source).segments["options"].iloc[1]
    assert "wscale" in synack and synack.get("sack_perm") and "ts" in synack


# ---------------------------------------------------------------------- 10 TIME-WAIT
def test_10_time_wait_is_60_s_on_linux_and_2_msl_in_the_rfc():
    """'RFC 9293 §3.6.1 asks for 2·MSL with MSL = 2 minutes. Linux waits TCP_TIMEWAIT_LEN =
    60 s ... tcp_fin_timeout limits an orphaned FIN-WAIT-2, not TIME-WAIT.'"""
    assert RFC9293.time_wait_s == 240 and LINUX.time_wait_s == TCP_TIMEWAIT_LEN == 60
    states = course.socket_states("time-wait-fin-timeout5")
    client = states[states["host"] == "client"]
    entry = client[client["to"] == "TIME-WAIT"].iloc[0]
    gone = client[client["from"] == "TIME-WAIT"].iloc[0]
    assert course.scenario("time-wait-fin-timeout5")["hosts"]["client"]["options"]["fin_timeout"] == 5
    assert 59.5 <= gone["t"] - entry["t"] <= 62.5
    rfc = course.simulate("handshake", profile="rfc9293").states
    tw = rfc[(rfc["host"] == "client") & (rfc["from"] == "TIME-WAIT")]
    entered = rfc[(rfc["host"] == "client") & (rfc["to"] == "TIME-WAIT")]
    assert tw["t"].iloc[0] - entered["t"].iloc[0] == pytest.approx(240)


# ---------------------------------------------------------------------- 11 many TIME-WAITs
def test_11_who_keeps_time_wait_and_when_ports_run_out():
    """'a server that closes first collects one per connection ... every one uses the
    listening port'; 'with many short connections to one server it runs out of ephemeral
    ports: connect() fails with EADDRNOTAVAIL'; 'tcp_tw_reuse (on the client: it lets
    connect() take over a TIME-WAIT whose last timestamp is over a second old)'."""
    server = tcpsim.run(interview.time_wait_pileup(20, "server"))
    assert interview.time_wait_count(server) == {"client": 0, "server": 20, "EADDRNOTAVAIL": 0}
    tw = server.states[(server.states["to"] == "TIME-WAIT")]
    assert len(tw) == 20
    assert set(server.segments[server.segments["src"] == "server"]["sport"]) == {5400}
    client = tcpsim.run(interview.time_wait_pileup(20, "client"))
    assert interview.time_wait_count(client) == {"client": 20, "server": 0, "EADDRNOTAVAIL": 0}
    few = dict(closer="client", port_range=(40000, 40009), every_s=0.2)
    out = interview.time_wait_count(tcpsim.run(interview.time_wait_pileup(**few)))
    assert out["EADDRNOTAVAIL"] == 10 and out["client"] == 10
    reuse = interview.time_wait_count(tcpsim.run(interview.time_wait_pileup(**few, tw_reuse=1)))
    assert reuse["EADDRNOTAVAIL"] == 0
    # within a second, tw_reuse cannot take them over
    fast = dict(few, every_s=0.05)
    assert interview.time_wait_count(
        tcpsim.run(interview.time_wait_pileup(**fast, tw_reuse=1)))["EADDRNOTAVAIL"] > 0


@pytest.mark.parametrize("source", SOURCES)
def test_11_the_server_that_closes_first_ends_in_time_wait(source):
    """'the real server that closes first ends in TIME-WAIT (server-closes-first)'."""
    trace = load("server-closes-first", source)
    assert "TIME-WAIT" in host_states(trace, "server")
    assert "TIME-WAIT" not in host_states(trace, "client")


# ---------------------------------------------------------------------- 12 CLOSE-WAIT
def test_12_close_wait_stays_while_the_orphan_leaves_after_5_s():
    """'the server never closes; ss sees it in CLOSE-WAIT to the end, while the orphaned
    client leaves FIN-WAIT-2 after 5 s without a segment'."""
    states = course.socket_states("close-wait-leak")
    server = states[states["host"] == "server"]
    assert server["to"].iloc[-1] == "CLOSE-WAIT"
    client = states[states["host"] == "client"]
    entered = client[client["to"] == "FIN-WAIT-2"]["t"].iloc[0]
    gone = client[client["from"] == "FIN-WAIT-2"]["t"].iloc[0]
    assert 4.9 <= gone - entered <= 5.3
    real = course.capture("close-wait-leak").segments
    assert not (real["t"] > entered + 0.01).any()


# ---------------------------------------------------------------------- 13 vanished peer
def test_13_when_the_client_learns_that_the_server_vanished():
    """'An idle connection sends nothing, so it notices nothing: it stays ESTABLISHED for
    ever'; keepalive: probes after TCP_KEEPIDLE, every TCP_KEEPINTVL, after TCP_KEEPCNT
    unanswered ETIMEDOUT; 'With data to send ... tcp_retries2 = 15 retransmissions: about
    15 minutes.'"""
    table = interview.vanished_table().set_index("case")
    idle = table.loc["idle, no keepalive"]
    assert idle["client's state at the end"] == "ESTABLISHED"
    assert idle["segments sent after the crash"] == 0 and idle["what it gets"] == "nothing"
    keep = table.loc["idle, keepalive 10 s / 5 s / 3"]
    assert keep["what it gets"] == "ETIMEDOUT"
    assert keep["client's program learns at (s)"] == pytest.approx(0.1 + 10 + 3 * 5, abs=0.01)
    data = table.loc["writes 100 B at 2 s"]
    assert data["what it gets"] == "ETIMEDOUT" and LINUX.retries2 == 15
    assert 14 * 60 <= data["client's program learns at (s)"] - 2.0 <= 16 * 60
    assert data["segments sent after the crash"] == 1 + LINUX.retries2 + 1   # data, rtx, RST


def test_13_keepalive_defaults():
    """'after TCP_KEEPIDLE seconds of silence (7200 by default), then one every
    TCP_KEEPINTVL (75), and after TCP_KEEPCNT (9) unanswered probes'."""
    from tcpsim.keepalive import parse_keepalive
    cfg = parse_keepalive({}, "keepalive")
    assert (cfg.time_s, cfg.intvl_s, cfg.probes) == (7200, 75, 9)


@pytest.mark.parametrize("source", SOURCES)
def test_13_the_real_keepalive_capture(source):
    """keepalive-dead-peer (idle 1 s, interval 1 s, 2 probes; every answer of the server
    dropped): two probes, then an RST and ETIMEDOUT."""
    trace = load("keepalive-dead-peer", source)
    s = trace.segments
    probes = s[(s["src"] == "client") & (s["flags"] == "A") & (s.index > 2)]
    assert len(probes) == 2 and s["flags"].iloc[-1] == "RA"
    assert list(calls(trace, "client", "read")["result"])[0] == "ETIMEDOUT"


def test_self_test_item_9_right_answer_is_what_the_simulator_does():
    """Self-test item 9's right choice (idle + count × interval) for a few students."""
    for k in range(3):
        n = answers.interview_numbers(answers.student_seed(f"s{k}"))
        _, texts = selftest.QUESTIONS[9](n)
        doc = {"profile": "linux",
               "hosts": {"client": {"port": 40000, "options": {"keepalive": {
                   "time": n["keepalive_idle_s"], "intvl": n["keepalive_intvl_s"],
                   "probes": n["keepalive_cnt"]}}}, "server": {"port": 5000}},
               "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                           {"at": 0.0, "host": "client", "do": "connect", "to": "server"},
                           {"at": 1.0, "host": "server", "do": "crash", "down": 9000.0}],
               "until": 8000.0}
        trace = tcpsim.run(doc)
        last_received = trace.segments[trace.segments["dst"] == "client"]["arrival"].max()
        failed = calls(trace, "client", "read")
        assert texts["a"] == f"{round(failed['t'].iloc[0] - last_received)} s"


def test_self_test_item_5_right_answer_is_time_wait_len():
    for k in range(3):
        n = answers.interview_numbers(answers.student_seed(f"s{k}"))
        _, texts = selftest.QUESTIONS[5](n)
        assert texts["a"] == f"{TCP_TIMEWAIT_LEN:.0f} s" and texts["b"] != texts["a"]


# ---------------------------------------------------------------------- 14 closed port
@pytest.mark.parametrize("source", SOURCES)
def test_14_a_syn_to_a_closed_port_gets_an_rst(source):
    """'the RST carries seq 0 and ack = the SYN's seq + 1, and the client's connect() fails
    at once with ECONNREFUSED'."""
    trace = load("refused", source)
    syn, rst = trace.segments.iloc[0], trace.segments.iloc[1]
    assert "R" in rst["flags"] and rst["seq"] == 0 and rst["ack"] == (syn["seq"] + 1) % 2 ** 32
    assert rst["t"] - syn["t"] < IMMEDIATE_S
    assert list(calls(trace, "client", "connect")["result"]) == ["ECONNREFUSED"]


# ---------------------------------------------------------------------- 15 SYN on ESTABLISHED
@pytest.mark.parametrize("source", SOURCES)
def test_15_challenge_ack_rst_and_the_syn_again(source):
    """'A SYN in a synchronized state gets a challenge ACK: an ACK with the connection's
    current sequence and acknowledgment numbers'; 'answers with an RST whose seq is the
    ACK's ack, exactly what the server expects, so the server ends the old connection';
    'sends its SYN again after TCP_TIMEOUT_MIN, 8 ms ... and connects'."""
    old = course.capture("interview-syn-established") if source == "real" else \
        connection_trace(course.simulate("interview-syn-established"), 0)
    trace = course.capture("interview-syn-established", stream=1) if source == "real" else \
        course.simulate("interview-syn-established")
    s = trace.segments if source == "real" else trace.segments.iloc[6:]
    syn, challenge, rst, again = (s.iloc[k] for k in range(4))
    assert [x["flags"] for x in (syn, challenge, rst, again)] == ["S", "A", "R", "S"]
    old_segments = old.segments
    server_old = old_segments[old_segments["src"] == "server"].iloc[-1]
    abort = old_segments[old_segments["flags"] == "RA"].iloc[0]
    assert challenge["seq"] == server_old["seq"] and challenge["ack"] == abort["seq"]
    assert rst["seq"] == challenge["ack"]
    gap = again["t"] - rst["t"]
    if source == "real":
        assert TCP_TIMEOUT_MIN <= gap <= TCP_TIMEOUT_MIN + 3 * JIFFY_S
    else:
        assert gap == pytest.approx(TCP_TIMEOUT_MIN)
    assert s.iloc[4]["flags"] == "SA"
    events = course.events("interview-syn-established") if source == "real" else trace.events
    server_reads = events[(events["host"] == "server") & (events["call"] == "read")]
    assert "ECONNRESET" in list(server_reads["result"])
    assert list(events[(events["host"] == "client") & (events["call"] == "connect")]["result"]) \
        == ["ok", "ok"]


def test_15_the_textbook_profile_waits_the_whole_rto():
    """'not after the 1 s retransmission timeout' (the resend_gaps table)."""
    gaps = interview.resend_gaps().set_index("run")["gap (ms)"]
    assert gaps["tcpsim linux"] == TCP_TIMEOUT_MIN * 1000
    assert gaps["tcpsim rfc9293"] == RFC9293.initial_rto_s * 1000
    assert 8 <= gaps["real Linux 6.18"] <= 8 + 3 * JIFFY_S * 1000


def test_15_the_quick_check_is_sealed_right():
    assert selftest.check_reset_read("b")
    assert all(not selftest.check_reset_read(k) for k in "acd")
    assert "must be one of" in selftest.check_reset_read("x").message


# ---------------------------------------------------------------------- 16 SYN to TIME-WAIT
def test_16_a_newer_syn_opens_the_new_connection_at_once():
    """'ss saw the server's socket go from TIME-WAIT straight to ESTABLISHED'; 'when its
    timestamp is newer than the last one seen (RFC 6191) ... the TIME-WAIT ends and the
    handshake goes on at once'."""
    states = course.socket_states("interview-syn-time-wait")
    server = states[states["host"] == "server"]
    assert ("TIME-WAIT", "ESTABLISHED") in list(zip(server["from"], server["to"]))
    first, second = course.capture_streams("interview-syn-time-wait")
    assert [f for _, f in flags(second, 0, 3)] == ["S", "SA", "A"]
    assert not second.segments["flags"].str.contains("R").any()
    last_tsval = first.segments[first.segments["src"] == "client"]["options"].iloc[-1]["ts"][0]
    assert second.segments["options"].iloc[0]["ts"][0] > last_tsval
    sim = course.simulate("interview-syn-time-wait")
    causes = sim.states[(sim.states["host"] == "server") & (sim.states["from"] == "TIME-WAIT")]
    assert "new incarnation" in causes["cause"].iloc[0]


def test_16_a_syn_below_the_time_wait_gets_an_ack_then_rst_then_syn():
    """'Otherwise it answers with an ACK; the client, in SYN-SENT, answers that with an RST,
    which ends the TIME-WAIT (tcp_rfc1337 = 0, the default), and its SYN goes again 8 ms
    later.'"""
    trace = tcpsim.run(interview.syn_to_time_wait_old_isn())
    assert flags(trace, 8, 13) == [("client", "S"), ("server", "A"), ("client", "R"),
                                   ("client", "S"), ("server", "SA")]
    s = trace.segments
    assert s["t"].iloc[11] - s["t"].iloc[10] == pytest.approx(TCP_TIMEOUT_MIN)
    server = trace.states[(trace.states["host"] == "server") & (trace.states["conn"] == 0)]
    assert server["to"].iloc[-1] == "CLOSED" and server["from"].iloc[-1] == "TIME-WAIT"
    from tcpsim.connoptions import ConnectionOptions
    assert ConnectionOptions().rfc1337 is False


# ---------------------------------------------------------------------- 17 close / shutdown
@pytest.mark.parametrize("source", SOURCES)
def test_17_half_close_still_receives(source):
    """'the client shuts down its side at 0.5 s and still receives the server's 1000 bytes
    at 0.8 s'."""
    trace = load("half-close", source)
    s = trace.segments
    fin = s[(s["src"] == "client") & s["flags"].str.contains("F")].iloc[0]
    data = s[(s["src"] == "server") & (s["len"] > 0)]
    assert fin["t"] == pytest.approx(0.5, abs=0.01)
    assert data["len"].sum() == 1000 and (data["t"] > fin["t"]).all()
    assert data["t"].iloc[0] == pytest.approx(0.8, abs=0.01)
    reads = calls(trace, "client", "read")
    assert reads[reads["result"].apply(lambda r: isinstance(r, int) and r > 0)]["result"].sum() == 1000


@pytest.mark.parametrize("source", SOURCES)
def test_17_linger0_close_sends_an_rst_and_the_peer_gets_econnreset(source):
    """'SO_LINGER {1, 0} makes close() send an RST instead: no TIME-WAIT, ... the peer's
    program gets ECONNRESET'."""
    trace = load("linger0", source)
    s = trace.segments
    assert s["flags"].iloc[-1] == "RA" and not s["flags"].str.contains("F").any()
    assert "TIME-WAIT" not in host_states(trace, "client")
    assert "ECONNRESET" in list(calls(trace, "server", "read")["result"])
