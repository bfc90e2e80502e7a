"""What notebook 03 tells students, checked against the simulator and the real captures.

Each test quotes the claim it checks (the notebook's sentence, or the course's source text
that the notebook quotes and tests). If the simulator or a capture changes so that a
sentence of the notebook becomes false, a test here fails.
"""
import numpy as np
import pytest

import tcpsim
from tcpsim import course, isn_experiments as isnx
from tcpsim.connoptions import ConnectionOptions
from tcpsim.profiles import LINUX, RFC9293
from tcpsim.syncookies import MAX_SYNCOOKIE_AGE, MSSTAB, check_cookie, make_cookie

SEQ = 2 ** 32
SEG = isnx.SEGMENT_BYTES


def reads(trace, host="server", conn=1):
    e = trace.events
    rows = e[(e["host"] == host) & (e["call"] == "read") & (e["conn"] == conn)]
    return [r for r in rows["result"] if isinstance(r, int) and not isinstance(r, bool)]


def injected_row(trace):
    segs = trace.segments
    return int(segs.index[segs["injected"].fillna(False).astype(bool)][0])


# ------------------------------------------------------------------------- section 1
@pytest.fixture(scope="module")
def zero():
    return isnx.stale_trace("zero", gap_s=5.0, stale_k=3, received=3 * SEG)


def test_the_stale_scenario(zero):
    """"a client sends 20 full segments (1448 bytes each), is aborted (a RST, so no
    TIME-WAIT keeps the 4-tuple busy), connects again from the same port 5 s after its
    first connect, sends 3 segments, and then a copy of the old connection's 4th data
    segment (stale_k=3, counting from 0) arrives"."""
    trace, (seq, _) = zero
    segs = trace.segments
    old = segs[(segs["conn"] == 0) & (segs["src"] == "client")]
    assert list(old[old["len"] > 0]["len"]) == [1448] * 20
    assert old["flags"].iloc[-1].startswith("R")
    assert "TIME-WAIT" not in set(trace.states["to"])
    syns = segs[segs["flags"] == "S"]
    assert list(syns["t"]) == [0.0, 5.0] and syns["sport"].nunique() == 1
    new = segs[(segs["conn"] == 1) & (segs["src"] == "client") & (segs["len"] > 0)]
    assert len(new) == 3
    fourth = old[old["len"] > 0].iloc[3]
    assert seq == fourth["seq"]


def test_zero_isns_deliver_the_old_duplicate(zero):
    """"Both connections started at 0, so the old segment (seq 4345, 1448 bytes) is exactly
    where the new connection's next bytes are expected: RCV.NXT = 1 + 3 × 1448 = 4345. The
    server acknowledges it (ack 5793) and its program reads it"; "The server's program read
    4344 + 1448 bytes: 1448 bytes the client never sent on this connection"."""
    trace, (seq, _) = zero
    segs = trace.segments
    assert list(segs[segs["flags"].isin(["S", "SA"])]["seq"]) == [0, 0, 0, 0]
    assert seq == 4345 == 1 + 3 * 1448
    tcb = trace.tcb
    before = tcb[(tcb["host"] == "server") & (tcb["conn"] == 1) & (tcb["t"] < 6.0)]
    assert before["rcv_nxt"].iloc[-1] == 4345
    row = injected_row(trace)
    answer = segs.loc[row + 1]
    assert answer["src"] == "server" and answer["ack"] == 5793
    assert sum(reads(trace)) == 4344 + 1448 and reads(trace)[-1] == 1448
    client_sent = segs[(segs["src"] == "client") & (segs["conn"] == 1)]["len"].sum()
    assert client_sent == 4344


