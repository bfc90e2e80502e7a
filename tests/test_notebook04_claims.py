"""What notebook 04 tells students, checked against the simulator and the real captures.

Each test quotes the claim it checks (the notebook's sentence, or the course's source text
that the notebook quotes and tests). Times are derived from each run and from the profile
(``syn_sent_bad_ack_rearm_s``), never copied from an output.
"""
import pytest

import tcpsim
from tcpsim import course, ghosts
from tcpsim.exercises import answers
from tcpsim.exercises import why_three_way as w
from tcpsim.profiles import LINUX

SEQ_SPACE = 2 ** 32


def injected(seg):
    return seg["injected"].fillna(False).astype(bool) if "injected" in seg else seg["i"] < 0


def calls(trace, host, call):
    ev = trace.events
    return ev[(ev["host"] == host) & (ev["call"] == call)]


@pytest.fixture(scope="module")
def two_way():
    return tcpsim.run(ghosts.old_duplicate_scenario("two-way"))


@pytest.fixture(scope="module")
def three_way():
    return tcpsim.run(ghosts.old_duplicate_scenario("three-way"))


# ------------------------------------------------------------------ section 1
def test_the_scenario_is_as_described():
    """"the client connects at 0.1 s, but its SYN is slow (50 ms more than the link's
    10 ms); an old SYN from the client's port (sequence number 1000000) reaches the server
    first, at 0.11 s." """
    sc = ghosts.old_duplicate_scenario("two-way")
    assert sc["link"]["delay"] == 0.01
    t = tcpsim.run(sc)
    seg = t.segments
    old = seg[injected(seg)].iloc[0]
    assert old["seq"] == 1000000 and old["sport"] == sc["hosts"]["client"]["port"]
    assert old["arrival"] == pytest.approx(0.11)
    real = seg[(seg["src"] == "client") & (seg["flags"] == "S") & ~injected(seg)].iloc[0]
    assert real["t"] == 0.1 and real["arrival"] - real["t"] == pytest.approx(0.06)
    assert old["arrival"] < real["arrival"]
    greetings = seg[(seg["src"] == "server") & (seg["len"] == len(ghosts.GREETING))]
    assert set(greetings["conn"]) == set(calls(t, "server", "accept")["conn"])


def test_two_way_server_accepts_twice_client_connects_once(two_way):
    """"the server's `accept()` returned **twice**, the client's `connect()` once." and
    "its SYN-ACK acknowledges the old SYN, which no `connect()` of the client sent. The
    server's application greeted nobody." """
    assert len(calls(two_way, "server", "accept")) == 2
    assert len(calls(two_way, "client", "connect")) == 1
    ghost = ghosts.ghosts(two_way)
    assert len(ghost) == 1 and ghost["peer_isn"].iloc[0] == 1000000
    seg = two_way.segments
    synack = seg[(seg["src"] == "server") & (seg["conn"] == ghost["conn"].iloc[0])
                 & (seg["flags"] == "SA")].iloc[0]
    assert synack["ack"] == 1000001
    greet = seg[(seg["conn"] == ghost["conn"].iloc[0]) & (seg["len"] == len(ghosts.GREETING))]
    assert len(greet) == 1


def test_the_reset_ends_the_ghost_20_ms_later(two_way):
    """"it answered the ghost's SYN-ACK with a reset and the ghost died 20 ms later
    (`ended_at`): but only after the server's application had accepted it" """
    ghost = ghosts.ghosts(two_way).iloc[0]
    delay = ghosts.old_duplicate_scenario("two-way")["link"]["delay"]
    assert ghost["ended_at"] - ghost["accepted_at"] == pytest.approx(2 * delay)
    rst = two_way.segments[(two_way.segments["src"] == "client")
                           & (two_way.segments["flags"] == "R")].iloc[0]
    assert rst["arrival"] == pytest.approx(ghost["ended_at"])


def test_a_ghost_lives_on_when_the_port_is_in_time_wait():
    """"when the old SYN arrives while the client's port is in TIME-WAIT, or the reset is
    lost, the ghost lives on" """
    t = tcpsim.run(ghosts.old_duplicate_scenario("two-way", old_syn_arrival_s=1.5))
    st = t.states
    tw = st[(st["host"] == "client") & (st["to"] == "TIME-WAIT")]["t"].iloc[0]
    assert tw < 1.5
    ghost = ghosts.ghosts(t)
    assert len(ghost) == 1 and ghost["ended_at"].isna().all()
    assert not (t.segments["flags"] == "R").any()


