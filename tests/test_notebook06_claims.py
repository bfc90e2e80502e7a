"""What notebook 06 tells students, checked against the simulator and the real captures.

Each test quotes the claim it checks (the notebook's sentence). If the simulator or a
capture changes so that a sentence of the notebook becomes false, a test here fails.
The Wireshark labels themselves are checked against tshark in tests/test_retransmissions.py.
"""
import pytest

import tcpsim
from tcpsim import course, plots, retransmissions as rtx, wireshark
from tcpsim.exercises import answers, loss
from tcpsim.profiles import LINUX, RFC9293, TCP_RTO_MIN, TCP_TIMEOUT_INIT

JIFFY_S = 0.004          # CONFIG_HZ=250 on the capture machine
SAMPLES = [0.100, 0.120, 0.300, 0.110]


# ---------------------------------------------------------------- section 1: the timer
def test_rfc6298_and_linux_constants():
    """"RTO = SRTT + 4·RTTVAR, but never below 1 second (§2.4); before any sample, RTO = 1 s
    (§2.1)"; Linux's "floor is 200 ms on the variance term"."""
    assert RFC9293.min_rto_s == 1.0 and RFC9293.initial_rto_s == 1.0 == TCP_TIMEOUT_INIT
    assert LINUX.min_rto_s == TCP_RTO_MIN == 0.2 and LINUX.rto_var_floor
    assert not RFC9293.rto_var_floor


def test_same_samples_two_answers():
    """"RFC 6298's one-second floor hides the 300 ms sample altogether: the RTO stays at 1 s.
    Linux's RTO follows the path: the third sample raises it by about 150 ms at once,
    although SRTT moves by only 25 ms"."""
    rfc = rtx.rto_steps(SAMPLES, "rfc9293")
    assert (rfc["rto_s"] == 1.0).all()
    linux = rtx.rto_steps(SAMPLES, "linux")
    jump = linux["rto_s"].iloc[2] - linux["rto_s"].iloc[1]
    srtt_moved = linux["srtt_s"].iloc[2] - linux["srtt_s"].iloc[1]
    assert jump == pytest.approx(0.15, abs=0.005) and srtt_moved == pytest.approx(0.025, abs=0.001)
    # by hand, RFC 6298 §2.2-2.3
    srtt, rttvar = 0.1, 0.05
    for r in SAMPLES[1:3]:
        rttvar = 0.75 * rttvar + 0.25 * abs(srtt - r)
        srtt = 0.875 * srtt + 0.125 * r
    assert linux["rto_s"].iloc[2] == pytest.approx(srtt + max(4 * rttvar, 0.2))


def slow_ack_trace():
    scenario = {
        "name": "one slow ACK on a 100 ms round trip", "profile": "linux",
        "link": {"mtu": 1500, "delay": 0.05},
        "hosts": {"client": {"port": 40060, "options": {"nodelay": True}},
                  "server": {"port": 5060}},
        "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                    {"at": 0.0, "host": "client", "do": "connect", "to": "server"}]
        + [{"at": round(0.2 + 0.3 * k, 6), "host": "client", "do": "send", "bytes": 1000}
           for k in range(8)],
        "faults": [{"delay": {"from": "server", "flags": "A", "between": [1.0, 1.2],
                              "extra": 0.4}}],
    }
    return tcpsim.run(scenario)


def test_one_slow_ack():
    """"Every sample is 100 ms but one: the fourth write's is 400 ms (the next write's ACK
    overtook the held one and covered it). SRTT moves by an eighth of the jump, RTTVAR by a
    quarter of it, and the RTO, 300 ms before (100 ms plus Linux's 200 ms), goes up to about
    500 ms, then comes down slowly as the next samples are 100 ms again." """
    trace = slow_ack_trace()
    timeline = rtx.rto_timeline(trace)
    samples = timeline["sample_s"].dropna().round(6).tolist()
    assert samples.count(0.4) == 1 and all(s in (0.1, 0.4) for s in samples)
    k = timeline.index[timeline["sample_s"].round(6) == 0.4][0]
    before, at = timeline.loc[k - 1], timeline.loc[k]
    assert at["what"] == "data up to rel seq 4001"          # the fourth write
    assert before["rto_s"] == pytest.approx(0.3)
    assert at["srtt_s"] - before["srtt_s"] == pytest.approx((0.4 - 0.1) / 8)
    assert at["rttvar_s"] == pytest.approx(0.75 * before["rttvar_s"] + 0.25 * 0.3)
    assert at["rto_s"] == pytest.approx(0.5, abs=0.01)
    after = timeline.loc[k:, "rto_s"].tolist()
    assert after == sorted(after, reverse=True) and after[-1] > 0.3
    # the held ACK arrived after the next one: that one covered the timed segment
    acks = trace.segments[(trace.segments["src"] == "server") & (trace.segments["len"] == 0)]
    held = acks[acks["arrival"] - acks["t"] > 0.1]
    assert len(held) == 1 and held["rel_ack"].iloc[0] == 4001
    later = acks[acks["rel_ack"] == 5001]
    assert later["arrival"].iloc[0] < held["arrival"].iloc[0]
    assert plots.rto(trace, log=False).axes[0].tcpsim["timeline"].equals(timeline)