def test_after_the_old_duplicate_the_sides_are_out_of_step(zero):
    """"its ACK acknowledges 'data not yet sent' for the client, which ignores it, and the
    client's own next 1448 bytes will be taken for a duplicate"."""
    trace, _ = zero
    ignored = trace.ignored
    assert ignored[(ignored["host"] == "client")]["reason"].str.contains(
        "not yet sent").any()
    doc = isnx.stale_scenario("zero", 5.0, 3 * SEG)
    doc["actions"].append({"at": 6.5, "host": "client", "do": "send", "bytes": SEG})
    doc["faults"] = [{"inject": {"at": 6.0, "from": "client", "flags": "PA", "seq": 4345,
                                 "ack": 1, "bytes": SEG}}]
    later = tcpsim.run(doc)
    assert sum(reads(later)) == 4344 + 1448          # the client's own bytes never arrive
    late = later.segments[(later.segments["src"] == "client") & (later.segments["t"] >= 6.5)
                          & (later.segments["len"] > 0)]
    rows = later.ignored[later.ignored["segment"].isin(late.index)]
    assert not rows.empty and rows["reason"].str.contains("outside the receive window").all()


def test_rfc6528_isns_keep_the_old_duplicate_out():
    """"The same run with RFC 6528's ISNs ... the old segment falls outside the window. It
    is dropped and answered with an ACK; nothing reaches the program"; "which is what
    Linux does"."""
    assert LINUX.isn_strategy == "rfc6528"
    trace, _ = isnx.stale_trace("rfc6528", gap_s=5.0, stale_k=3, received=3 * SEG)
    row = injected_row(trace)
    reason = trace.ignored[trace.ignored["segment"] == row]["reason"].iloc[0]
    assert "outside the receive window" in reason and "ACK sent" in reason
    assert sum(reads(trace)) == 4344


# ------------------------------------------------------------------------- section 2
def test_the_three_generators():
    """"That is 250 000 a second, for every connection, whatever its 4-tuple. It is the
    clock strategy, and the rfc9293 profile's default"; Linux: "a tick every 64 ns,
    15 625 000 a second. It is the rfc6528 strategy, and the linux profile's default";
    "Random: a fresh random number for every connection"."""
    assert RFC9293.isn_strategy == "clock" and LINUX.isn_strategy == "rfc6528"
    assert isnx.isn_at("clock", 1.0, 40000) - isnx.isn_at("clock", 0.0, 50000) == 250_000
    assert (isnx.isn_at("rfc6528", 1.0, 40000) - isnx.isn_at("rfc6528", 0.0, 40000)) % SEQ \
        == 15_625_000
    randoms = [isnx.isn_at("random", t, 40000) for t in (0.0, 1.0, 2.0, 3.0)]
    assert len(set(np.diff(randoms) % SEQ)) == 3


def test_the_generator_pictures_claims():
    """"The clock is one straight line for all connections: in 10 minutes it moves by 150
    million, 3.5 % of the sequence space"; "for one 4-tuple the hash is a constant, and what
    is left is the clock, a straight line that rises 62.5 times faster than RFC 793's and
    wraps every 2³² × 64 ns = 274.9 s"; "Random ISNs have no order at all, not even for one
    4-tuple"; "2³² × 4 µs = 17 179.9 s, 4.77 hours"."""
    table = isnx.generator_table(duration_s=600, every_s=5)
    clock = table[table["strategy"] == "clock"]
    moved = int(clock["isn"].iloc[-1] - clock["isn"].iloc[0]) % SEQ
    assert moved == 150_000_000 and round(100 * moved / SEQ, 1) == 3.5
    fixed = table[table["series"] == "one 4-tuple"]
    assert set(np.diff(fixed["isn"].to_numpy()) % SEQ) == {5 * 15_625_000}
    assert 15_625_000 / 250_000 == 62.5
    assert round(isnx.WRAP_S["rfc6528"], 1) == 274.9
    assert round(isnx.WRAP_S["clock"], 1) == 17179.9 and round(isnx.WRAP_S["clock"] / 3600, 2) == 4.77
    ports = table[(table["strategy"] == "rfc6528") & (table["series"] != "one 4-tuple")]
    assert len(set(np.diff(ports["isn"].to_numpy()) % SEQ)) == len(ports) - 1


