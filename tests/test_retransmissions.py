"""tcpsim.retransmissions and tcpsim.wireshark (notebook 06): the RTO replayed over a trace
against the simulator's own timers, the retransmissions of the shipped captures and their
simulations, the queue stage's drops and delays marked in the captures, Wireshark's labels
beside the truth, and the Monte Carlo."""
import json
import shutil
import subprocess

import pytest

import tcpsim
from tcpsim import course, retransmissions as rtx, wireshark
from tcpsim.course import CAPTURES_DIR
from tcpsim.profiles import LINUX, RFC9293


# ------------------------------------------------------------------ RFC 6298 by hand
def test_rto_steps_follow_rfc6298_section_2():
    """§2.2: SRTT = R, RTTVAR = R/2; §2.3: RTTVAR first (with the old SRTT), then SRTT;
    RTO = SRTT + 4·RTTVAR, at least 1 s (§2.4)."""
    steps = rtx.rto_steps([2.0, 1.0], "rfc9293")
    assert list(steps["srtt_s"]) == [2.0, 0.875 * 2.0 + 0.125 * 1.0]
    rttvar2 = 0.75 * 1.0 + 0.25 * abs(2.0 - 1.0)
    assert list(steps["rttvar_s"]) == [1.0, rttvar2]
    assert steps["rto_s"].iloc[0] == 2.0 + 4 * 1.0
    assert steps["rto_s"].iloc[1] == pytest.approx(1.875 + 4 * rttvar2)
    assert rtx.rto_steps([0.1], "rfc9293")["rto_s"].iloc[0] == RFC9293.min_rto_s == 1.0


def test_rto_steps_linux_floors_the_variance_term():
    """tcp_set_rto(): RTO = SRTT + max(4·RTTVAR, 200 ms), so a 20 µs loopback RTT gives
    200.02 ms, and a 100 ms path 100 + 200 ms."""
    assert rtx.rto_steps([0.00002], "linux")["rto_s"].iloc[0] == pytest.approx(0.20002)
    assert rtx.rto_steps([0.1], "linux")["rto_s"].iloc[0] == pytest.approx(0.1 + 0.2)
    assert LINUX.min_rto_s == 0.2


@pytest.mark.parametrize("bad", [[0], [-0.1], ["0.1"], [True]])
def test_rto_steps_refuse_bad_samples_naming_them(bad):
    with pytest.raises(ValueError, match=r"samples_s\[0\]"):
        rtx.rto_steps(bad)


def test_unknown_profile_is_named():
    with pytest.raises(ValueError, match="profile"):
        rtx.rto_steps([0.1], "bsd")
    with pytest.raises(ValueError, match="profile"):
        rtx.rto_timeline(course.capture("data-rto"))     # a capture has no profile


# ------------------------------------------------- the replay against the simulator
def lossy(profile, seed=4, delay_s=0.01, loss=0.1):
    return tcpsim.run(rtx.transfer_scenario(loss, profile, seed, delay_s=delay_s))


@pytest.mark.parametrize("profile,seed", [("linux", 4), ("rfc9293", 4), ("linux", 9),
                                          ("rfc9293", 2)])
def test_replayed_rto_is_the_one_the_simulator_armed(profile, seed):
    """Every time the client's retransmission timer is (re)armed in the simulator's TCB, its
    interval is the replayed RTO times a power of two (the back-off, RFC 6298 §5.5)."""
    trace = lossy(profile, seed)
    timeline = rtx.rto_timeline(trace)
    assert len(timeline) > 3
    tcb = trace.tcb[trace.tcb["host"] == "client"]
    previous, checked = {}, 0
    for t, timers in zip(tcb["t"], tcb["timers"]):
        rto = rtx.rto_at(timeline, t)
        deadline = timers.get("rto")
        if deadline is not None and deadline != previous.get("rto"):
            ratio = (deadline - t) / rto
            assert any(ratio == pytest.approx(2 ** k) for k in range(8)), (t, ratio)
            checked += 1
        probe = timers.get("tlp")
        if probe is not None and probe != previous.get("tlp"):
            # RFC 8985 §7.2 as tcp_schedule_loss_probe(): 2·SRTT plus 200 ms (one segment
            # out) or 2 jiffies, never later than the RTO
            srtt = timeline[timeline["t"] <= t + 1e-9]["srtt_s"].iloc[-1]
            pto = probe - t
            assert pto <= rto + 1e-9
            assert any(pto == pytest.approx(2 * srtt + extra) for extra in (0.2, 0.008)) or \
                pto < 2 * srtt + 0.008, (t, pto, srtt)
            checked += 1
        previous = timers
    assert checked > 3