def lost_four_times(profile):
    return tcpsim.run({
        "name": "the last segment lost four times", "profile": profile,
        "link": {"mtu": 1500}, "hosts": {"client": {"port": 40063}, "server": {"port": 5063}},
        "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                    {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                    {"at": 0.3, "host": "client", "do": "send", "bytes": 5000}],
        "faults": [{"drop": {"from": "client", "flags": "PA", "nth": [1, 2, 3, 4]}}],
        "until": 30.0})


def gaps(times):
    return [round(b - a, 3) for a, b in zip(times, times[1:])]


def test_backoff_doubles():
    """"In the rfc9293 row the gaps are 1, 2, 4 and 8 seconds ... In the linux row the first
    re-send is not the timer but the tail loss probe of section 2, which on loopback also
    comes after about 200 ms; after it the RTO doubles from Linux's 200 ms: 0.2, 0.4, 0.8 s."""
    rfc = plots.schedule_data(lost_four_times("rfc9293"), "PA", "client")["times"]
    assert gaps(rfc) == [1.0, 2.0, 4.0, 8.0]
    linux = lost_four_times("linux")
    assert gaps(plots.schedule_data(linux, "PA", "client")["times"]) == [0.2, 0.2, 0.4, 0.8]
    table = rtx.retransmissions(linux)
    assert list(table["timer"]) == ["tail loss probe"] + ["retransmission timeout"] * 3


def test_data_rto_real_gaps():
    """"on the real kernel the first re-send is the probe, 206 ms after the segment, and the
    second is the retransmission timeout, 212 ms after the probe" (section 2)."""
    table = rtx.retransmissions(course.capture("data-rto"))
    first, second = table.iloc[0], table.iloc[1]
    assert first["t"] - first["first_sent"] == pytest.approx(0.206, abs=0.001)
    assert second["t"] - first["t"] == pytest.approx(0.212, abs=0.001)
    assert list(table["trigger"]) == ["timer", "timer"]
    sim = rtx.retransmissions(course.simulate("data-rto"))
    assert list(sim["timer"]) == ["tail loss probe", "retransmission timeout"]


# ------------------------------------------------------- section 2: faster than the timer
def test_middle_loss_real():
    """"the client writes 14 480 bytes (10 full segments, all sent at once) and the 4th
    segment is lost"; "The server acknowledges the first three segments (ack 4345). Each
    segment after the hole makes it send the same acknowledgment again"; "the sack block
    grows by one segment each time"; "The client re-sent the 4th segment a fraction of a
    millisecond after those ACKs, and the next ACK covers all 14 480 bytes"; "all ten
    segments left within 80 µs and the five duplicate ACKs came back within 4 µs of one
    another"."""
    real = course.capture("data-loss-middle")
    s = real.segments
    data = s[(s["src"] == "client") & (s["len"] > 0) & ~s["retransmission"]]
    assert len(data) == 10 and data["len"].sum() == 14480 and (data["len"] == 1448).all()
    assert data["t"].max() - data["t"].min() < 80e-6
    lost = s[s["dropped"]]
    assert list(lost["rel_seq"]) == [3 * 1448 + 1]
    dups = s.loc[17:21]
    assert (dups["src"] == "server").all() and (dups["rel_ack"] == 4345).all()
    assert dups.loc[18:, "dup_ack"].all() and dups["t"].max() - dups["t"].min() < 5e-6
    rights = [row["sack"][0][1] for row in dups["options"]]
    assert [b - a for a, b in zip(rights, rights[1:])] == [1448] * 4
    table = rtx.retransmissions(real)
    assert len(table) == 1 and table["waited_s"].iloc[0] < 0.001
    assert s.loc[23, "rel_ack"] == 14481 and s.loc[22, "retransmission"]