def test_the_real_kernel():
    """"4 from ephemeral ports, then 4 from port 40000"; "From one ephemeral port to the
    next, the ISNs are unrelated; on port 40000 they grow by 15.6 million a second: a tick
    every 64 ns"."""
    table = isnx.real_isn_table()
    assert table["sport"].iloc[:4].nunique() == 4 and set(table["sport"].iloc[4:]) == {40000}
    rates = table["per_s"].dropna()
    assert len(rates) == 3 and all(round(r / 1e6, 1) == 15.6 for r in rates)
    assert all(abs(1e9 / r - 64) < 0.1 for r in rates)
    ephemeral = table["isn"].iloc[:4].to_numpy()
    steps = np.diff(ephemeral) % SEQ / np.diff(table["t_s"].iloc[:4].to_numpy())
    assert all(abs(s - 15_625_000) > 1e6 for s in steps)   # no clock between them


# ------------------------------------------------------------------------- section 3
def test_the_probe():
    """"The SYN-ACK left at 1.00001 s. The spoofed SYN arrives exactly 1 s later, so the
    clock will have moved by 250 000"."""
    trace = tcpsim.run(isnx.spoof_scenario("clock"))
    sent_at, seen = isnx.probe_synack(trace)
    assert sent_at == pytest.approx(1.00001)
    actual = isnx.spoofed_synack(trace)
    spoofed_syn = trace.segments[(trace.segments["src"] == "trusted")
                                 & (trace.segments["flags"] == "S")].iloc[0]
    assert spoofed_syn["arrival"] - sent_at == pytest.approx(1.0)
    assert (actual - seen) % SEQ == 250_000


def test_the_attack_against_the_clock():
    """"The server's SYN-ACK (to the trusted host) is lost, the blind ACK acknowledges
    exactly its ISN + 1, and the server goes SYN-RECEIVED → ESTABLISHED: its program accepts
    the connection and reads the 19 bytes of the command"."""
    attack = isnx.blind_spoof("clock")
    assert attack.accepted and attack.predicted_isn == attack.actual_isn
    segs = attack.trace.segments
    synack = segs[(segs["dst"] == "trusted") & (segs["flags"] == "SA")].iloc[0]
    assert synack["dropped"]
    blind = segs[(segs["src"] == "trusted") & (segs["flags"] == "PA")].iloc[0]
    assert blind["ack"] == (synack["seq"] + 1) % SEQ and blind["len"] == 19 == len(isnx.COMMAND)
    states = attack.trace.states
    assert ((states["from"] == "SYN-RECEIVED") & (states["to"] == "ESTABLISHED")).any()
    events = attack.trace.events
    assert (events["call"] == "accept").any() and 19 in list(events["result"])


def test_the_attack_against_rfc6528_and_what_it_does_not_stop():
    """"the server answers the blind ACK with a RST (to the trusted host, so the attacker
    never learns why), and its request stays in SYN-RECEIVED until its SYN-ACK
    retransmissions give up"; "(It does not stop an attacker who sees the SYN-ACK, on the
    path)"; "one observation says nothing about the other connection"."""
    refused = isnx.blind_spoof("rfc6528")
    assert not refused.accepted
    segs = refused.trace.segments
    rst = segs[(segs["src"] == "server") & segs["flags"].str.contains("R")]
    assert list(rst["dst"]) == ["trusted"] and rst["dropped"].all()
    doc = isnx.spoof_scenario("rfc6528", (refused.predicted_isn + 1) % SEQ)
    doc["until"] = 100.0
    states = tcpsim.run(doc).states
    spoofed = states[(states["conn"] == 1)]
    assert list(spoofed["to"]) == ["SYN-RECEIVED", "CLOSED"]
    assert spoofed["cause"].iloc[-1] == "SYN-ACK retries exhausted"
    on_path = tcpsim.run(isnx.spoof_scenario("rfc6528", (refused.actual_isn + 1) % SEQ))
    assert isnx.spoof_accepted(on_path)
    # the probe's ISN and the spoofed connection's differ by more than the clock
    assert (refused.actual_isn - refused.probe_isn) % SEQ != 15_625_000