# ------------------------------------------------------------------ section 2
def test_figure_8_line_for_line(three_way):
    """"the old SYN takes the server to SYN-RECEIVED (line 3); its SYN-ACK acknowledges the
    old SYN (line 4); the client's reset carries exactly the number the server expects next
    from that SYN's sender, so the server accepts it and **goes back to LISTEN** (line 5 ...);
    then the client's own SYN opens the one real connection (lines 6–8). The server's
    application saw one `accept()`" """
    seg, st = three_way.segments, three_way.states
    old = seg[injected(seg)].iloc[0]
    server0 = st[(st["host"] == "server") & (st["conn"] == 0)]
    assert list(server0["to"]) == ["SYN-RECEIVED", "LISTEN"]
    assert server0["t"].iloc[0] == pytest.approx(old["arrival"])
    synack = seg[(seg["src"] == "server") & (seg["flags"] == "SA")].iloc[0]
    assert synack["ack"] == (old["seq"] + 1) % SEQ_SPACE
    rst = seg[(seg["src"] == "client") & (seg["flags"] == "R")].iloc[0]
    assert rst["seq"] == synack["ack"]
    assert server0["t"].iloc[1] == pytest.approx(rst["arrival"])
    assert len(calls(three_way, "server", "accept")) == 1
    assert list(calls(three_way, "client", "connect")["result"]) == ["ok"]
    assert ghosts.count_ghosts(three_way) == 0


def test_the_syn_again_after_tcp_timeout_min(three_way):
    """"after an unacceptable ACK in SYN-SENT it sends its SYN again after `TCP_TIMEOUT_MIN`
    (a few milliseconds) instead of waiting for the retransmission timeout of 1 s ... In the
    ladder that is the second client SYN, 8 ms after the reset; the slow first SYN arrives
    later still and gets an ACK (a duplicate)." """
    rearm = LINUX.syn_sent_bad_ack_rearm_s
    assert round(rearm * 1000) == 8 and LINUX.initial_rto_s == 1.0
    seg = three_way.segments
    rst = seg[(seg["src"] == "client") & (seg["flags"] == "R")].iloc[0]
    syns = seg[(seg["src"] == "client") & (seg["flags"] == "S") & ~injected(seg)]
    first, again = syns.iloc[0], syns.iloc[1]
    assert again["retransmission"] and again["t"] - rst["t"] == pytest.approx(rearm)
    assert first["arrival"] > again["arrival"]
    answer = seg[(seg["src"] == "server") & ((seg["t"] - first["arrival"]).abs() < 1e-9)]
    assert list(answer["flags"]) == ["A"]


def test_rfc9293_profile_waits_for_the_rto():
    """The rearm is Linux's: the textbook profile waits for its RTO (why the notebook says
    "The `linux` profile does one more thing")."""
    t = tcpsim.run(ghosts.old_duplicate_scenario("three-way", profile="rfc9293"))
    seg = t.segments
    rst = seg[(seg["src"] == "client") & (seg["flags"] == "R")].iloc[0]
    later = seg[(seg["src"] == "client") & (seg["flags"] == "S") & ~injected(seg)
                & (seg["t"] > rst["t"])]
    assert later.empty or (later["t"] - rst["t"]).min() > 0.5


# ------------------------------------------------------------------ section 3
def lossy(handshake):
    sc = {"name": "20000 bytes over a link that loses 20 % of the segments",
          "profile": "linux", "seed": 4, "link": {"delay": 0.01, "mtu": 1500},
          "hosts": {"client": {"port": 40000, "options": {"handshake": handshake}},
                    "server": {"port": 5001, "options": {"handshake": handshake}}},
          "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                      {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                      {"after": "connect", "host": "client", "do": "send", "bytes": 20000}],
          "faults": [{"loss": {"p": 0.2}}], "until": 60}
    return tcpsim.run(sc)


@pytest.mark.parametrize("handshake", ghosts.HANDSHAKES)
def test_both_handshakes_deliver_everything_by_retransmitting(handshake):
    """"Both deliver every byte, in order, and both get there by **retransmitting** what was
    lost" """
    from tcpsim.scenario import payload_pattern
    t = lossy(handshake)
    assert t.delivered["server"] == payload_pattern(20000)
    seg = t.segments
    assert seg["dropped"].any() and seg["retransmission"].any()
    lost_data = seg[seg["dropped"] & (seg["len"] > 0)]
    for _, s in lost_data.iterrows():        # every lost data segment was sent again
        again = seg[(seg["src"] == s["src"]) & (seg["seq"] == s["seq"]) & (seg["t"] > s["t"])]
        assert (again["retransmission"]).any()