def test_karn_no_sample_from_a_retransmitted_segment():
    """data-rto: the last segment was sent three times; the only samples are the SYN's,
    the first segment's and, after the repair, the FIN's, none timed on a re-sent copy."""
    timeline = rtx.rto_timeline(course.simulate("data-rto"))
    assert list(timeline["what"]) == ["initial RTO (RFC 6298 §2.1)", "SYN",
                                      "data up to rel seq 1449", "data up to rel seq 5002"]


# -------------------------------------------------------------- the retransmissions
def test_middle_loss_is_repaired_by_one_ack_triggered_retransmission():
    for trace in (course.capture("data-loss-middle"), course.simulate("data-loss-middle")):
        table = rtx.retransmissions(trace)
        assert len(table) == 1
        row = table.iloc[0]
        assert row["trigger"] == "ACK" and row["needed"] and not row["dsacked"]
        assert row["rel_seq"] == 3 * 1448 + 1 and row["waited_s"] < rtx.ACK_TRIGGER_S


def test_data_rto_is_a_probe_then_a_timeout():
    sim = rtx.retransmissions(course.simulate("data-rto"))
    assert list(sim["timer"]) == ["tail loss probe", "retransmission timeout"]
    assert list(sim["trigger"]) == ["timer", "timer"] and sim["needed"].all()
    real = rtx.retransmissions(course.capture("data-rto"))
    assert list(real["trigger"]) == ["timer", "timer"] and real["timer"].isna().all()
    assert real["needed"].all() and list(real["copy"]) == [2, 3]


def test_reorder_retransmission_was_not_needed_and_dsacked():
    for trace in (course.capture("reorder"), course.simulate("reorder")):
        row = rtx.retransmissions(trace).iloc[0]
        assert row["trigger"] == "ACK" and row["needed"] is not None and not row["needed"]
        assert row["dsacked"]


def test_a_capture_without_marked_drops_does_not_guess_needed():
    raw = tcpsim.read_pcap(course.capture_path("loss-5pct"))
    assert rtx.retransmissions(raw)["needed"].isna().all()


# ---------------------------------------------------- the queue stage in the captures
@pytest.mark.parametrize("name", ["loss-5pct", "loss-20pct"])
def test_queue_stage_drops_are_marked(name):
    log = json.loads((CAPTURES_DIR / f"{name}.events.json").read_text())["queue"]["log"]
    drops = sorted((e["seq"], e["len"]) for e in log if e["verdict"] == "drop")
    segments = course.capture(name).segments
    lost = segments[segments["dropped"] == True]  # noqa: E712
    assert sorted(zip(lost["seq"], lost["len"])) == drops
    assert lost["arrival"].isna().all()


def test_queue_stage_delay_sets_the_arrival():
    log = json.loads((CAPTURES_DIR / "reorder.events.json").read_text())["queue"]["log"]
    (held,) = log
    segments = course.capture("reorder").segments
    late = segments[(segments["arrival"] - segments["t"]).abs() > 1e-9]
    assert len(late) == 1 and late["seq"].iloc[0] == held["seq"]
    assert late["arrival"].iloc[0] - late["t"].iloc[0] == pytest.approx(held["extra"], abs=1e-6)


# ------------------------------------------------------------- Wireshark beside the truth
SEQUENCE_LABELS = {"retransmission", "fast retransmission", "spurious retransmission",
                   "out-of-order"}


@pytest.mark.parametrize("name", ["loss-5pct", "loss-20pct", "reorder", "data-rto"])
def test_wireshark_finds_the_readers_resent_segments(name):
    """Wireshark's rules (wireshark.sequence_labels) and the reader's labels pick out the same
    segments as re-sent or out of order; they differ in which name they give them."""
    real = course.capture(name)
    table = wireshark.compare(real)
    reader = real.segments["retransmission"] | real.segments["out_of_order"]
    assert list(table["wireshark"].isin(SEQUENCE_LABELS)) == list(reader)


def test_real_fast_retransmissions_are_out_of_order_to_wireshark():
    """loss-5pct and loss-20pct, real: Wireshark calls some needed retransmissions
    out-of-order: they come less than one handshake RTT after the highest segment, and the
    receiver had not sent the two duplicate ACKs for exactly their seq that Wireshark's
    fast-retransmission rule (checked first) wants."""
    for name in ("loss-5pct", "loss-20pct"):
        wrong = wireshark.mislabelled(course.capture(name))
        assert len(wrong) >= 4 and set(wrong["wireshark"]) == {"out-of-order"}
        assert all(t.startswith("retransmission") for t in wrong["truth"])