# ------------------------------------------------------------------------- section 4
@pytest.fixture(scope="module")
def monte_carlo():
    return isnx.stale_acceptance(np.logspace(0, 5, 26), runs=100_000, progress=False)


def test_the_monte_carlo(monte_carlo):
    """"zero: about 7 % of stale segments land in the new window, at every gap";
    "RFC 793's clock behaves like zero for the first seconds ... After about 4 s (1 MB at
    250 000 a second) the clock has outrun them: from 7 s on no stale segment is accepted,
    until the clock comes round again after 4.77 hours"; "RFC 6528 (Linux): none accepted until its 64 ns clock wraps
    (274.9 s); after that ... a few in a million are accepted"; "random: about 8 in a
    million, whatever the gap (the dashed line ...; 200 000 runs expect 1.6)"; "26 values of
    g from 1 s to 28 hours"."""
    frac = monte_carlo.pivot(index="gap_s", columns="strategy", values="fraction")
    gaps = frac.index.to_numpy()
    assert len(gaps) == 26 and gaps[0] == 1 and round(gaps[-1] / 3600) == 28
    assert frac["zero"].between(0.06, 0.075).all()
    assert round(1_000_000 / 250_000) == 4
    early = frac.loc[gaps <= 3.2]
    assert ((early["clock"] - early["zero"]).abs() < 0.005).all()
    assert (frac.loc[(gaps >= 6.5) & (gaps <= 10_000), "clock"] == 0).all()
    assert (frac.loc[gaps <= 200, "rfc6528"] == 0).all()
    late = monte_carlo[(monte_carlo["strategy"] == "rfc6528") & (monte_carlo["gap_s"] >= 1000)]
    assert 0 < late["accepted"].sum() / late["runs"].sum() < 1e-4
    level = (65535 + 1448 - 1) / SEQ / 2
    rnd = monte_carlo[monte_carlo["strategy"] == "random"]
    assert level / 2 < rnd["accepted"].sum() / rnd["runs"].sum() < 2 * level
    assert round(level * 1e6) == 8 and round(level * 200_000, 1) == 1.6
    rng = np.random.default_rng(1)
    at_wrap = isnx.stale_runs("clock", isnx.WRAP_S["clock"], 50_000, rng, jitter=0.0)
    assert at_wrap.mean() > 0.05


# ------------------------------------------------------------------------- section 5
def test_a_listener_stores_its_isn():
    """"The server retransmits its SYN-ACK after 1 s, with the same ISN"
    (ack-loss-late-data); "Linux's net.ipv4.tcp_syncookies: 1, the default"."""
    for trace in (course.capture("ack-loss-late-data"), course.simulate("ack-loss-late-data")):
        synacks = trace.segments[trace.segments["flags"] == "SA"]
        assert len(synacks) == 2 and synacks["seq"].nunique() == 1
        assert synacks["t"].iloc[1] - synacks["t"].iloc[0] == pytest.approx(1.0, abs=0.02)
    assert ConnectionOptions().syn_cookies == 1


@pytest.fixture(scope="module")
def flood():
    return tcpsim.run(isnx.flood_scenario(backlog=8, count=40))


def test_the_flood(flood):
    """"The first 9 forged SYNs (Linux holds backlog + 1 requests) each get a request in
    SYN-RECEIVED; from the 10th on, the queue is full and each SYN gets a cookie and leaves
    no trace. The real client's SYN at 0.5 s also gets a cookie, and it connects at once
    ... (LISTEN → ESTABLISHED)"; "(the forged SYNs carried no MSS option, so RFC 9293's
    default, 536, applies)"."""
    states = flood.states
    requests = states[(states["host"] == "server") & (states["to"] == "SYN-RECEIVED")]
    forged = flood.segments[flood.segments["injected"].fillna(False).astype(bool)]
    assert len(requests) == 9 and len(forged) == 40
    assert list(requests["t"]) == pytest.approx(list(forged["arrival"].iloc[:9]))
    cookies = isnx.cookie_table(flood, seed=4987)
    assert list(cookies["t"].iloc[:31]) == pytest.approx(list(forged["arrival"].iloc[9:]))
    assert set(cookies["mss"].iloc[:31]) == {536} and cookies["client_mss"].iloc[:31].isna().all()
    client = cookies[cookies["dst"] == "client"].iloc[0]
    assert client["t"] == pytest.approx(0.50001)
    connect = flood.events[(flood.events["call"] == "connect")].iloc[0]
    assert connect["result"] == "ok" and connect["t"] == pytest.approx(0.50002)
    made = states[states["cause"].str.contains("cookie")]
    assert list(zip(made["from"], made["to"])) == [("LISTEN", "ESTABLISHED")]