# ------------------------------------------------------------------ section 4
@pytest.mark.parametrize("handshake", ghosts.HANDSHAKES)
def test_an_old_syn_during_the_connection_gets_a_challenge_ack(handshake):
    """"An old SYN that arrives while the server's connection holds the client's ports only
    gets an ACK (a *challenge ACK*, RFC 5961 §4): it opens nothing, whatever the handshake." """
    t = tcpsim.run(ghosts.old_duplicate_scenario(handshake, old_syn_arrival_s=0.5))
    seg = t.segments
    old = seg[injected(seg)].iloc[0]
    answer = seg[(seg["src"] == "server") & ((seg["t"] - old["arrival"]).abs() < 1e-9)]
    assert list(answer["flags"]) == ["A"]
    assert ghosts.count_ghosts(t) == 0 and len(calls(t, "server", "accept")) == 1


def explored(handshake, arrival):
    """The notebook's explorer: the base scenario, the handshake control, the old_syn_at
    control (tcpsim.widgets), as the widget applies them."""
    import copy
    from tcpsim.widgets.controls import make_old_syn_at
    base = ghosts.old_duplicate_scenario("two-way", old_syn_arrival_s=None, client_syn_extra_s=0)
    sc = copy.deepcopy(base)
    ghosts.handshake_control("two-way")[1](sc, handshake)
    make_old_syn_at(base)[1](sc, arrival)
    return tcpsim.run(sc)


@pytest.mark.parametrize("arrival", [0.05, 0.1, 1.2, 1.8])
def test_free_ports_ghost_under_two_way_only(arrival):
    """"The explorer runs section 2's scenario without the old SYN and with a client SYN that
    is not slow (it arrives at 0.11 s)." "Try an arrival before 0.11 s (before the client's
    own SYN), one between 0.2 s and 1 s (the connection is open), and one after 1.1 s (the
    client has closed; its port is in TIME-WAIT)." and "One that arrives while the ports are
    free opens a ghost under the two-way handshake, and nothing under the three-way one." """
    base = ghosts.old_duplicate_scenario("two-way", old_syn_arrival_s=None, client_syn_extra_s=0)
    assert not [f for f in base["faults"] if "inject" in f]
    two, three = explored("two-way", arrival), explored("three-way", arrival)
    assert ghosts.count_ghosts(two) == 1 and ghosts.count_ghosts(three) == 0
    seg = three.segments
    old = seg[injected(seg)]
    assert len(old) == 1 and old["arrival"].iloc[0] == pytest.approx(arrival)
    real = seg[(seg["src"] == "client") & (seg["flags"] == "S") & ~injected(seg)].iloc[0]
    assert real["arrival"] == pytest.approx(0.11)
    st = three.states
    closed = st[(st["host"] == "client") & (st["to"].isin(["FIN-WAIT-1"]))]["t"].iloc[0]
    assert 1.0 <= closed < 1.1
    if arrival > 1.1:
        tw = st[(st["host"] == "client") & (st["to"] == "TIME-WAIT")]["t"].iloc[0]
        assert tw < arrival


@pytest.mark.parametrize("handshake", ghosts.HANDSHAKES)
def test_explorer_arrival_while_the_connection_is_open(handshake):
    """"one between 0.2 s and 1 s (the connection is open)": a challenge ACK, no ghost."""
    t = explored(handshake, 0.6)
    seg = t.segments
    old = seg[injected(seg)].iloc[0]
    answer = seg[(seg["src"] == "server") & ((seg["t"] - old["arrival"]).abs() < 1e-9)]
    assert list(answer["flags"]) == ["A"] and ghosts.count_ghosts(t) == 0


def test_monte_carlo_as_described():
    """"a random arrival time for the old SYN (0 to 2 s), a random extra delay for the
    client's SYN (0 to 100 ms) and random loss on every segment, the same draws for both
    handshakes" ... "when each run stopped (3 s)" ... "With the three-way handshake there is
    none, in every run, with or without loss." """
    assert ghosts.MAX_OLD_SYN_DELAY_S == 2.0
    assert ghosts.old_duplicate_scenario("two-way")["until"] == 3.0
    for loss in (0.0, 0.1, 0.3):
        results = ghosts.monte_carlo(40, loss_p=loss, progress=False, seed=11)
        assert results["old_syn_arrival_s"].between(0, 2).all()
        assert results["client_syn_extra_s"].between(0, 0.1).all()
        three = results[results["handshake"] == "three-way"]
        assert (three["ghosts"] == 0).all()
        two = results[results["handshake"] == "two-way"]
        assert (two["ghosts"] > 0).any()
        assert (two["ghost_open_at_end"] <= two["ghosts"]).all()