def test_reordered_original_is_a_spurious_retransmission_to_the_receivers_wireshark():
    trace = course.simulate("reorder")
    assert wireshark.mislabelled(trace, "sender").empty
    wrong = wireshark.mislabelled(trace, "receiver")
    assert len(wrong) == 1
    row = wrong.iloc[0]
    assert row["wireshark"] == "spurious retransmission"
    assert row["truth"] == "first transmission, overtaken on the way"
    delayed = trace.segments.loc[row["i"]]
    assert not delayed["retransmission"] and delayed["arrival"] - delayed["t"] > 0.01


def test_real_reorder_retransmission_is_out_of_order_to_wireshark():
    (row,) = wireshark.mislabelled(course.capture("reorder")).itertuples()
    assert row.wireshark == "out-of-order" and row.truth == "retransmission, not needed"


def test_previous_segment_not_captured_follows_the_hole():
    table = wireshark.compare(course.simulate("data-loss-middle"), "receiver")
    flagged = table[table["wireshark"] == "previous segment not captured"]
    assert list(flagged["rel_seq"]) == [4 * 1448 + 1]      # the 5th segment, after the lost 4th
    assert wireshark.compare(course.simulate("data-loss-middle"), "sender")[
        "wireshark"].ne("previous segment not captured").all()
    assert set(table["truth"]) <= set(wireshark.TRUTHS)
    assert set(table["wireshark"]) <= set(wireshark.LABELS)


TSHARK = shutil.which("tshark")
TSHARK_FIELDS = {"tcp.analysis.fast_retransmission": "fast retransmission",
                 "tcp.analysis.spurious_retransmission": "spurious retransmission",
                 "tcp.analysis.out_of_order": "out-of-order",
                 "tcp.analysis.lost_segment": "previous segment not captured",
                 "tcp.analysis.retransmission": "retransmission"}   # in Wireshark's order


def tshark_labels(path):
    """For each packet of ``path``'s first connection: the sequence label tshark gives it
    (fast and spurious retransmissions also set tcp.analysis.retransmission)."""
    fields = [arg for field in TSHARK_FIELDS for arg in ("-e", field)]
    out = subprocess.run([TSHARK, "-n", "-r", str(path), "-Y", "tcp.stream == 0", "-T",
                          "fields", *fields], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    labels = []
    for line in out.splitlines():
        values = line.split("\t")
        labels.append(next((name for name, value in zip(TSHARK_FIELDS.values(), values)
                            if value), ""))
    return labels


LOSS_CAPTURES = ["data-loss-middle", "data-loss-tail", "data-rto", "reorder", "loss-5pct",
                 "loss-20pct", "duplicate", "fin-loss", "paced-noread"]


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
@pytest.mark.parametrize("name", LOSS_CAPTURES)
def test_sequence_labels_are_tsharks(name, tmp_path):
    """Every sequence-analysis label of wireshark.compare is tshark's: on the real capture,
    and on its simulation seen from the sender's and from the receiver's host."""
    def ours(trace, vantage):
        return [x if x in TSHARK_FIELDS.values() else ""
                for x in wireshark.compare(trace, vantage)["wireshark"]]
    assert ours(course.capture(name), "sender") == tshark_labels(course.capture_path(name))
    sim = course.simulate(name)
    for vantage in wireshark.VANTAGES:
        path = tmp_path / f"{vantage}.pcap"
        wireshark.write_pcap(sim, path, vantage)
        assert ours(sim, vantage) == tshark_labels(path), vantage


def test_bad_vantage_is_named():
    with pytest.raises(ValueError, match="vantage"):
        wireshark.compare(course.simulate("reorder"), "middle")


# --------------------------------------------------------------------- Monte Carlo
def test_transfer_times_without_loss_have_no_retransmission():
    table = rtx.transfer_times([0.0], runs=2, progress=False)
    assert set(table["profile"]) == {"linux", "rfc9293"}
    assert (table["retransmissions"] == 0).all() and table["seconds"].notna().all()


def test_transfer_times_refuse_bad_input():
    with pytest.raises(ValueError, match="loss"):
        rtx.transfer_scenario(1.5)
    with pytest.raises(ValueError, match="runs"):
        rtx.transfer_times([0.1], runs=0, progress=False)