def test_the_flood_without_cookies():
    """"the forged requests hold the queue until their SYN-ACK retransmissions give up
    (about a minute), and every SYN of the client is dropped meanwhile. Its connect() has
    not returned when the run ends at 10 s (run on, it connects at 67.5 s: its first SYN
    after the forged requests expired at 63 s)"."""
    short = tcpsim.run(isnx.flood_scenario(syn_cookies=0))
    assert (short.events["host"] != "client").all()
    syns = short.segments[short.segments["src"] == "client"]
    rows = short.ignored[short.ignored["segment"].isin(syns.index)]
    assert len(rows) == len(syns) and rows["reason"].str.contains("SYN dropped").all()
    doc = isnx.flood_scenario(syn_cookies=0)
    doc["until"] = 200.0
    long = tcpsim.run(doc)
    expired = long.states[long.states["cause"] == "SYN-ACK retries exhausted"]
    assert expired["t"].min() == pytest.approx(63.0, abs=0.01)
    connect = long.events[long.events["call"] == "connect"].iloc[0]
    assert connect["result"] == "ok" and connect["t"] == pytest.approx(67.5, abs=0.01)


def test_the_cookie_layout():
    """"msstab = {536, 1300, 1440, 1460}"; "A cookie is accepted for up to 2 counts (60 to
    120 s)"; "the client's MSS rounded down"."""
    assert MSSTAB == (536, 1300, 1440, 1460) and MAX_SYNCOOKIE_AGE == 2
    secret, tup = b"k" * 16, ("192.0.2.1", "198.51.100.7", 40000, 443)
    cookie, mss = make_cookie(secret, tup, 1000, 1400, 0.0)
    assert mss == 1300
    assert check_cookie(secret, tup, 1001, cookie + 1, 119.9).valid
    late, _ = make_cookie(secret, tup, 1000, 1400, 59.9)
    assert not check_cookie(secret, tup, 1001, late + 1, 120.0).valid    # 60.1 s later


def test_no_state_so_no_retransmission():
    """"After the lost ACK nothing crosses the wire until the client's data at 2.5 s, whose
    ACK carries the cookie back and completes the connection on the server"; "Without
    cookies the request is a socket in SYN-RECEIVED with its retransmission timer running
    (on, 992 ms left); with cookies there is no socket at all until the data arrives";
    "the listener stays in LISTEN and goes LISTEN → ESTABLISHED at the data"; "The client's
    connect() returned at once ..., but the server's accept() returned only at 2.5 s"."""
    real = course.capture("syncookies-ack-loss")
    segs = real.segments
    assert list(segs["flags"].iloc[:4]) == ["S", "SA", "A", "PA"] and segs["dropped"].iloc[2]
    assert segs["t"].iloc[3] == pytest.approx(2.5, abs=0.01)
    assert segs["ack"].iloc[3] == (segs["seq"].iloc[1] + 1) % SEQ
    late = course.socket_states("ack-loss-late-data")
    request = late[(late["host"] == "server") & (late["to"] == "SYN-RECEIVED")].iloc[0]
    assert request["timer"].startswith("on,") and request["timer_left_s"] == pytest.approx(0.992)
    cookie = course.socket_states("syncookies-ack-loss")
    server = cookie[cookie["host"] == "server"]
    assert "SYN-RECEIVED" not in set(server["to"])
    first = server[server["to"] == "ESTABLISHED"].iloc[0]
    assert first["from"] == "CLOSED" and first["t"] == pytest.approx(2.5, abs=0.01)
    events = course.events("syncookies-ack-loss")
    connect = events[events["call"] == "connect"].iloc[0]
    accept = events[events["call"] == "accept"].iloc[0]
    assert connect["t"] < 0.11 and accept["t"] == pytest.approx(2.5, abs=0.01)
    sim = course.simulate("syncookies-ack-loss").states
    server = sim[sim["host"] == "server"]
    assert list(zip(server["from"], server["to"]))[:2] == [("CLOSED", "LISTEN"),
                                                           ("LISTEN", "ESTABLISHED")]
    assert server["t"].iloc[1] == pytest.approx(2.50001)