# ------------------------------------------------------------------ the exercises
def test_exercise_2_trace_as_described():
    """"a client that connects several times, two seconds apart, from the same port, to a
    server that uses the two-way handshake, and a few old SYNs from that port" and "the
    `conn` column is empty for an injected segment" """
    for sid in ("alice", "bob", "instructor"):
        seed = answers.student_seed(sid)
        t = w.ghost_trace(seed)
        seg = t.segments
        syns = seg[(seg["src"] == "client") & (seg["flags"] == "S") & ~injected(seg)]
        firsts = syns[~syns["retransmission"].astype(bool)]
        starts = sorted({round(x, 6) for x in firsts["t"]})
        assert len(starts) >= 2 and all(b - a == pytest.approx(2.0)
                                        for a, b in zip(starts, starts[1:]))
        assert seg[seg["src"] == "client"]["sport"].nunique() == 1
        assert seg[injected(seg)]["conn"].isna().all() and seg[~injected(seg)]["conn"].notna().all()
        assert w.ghost_scenario(seed)["hosts"]["server"]["options"]["handshake"] == "two-way"


def test_exercise_3_template_has_no_ghost_and_the_solution_has_one():
    """"Below is a two-way handshake scenario with no old SYN: the client connects at 0.5 s,
    sends 100 bytes and closes at 1.5 s." """
    template = {
        "name": "a ghost of my own", "profile": "linux", "link": {"delay": 0.01, "mtu": 1500},
        "hosts": {"client": {"port": 40000, "options": {"handshake": "two-way"}},
                  "server": {"port": 5001, "options": {"handshake": "two-way"}}},
        "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                    {"at": 0.5, "host": "client", "do": "connect", "to": "server"},
                    {"at": 0.7, "host": "client", "do": "send", "bytes": 100},
                    {"at": 1.5, "host": "client", "do": "close"}],
        "faults": [], "until": 5}
    assert not w.judge_ghost_scenario(template)
    assert ghosts.count_ghosts(tcpsim.run(template)) == 0
    template["faults"].append({"inject": {"at": 0.19, "from": "client", "flags": "S",
                                          "seq": 777}})
    assert w.judge_ghost_scenario(template)


# ------------------------------------------------------------------ section 5
def crash_run():
    sc = course.scenario("interview-syn-established")
    assert sc["actions"][3]["do"] == "abort"
    sc["actions"][3] = {"at": 0.5, "host": "client", "do": "crash"}
    sc["faults"] = []
    return tcpsim.run(sc)


def after_restart(trace, t0):
    seg = trace.segments
    return seg[seg["t"] >= t0].reset_index(drop=True)


def test_figure_9_simulated_and_real():
    """"the server, ESTABLISHED, answers the new SYN with an ACK of the *old* connection's
    numbers ...; the client ... answers with a reset at that ACK's ack ...; the server aborts
    the old connection, and the client's next SYN opens a new one." and "The same four
    segments before the new connection opens: SYN, ACK (the server's old numbers), RST, SYN
    again a few milliseconds later." """
    sim = crash_run()
    real = course.capture("interview-syn-established", stream=1)
    for trace, seg in ((sim, after_restart(sim, 1.0)), (real, real.segments)):
        assert list(seg["flags"].head(4)) == ["S", "A", "R", "S"]
        syn, ack, rst, again = (seg.iloc[k] for k in range(4))
        assert rst["seq"] == ack["ack"] and again["seq"] == syn["seq"]
        assert 0.002 <= again["t"] - rst["t"] < 0.02              # a few milliseconds
        assert list(seg["flags"].iloc[4:6]) == ["SA", "A"]
    st = sim.states
    old = st[(st["host"] == "server") & (st["conn"] == 0)]
    assert old["to"].iloc[-1] == "CLOSED" and old["cause"].iloc[-1] == "RST received"
    first = sim.segments[sim.segments["conn"] == 0]
    old_ack = after_restart(sim, 1.0).iloc[1]
    assert old_ack["seq"] == first[first["src"] == "server"]["seq"].max()


def test_the_real_capture_is_a_lost_rst_as_said():
    """"a client that aborts and whose RST is lost leaves the server in exactly the same
    state" """
    sc = course.scenario("interview-syn-established")
    assert sc["actions"][3]["do"] == "abort"
    assert sc["faults"] == [{"drop": {"from": "client", "flags": "RA", "nth": [1]}}]
    first = course.capture("interview-syn-established", stream=0)
    assert first.segments["flags"].iloc[-1] == "RA" and first.segments["dropped"].iloc[-1]