def test_rfc9293_profile_middle():
    """"here, with the same scenario, five duplicate ACKs came (no SACK blocks: the textbook
    machine does not negotiate SACK), and the retransmission followed them"; "The textbook
    rule (RFC 5681 §3.2) waits for three"."""
    sim = course.simulate("data-loss-middle", profile="rfc9293")
    s = sim.segments
    assert not RFC9293.sack
    dups = s[(s["src"] == "server") & (s["rel_ack"] == 4381) & (s["len"] == 0)]
    assert len(dups) == 6                               # the ACK of segment 3 and five duplicates
    assert not any("sack" in o for o in s["options"])
    assert s.loc[dups.index[-1] + 1, "retransmission"]
    # the threshold is three: with two segments after the hole the timer repairs it
    two_after = course.scenario("data-loss-middle")
    two_after["faults"] = [{"drop": {"from": "client", "data_segment": 8}}]
    table = rtx.retransmissions(tcpsim.run(dict(two_after, profile="rfc9293")))
    assert table["trigger"].iloc[0] == "timer"
    three_after = dict(two_after, faults=[{"drop": {"from": "client", "data_segment": 7}}])
    table = rtx.retransmissions(tcpsim.run(dict(three_after, profile="rfc9293")))
    assert table["trigger"].iloc[0] == "ACK"


def test_tail_loss():
    """"The real kernel re-sent the last segment after 206 ms of silence. That is not the
    retransmission timer but the tail loss probe"; "The textbook machine has no probe: for
    it a tail loss costs a full RTO, at least one second (the segment first left at 0.3 s
    and again at 1.3 s, carrying the FIN that the client's close() had queued at 0.8 s)"."""
    real = rtx.retransmissions(course.capture("data-loss-tail"))
    assert len(real) == 1 and real["trigger"].iloc[0] == "timer"
    assert real["waited_s"].iloc[0] == pytest.approx(0.206, abs=0.001)
    sim = rtx.retransmissions(course.simulate("data-loss-tail"))
    assert list(sim["timer"]) == ["tail loss probe"]
    rfc = rtx.retransmissions(course.simulate("data-loss-tail", profile="rfc9293")).iloc[0]
    assert rfc["timer"] == "retransmission timeout" and not RFC9293.tail_loss_probe
    assert rfc["first_sent"] == pytest.approx(0.3, abs=0.001)
    assert rfc["t"] == pytest.approx(1.3, abs=0.001) and "F" in rfc["flags"]
    closes = [a for a in course.scenario("data-loss-tail")["actions"] if a["do"] == "close"
              and a["host"] == "client"]
    assert closes[0]["at"] == 0.8


def test_tlp_timeout_formula():
    """"when the sender has data in flight and hears nothing for about two round trips (plus
    200 ms when only one segment is out), it re-sends its last segment"."""
    from tcpsim.endpoint import TCP_TIMEOUT_MIN
    assert TCP_TIMEOUT_MIN == 0.008 and LINUX.min_rto_s == 0.2 and LINUX.tail_loss_probe


# --------------------------------------------------------------- section 3: reordering
def test_reorder_real():
    """"the capture tool holds the 10th segment for 17.5 ms on its way, so that the next
    three overtake it"; "the server's first duplicate ACK carried a SACK block for it. The
    kernel re-sent the 10th segment 0.12 ms later, after that single duplicate ACK"; "a
    segment sent 5 ms after the 10th had been delivered"; "the original was still on its
    way, and arrived 12 ms later"; "a SACK block below the ACK number (options of frame
    31)"."""
    real = course.capture("reorder")
    s = real.segments
    late = s[(s["arrival"] - s["t"]) > 0.01].iloc[0]
    assert late["arrival"] - late["t"] == pytest.approx(0.0175, abs=1e-6)
    data = s[(s["src"] == "client") & (s["len"] > 0) & ~s["retransmission"]]
    assert list(data.index).index(late.name) == 9                    # the 10th
    overtaking = data[(data["t"] > late["t"]) & (data["arrival"] < late["arrival"])]
    assert len(overtaking) == 3
    dup = s.loc[23]
    assert dup["dup_ack"] and dup["options"]["sack"]
    # "after one duplicate ACK" (the myth table): the only one before the re-send
    server_before = s[(s["src"] == "server") & (s.index < 24) & (s.index > late.name)]
    assert list(server_before.index) == [23]
    table = rtx.retransmissions(real)
    row = table.iloc[0]
    assert row["t"] - dup["t"] == pytest.approx(0.00012, abs=0.00002)
    assert row["needed"] is not None and not row["needed"] and row["dsacked"]
    nxt = s.loc[22]
    assert nxt["t"] - late["t"] == pytest.approx(0.005, abs=0.0005)
    assert late["arrival"] - row["t"] == pytest.approx(0.012, abs=0.0005)
    frame31 = s[s["frame"] == 31].iloc[0]
    (left, right), = frame31["options"]["sack"]
    assert (right - frame31["ack"]) % 2 ** 32 > 2 ** 31 or right == frame31["ack"]  # below the ack
    assert left == late["seq"]