def test_a_client_that_waits_for_the_server_waits_for_ever():
    """"Had the client waited for the server to speak first (as in SMTP), neither would
    ever have sent anything"."""
    doc = course.scenario("syncookies-ack-loss")
    doc["actions"] = [a for a in doc["actions"] if a.get("do") == "listen" or
                      a.get("do") == "connect"]
    doc["until"] = 300.0
    trace = tcpsim.run(doc)
    assert len(trace.segments) == 3
    assert not (trace.events["call"] == "accept").any()


def test_what_options_cost_without_timestamps():
    """"With timestamps, Linux hides the rest of the SYN's options (window scale, SACK,
    ECN) in the low 6 bits of the SYN-ACK's TSval"; "Without timestamps the cookie SYN-ACK
    carries the MSS option alone: no window scaling ... and no SACK. The client asked for an
    MSS of 1400 ...; the connection uses 1300, rounded down, and the server's 3000 bytes go
    out as 1300 + 1300 + 400. The simulator does the same"."""
    always = course.capture("syncookies-always").segments.iloc[1]["options"]
    assert always["wscale"] == 10 and always["sack_perm"] and "ts" in always
    for trace in (course.capture("syncookies-no-ts"), course.simulate("syncookies-no-ts")):
        segs = trace.segments
        assert segs["options"].iloc[0]["mss"] == 1400
        assert segs["options"].iloc[1] == {"mss": 1460}
        data = segs[(segs["src"] == "server") & (segs["len"] > 0)]
        assert list(data["len"]) == [1300, 1300, 400]
        assert (segs["win"] <= 65535).all()


# ---------------------------------------------------------------------- the exercises
def test_four_autograded_exercises_and_one_written():
    """"Four exercises are checked automatically, one is written"."""
    from tcpsim.exercises import isn
    assert sorted(isn.GRADED) == ["03-ex1", "03-ex2", "03-ex3", "03-ex4"]
    import json
    from pathlib import Path
    nb = json.loads((Path(__file__).parent.parent / "instructors" / "source" /
                     "03-initial-sequence-numbers.ipynb").read_text())
    graded = [c["metadata"]["nbgrader"] for c in nb["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade")]
    assert sum(c["grade_id"].endswith("-check") for c in graded) == 4
    assert [c["grade_id"] for c in graded if c["grade_id"].endswith("-written")] == ["ex5-written"]


def test_the_clock_wraps_every_4_77_hours_in_the_picture():
    """"Over half a day, one connection every 5 minutes: each drop to 0 is a wrap, 4.77
    hours after the last"; "(each drop to 0)" of the 64 ns clock on one 4-tuple, 274.9 s."""
    table = isnx.generator_table(duration_s=12 * 3600, every_s=300)
    clock = table[table["strategy"] == "clock"]
    drops = clock["t_s"].to_numpy()[1:][np.diff(clock["isn"].to_numpy()) < 0]
    assert len(drops) == 2 and abs((drops[1] - drops[0]) / 3600 - 4.77) < 300 / 3600
    fixed = isnx.generator_table(duration_s=600, every_s=5)
    fixed = fixed[fixed["series"] == "one 4-tuple"]
    drops = fixed["t_s"].to_numpy()[1:][np.diff(fixed["isn"].to_numpy()) < 0]
    assert len(drops) == 2 and abs(drops[1] - drops[0] - 274.9) <= 5