def test_figure_10_data_to_a_crashed_host():
    """"the server sends data on the half-open connection to the restarted client, which has
    no connection for it and answers with a reset" """
    sc = course.scenario("interview-syn-established")
    sc["actions"] = sc["actions"][:3] + [{"at": 0.5, "host": "client", "do": "crash"},
                                         {"at": 1.0, "host": "server", "do": "send", "bytes": 10}]
    sc["faults"] = []
    t = tcpsim.run(sc)
    seg = after_restart(t, 1.0)
    assert list(seg["flags"]) == ["PA", "R"] and seg["seq"].iloc[1] == seg["ack"].iloc[0]
    assert t.states[t.states["host"] == "server"]["to"].iloc[-1] == "CLOSED"


def test_the_crash_arc_sends_nothing():
    """"its connection went from ESTABLISHED straight to CLOSED on the crash ..., and
    nothing was sent." """
    t = crash_run()
    st = t.states
    crash = st[(st["host"] == "client") & (st["cause"].str.contains("crash"))]
    assert list(zip(crash["from"], crash["to"])) == [("ESTABLISHED", "CLOSED")]
    seg = t.segments
    assert seg[(seg["t"] >= 0.5) & (seg["t"] < 1.0)].empty


# ------------------------------------------------------------------ section 6
def test_simultaneous_open_segment_for_segment():
    """"Each SYN reaches a host in SYN-SENT, which goes to **SYN-RECEIVED** and answers with a
    SYN-ACK that repeats its own SYN's sequence number; each SYN-ACK then takes its receiver
    to ESTABLISHED. Four segments and two ACKs, no listener." and the comparison table."""
    real = course.capture("simultaneous-open")
    sim = course.simulate("simultaneous-open")
    cols = ["flags", "rel_seq", "rel_ack", "len", "win"]
    assert real.segments[cols].head(6).fillna(-1).values.tolist() == \
        sim.segments[cols].head(6).fillna(-1).values.tolist()
    for trace in (real, sim):
        seg = trace.segments.head(6)
        assert sorted(seg["flags"]) == ["A", "A", "S", "S", "SA", "SA"]
        for host in set(seg["src"]):
            mine = seg[seg["src"] == host]
            assert mine[mine["flags"] == "SA"]["seq"].iloc[0] == mine[mine["flags"] == "S"]["seq"].iloc[0]
    for host in ("a", "b"):
        st = sim.states[sim.states["host"] == host]
        assert list(st["to"].head(3)) == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
    assert not any(str(s).endswith(":listen") for s in sim.states["socket"])


def test_simultaneous_open_windows_and_dsack():
    """"The SYN-ACKs keep the window of the SYNs (64240), and the ACKs after them carry a
    D-SACK of the SYN-ACK's sequence number" and "Six on Linux" """
    for trace in (course.capture("simultaneous-open"), course.simulate("simultaneous-open")):
        seg = trace.segments.head(6)
        assert set(seg[seg["flags"].isin(["S", "SA"])]["win"]) == {64240}
        for _, ack in seg[seg["flags"] == "A"].iterrows():
            peer = seg[(seg["src"] != ack["src"]) & (seg["flags"] == "SA")].iloc[0]
            assert ack["options"]["sack"] == [[peer["seq"], (peer["seq"] + 1) % SEQ_SPACE]]
        data = trace.segments.iloc[6]
        assert data["len"] > 0                # the seventh segment is data: six to open


# ------------------------------------------------------------------ the source's claims
def test_source_claim_old_syn_after_the_connection_is_over():
    """The source: "Suppose the client's first SYN is held up in the network and arrives
    after the connection is over. With two segments the server would take it for a new
    request and open a connection; the client would ignore it, and the server would wait
    for data that never comes." (The client, in TIME-WAIT, re-ACKs its old numbers: the
    server's connection stays open, waiting.)"""
    t = tcpsim.run(ghosts.old_duplicate_scenario("two-way", old_syn_arrival_s=2.0))
    ghost = ghosts.ghosts(t)
    assert len(ghost) == 1 and ghost["ended_at"].isna().all()
    conn = ghost["conn"].iloc[0]
    reads = calls(t, "server", "read")
    assert reads[reads["conn"] == conn].empty                    # no data ever came
    assert not w.judge_ghost_scenario(ghosts.old_duplicate_scenario("three-way",
                                                                    old_syn_arrival_s=2.0))