def test_reorder_simulated():
    """"The simulator, with the same scenario, re-sends the same segment at once, and marks it
    unneeded and D-SACKed too"."""
    table = rtx.retransmissions(course.simulate("reorder"))
    assert len(table) == 1 and table["trigger"].iloc[0] == "ACK"
    assert table["waited_s"].iloc[0] == 0.0 and not table["needed"].iloc[0]
    assert table["dsacked"].iloc[0]
    assert table["rel_seq"].iloc[0] == rtx.retransmissions(course.capture("reorder"))[
        "rel_seq"].iloc[0]


def test_out_of_order_queue():
    """"The server's receive side holds one segment, 1448 bytes, beyond RCV.NXT, out of
    order" (the buffer view at t = 0.35002)."""
    from tcpsim.plots._common import tcb_at
    trace = course.simulate("reorder")
    row = tcb_at(trace, "server", 0.35002)
    assert row["rcv_out_of_order"] == 1448 and row["rcv_buffered"] == 0


# ---------------------------------------------------------------- section 4: Wireshark
def test_wireshark_on_real_reorder():
    """"The unneeded retransmission is Out-Of-Order to Wireshark: it left less than a
    handshake round trip after the highest segment"."""
    (row,) = wireshark.mislabelled(course.capture("reorder")).itertuples()
    assert row.wireshark == "out-of-order" and row.truth == "retransmission, not needed"
    table = wireshark.compare(course.capture("reorder"))
    rtt = wireshark._handshake_rtt(course.capture("reorder").doc["segments"])
    before = table[(table["src"] == "client") & (table["frame"] < row.frame)]
    assert row.t - before["t"].max() < rtt


def test_wireshark_on_real_loss_5pct():
    """"On the real loss-5pct capture (200 kB, 5 % of the client's segments lost), half of
    the needed retransmissions get the same label"."""
    real = course.capture("loss-5pct")
    wrong = wireshark.mislabelled(real)
    needed = rtx.retransmissions(real)["needed"]
    assert needed.all() and len(wrong) * 2 == len(needed)
    assert set(wrong["wireshark"]) == {"out-of-order"}


def test_wireshark_at_the_receiver_of_reorder():
    """"The original transmission is labelled Spurious Retransmission. A few rows earlier,
    the segment that overtook it got Previous segment not captured, though nothing was
    lost"."""
    trace = course.simulate("reorder")
    wrong = wireshark.mislabelled(trace, vantage="receiver")
    assert list(wrong["wireshark"]) == ["spurious retransmission"]
    assert list(wrong["truth"]) == ["first transmission, overtaken on the way"]
    view = wireshark.compare(trace, vantage="receiver")
    flagged = view[view["wireshark"] == "previous segment not captured"]
    assert len(flagged) == 1 and flagged.index[0] < wrong["frame"].iloc[0]
    assert not trace.segments["dropped"].any()


def test_exercise_4_solution_is_right():
    """The instructors' solution of exercise 4 (a 30 ms hold, seen at the receiver)."""
    scenario = {"name": "Wireshark guesses wrong", "profile": "linux",
                "link": {"mtu": 1500, "delay": 0.005},
                "hosts": {"client": {"port": 40061}, "server": {"port": 5061}},
                "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                            {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                            {"at": 0.3, "host": "client", "do": "send", "bytes": 10 * 1448}],
                "faults": [{"delay": {"from": "client", "data_segment": 4, "extra": 0.03}}]}
    assert loss.judge_wireshark_wrong(scenario, "receiver")
    assert not loss.judge_wireshark_wrong(dict(scenario, faults=[]), "sender")


# --------------------------------------------------------------- section 5: Monte Carlo
@pytest.fixture(scope="module")
def sweep():
    return rtx.transfer_times([0.0, 0.01, 0.02, 0.05, 0.1, 0.2], runs=20, progress=False)


def test_monte_carlo(sweep):
    """"50 000 bytes, 35 full segments, over a 20 ms round trip"; "20 runs for each loss rate
    and profile, 240 runs in all"; "Without loss, the transfer takes a few round trips in
    both profiles, and nothing is re-sent"; "the rfc9293 curves lie above Linux's at every
    loss rate"; "the 90th percentile jumps as soon as some runs need the timer"."""
    assert rtx.MONTE_CARLO_BYTES == 50_000 and -(-50_000 // 1448) == 35
    assert 2 * rtx.MONTE_CARLO_DELAY_S == 0.020
    assert len(sweep) == 240
    clean = sweep[sweep["loss"] == 0.0]
    assert (clean["retransmissions"] == 0).all()
    assert (clean["seconds"] <= 5 * 2 * rtx.MONTE_CARLO_DELAY_S).all()
    summary = plots.loss_sweep(sweep).axes[0].tcpsim["summary"].set_index(["profile", "loss"])
    for loss_rate in sorted(set(sweep["loss"])):
        for column in ("median", "p90"):
            assert summary.loc[("rfc9293", loss_rate), column] >= \
                summary.loc[("linux", loss_rate), column]
    rfc = summary.loc["rfc9293"]
    timed = sweep[(sweep["profile"] == "rfc9293") & (sweep["timeouts"] > 0)]
    assert len(timed) and (timed["seconds"] > 1.0).all()
    assert rfc.loc[0.2, "p90"] > 1.0 > rfc.loc[0.0, "p90"]


def test_completion_table():
    """The table of section 5: a middle loss costs under a millisecond on the real kernel, a
    tail loss the probe's ~206 ms, a lost probe ~418 ms; the textbook's 1 s for the tails."""
    table = rtx.completion_table(["data-loss-middle", "data-loss-tail", "data-rto"])
    real = dict(zip(table["capture"], table["real Linux (ms)"]))
    assert real["data-loss-middle"] < 1 and 200 < real["data-loss-tail"] < 210
    assert 410 < real["data-rto"] < 425
    rfc = dict(zip(table["capture"], table["rfc9293 (ms)"]))
    assert rfc["data-loss-tail"] >= 1000 and rfc["data-rto"] >= 1000
    assert list(table["re-sent after (real)"]) == ["ACK", "timer", "timer, timer"]


# -------------------------------------------------------------- the exercises' answers
def test_capture_digests_are_the_captures():
    """Exercise 2's digests, recomputed from the shipped captures (the frames of every
    retransmission, and of the needed ones)."""
    for name in loss.CAPTURE_POOL:
        table = rtx.retransmissions(course.capture(name))
        segments = course.capture(name).segments
        frames = [int(segments.loc[i, "frame"]) for i in table["i"]]
        needed = [f for f, n in zip(frames, table["needed"]) if n]
        assert loss.CAPTURE_DIGESTS[name] == (loss.frames_digest("06-ex2", frames),
                                              loss.frames_digest("06-ex2-needed", needed))


def test_recovery_answers_follow_rfc5681_and_rfc6298():
    """Exercise 3's answers, by hand: three or more segments after the lost one, fast
    retransmit one round trip later; else the RTO, 1 s, counted from the last ACK of new
    data (one round trip after the write) or from the write if the first segment was lost."""
    for k in range(60):
        seed = answers.student_seed(f"student{k}")
        n = loss.recovery_numbers(seed)
        want = loss.expected_recovery(seed)
        rtt = 2 * n["delay_ms"] / 1000
        if n["segments"] - n["lost"] >= 3:
            assert want == {"recovery": "fast retransmit", "repair_s": pytest.approx(rtt)}
        else:
            extra = rtt if n["lost"] > 1 else 0.0
            assert want == {"recovery": "timeout", "repair_s": pytest.approx(1.0 + extra)}


def test_exercise_1_matches_rfc6298_by_hand():
    for k in range(30):
        seed = answers.student_seed(f"s{k}")
        samples = loss.rto_samples_ms(seed)
        srtt, rttvar = samples[0], samples[0] / 2
        for r in samples[1:]:
            rttvar = 0.75 * rttvar + 0.25 * abs(srtt - r)
            srtt = 0.875 * srtt + 0.125 * r
        want = loss.expected_rto(seed)
        assert want["srtt_ms"] == pytest.approx(srtt)
        assert want["rttvar_ms"] == pytest.approx(rttvar)
        assert want["rto_ms"] == pytest.approx(max(1000, srtt + 4 * rttvar))
