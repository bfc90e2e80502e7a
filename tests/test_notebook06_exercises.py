"""Notebook 06's checks (tcpsim/exercises/loss.py), held to instructors/writing-exercises.md:
each judge with the right answer and with the typical wrong ones, no message naming the
expected value, the default id refused, and the grader (a fresh process) agreeing."""
import json
import subprocess
import sys

import pytest

from tcpsim import course
from tcpsim import exercises as ex
from tcpsim.exercises import answers, loss
from tcpsim.exercises.grade import RIGHT, UNUSABLE, WRONG, grade

IDS = [f"student-{k}" for k in range(8)]


def assert_no_solution(feedback, *values):
    assert not feedback.correct
    for value in values:
        assert str(value) not in feedback.message, feedback.message


def rounded(values):
    return [str(round(v, 3)) for v in values] + [str(round(v)) for v in values] + \
        [f"{v:.1f}" for v in values]


# ------------------------------------------------------------------- exercise 1 (RTO)
@pytest.mark.parametrize("student", IDS)
def test_rto_right_answers(student):
    seed = ex.student_seed(student)
    want = loss.expected_rto(seed)
    assert ex.judge_rto(want["srtt_ms"], want["rttvar_ms"], want["rto_ms"], seed=seed)
    # rounded to the millisecond, and as the strings a numpy float becomes
    assert ex.judge_rto(round(want["srtt_ms"]), round(want["rttvar_ms"]), round(want["rto_ms"]),
                        seed=seed)
    assert ex.judge_rto(*(str(want[k]) for k in ("srtt_ms", "rttvar_ms", "rto_ms")), seed=seed)


def mistaken(seed, **knobs):
    a = loss._steps(loss.rto_samples_ms(seed), **knobs)
    return a["srtt_ms"], a["rttvar_ms"], a["rto_ms"]


@pytest.mark.parametrize("knobs,idea", [
    ({"first_var": 1.0}, "R/2"),
    ({"var_first": False}, "old"),
    ({"alpha": 1 / 4, "beta": 1 / 8}, "swapped"),
    ({"k": 1}, "K = 4"),
])
def test_rto_typical_mistakes_get_their_hint(knobs, idea):
    for student in IDS:
        seed = ex.student_seed(student)
        want = loss.expected_rto(seed)
        if all(abs(a - b) <= loss.RTO_TOLERANCE_MS
               for a, b in zip(mistaken(seed, **knobs), want.values())):
            continue          # the mistake makes no difference for these samples
        feedback = ex.judge_rto(*mistaken(seed, **knobs), seed=seed)
        assert idea in feedback.message, feedback.message
        assert_no_solution(feedback, *rounded(want.values()))


def test_rto_floor_forgotten():
    """A student whose RTO is computed below 1 s and who forgets §2.4's floor."""
    floored = [s for s in (ex.student_seed(f"f{k}") for k in range(200))
               if loss.expected_rto(s)["rto_ms"] == 1000.0]
    assert floored
    seed = floored[0]
    feedback = ex.judge_rto(*mistaken(seed, floor_ms=0.0), seed=seed)
    assert "§2.4" in feedback.message
    assert_no_solution(feedback, "1000")


def test_rto_seconds_mean_and_bad_input():
    seed = ex.student_seed("student-3")
    want = loss.expected_rto(seed)
    seconds = ex.judge_rto(*(want[k] / 1000 for k in ("srtt_ms", "rttvar_ms", "rto_ms")),
                           seed=seed)
    assert "seconds" in seconds.message and not seconds.correct
    samples = loss.rto_samples_ms(seed)
    mean = ex.judge_rto(sum(samples) / 3, want["rttvar_ms"], want["rto_ms"], seed=seed)
    assert "mean" in mean.message or "1/8" in mean.message
    for bad, word in ((None, "no value"), (True, "number"), ("fast", "number"),
                      (float("nan"), "finite")):
        assert word in ex.judge_rto(bad, 1, 1, seed=seed).message
    assert "anonymous" in ex.judge_rto(1, 1, 1, seed=answers.DEFAULT_SEED).message
    assert "anonymous" in repr(ex.rto_question(answers.DEFAULT_SEED)._repr_html_())


# ---------------------------------------------- exercise 2 (retransmissions of a capture)
def facts(name):
    _, by_frame = loss._capture_facts(name)
    return sorted(by_frame), sorted(f for f, n in by_frame.items() if n)


def student_for(name):
    return next(s for s in (f"c{k}" for k in range(500))
                if ex.retransmissions_capture(ex.student_seed(s)) == name)


@pytest.mark.parametrize("name", loss.CAPTURE_POOL)
def test_capture_right_answer_and_solution(name):
    seed = ex.student_seed(student_for(name))
    sent, needed = facts(name)
    assert ex.judge_capture_retransmissions(sent, needed, seed=seed)
    assert ex.judge_capture_retransmissions([str(f) for f in sent][::-1], needed, seed=seed)
    # the notebook's solution, on the capture's own columns
    segments = course.capture(name).segments
    re_sent = segments[segments["retransmission"]]
    frames = [int(f) for f in re_sent["frame"]]
    solution_needed = []
    for _, row in re_sent.iterrows():
        earlier = segments[(segments["src"] == row["src"])
                           & (segments["rel_seq"] == row["rel_seq"])
                           & (segments["frame"] < row["frame"])]
        if earlier["dropped"].all():
            solution_needed.append(int(row["frame"]))
    assert (sorted(frames), sorted(solution_needed)) == (sent, needed)


def test_capture_typical_mistakes():
    name = "synack-loss"          # three retransmissions, one of them needed
    seed = ex.student_seed(student_for(name))
    sent, needed = facts(name)
    assert len(sent) == 3 and len(needed) == 1
    everything = list(range(1, len(course.capture(name).segments) + 1))
    fb = ex.judge_capture_retransmissions(everything, [], seed=seed)
    assert "first time" in fb.message or "ACK" in fb.message
    fb = ex.judge_capture_retransmissions(sent[:1], [], seed=seed)
    assert "missing" in fb.message
    assert_no_solution(fb, *sent[1:])
    fb = ex.judge_capture_retransmissions(sent, sent, seed=seed)          # all needed
    assert "not needed" in fb.message
    fb = ex.judge_capture_retransmissions(sent, [], seed=seed)            # none needed
    assert "left one out" in fb.message
    assert_no_solution(fb, *needed)
    assert "no frame" in ex.judge_capture_retransmissions([999], [], seed=seed).message
    assert "list" in ex.judge_capture_retransmissions("3, 4", [], seed=seed).message
    assert "twice" in ex.judge_capture_retransmissions([3, 3], [], seed=seed).message
    assert "no value" in ex.judge_capture_retransmissions(..., [], seed=seed).message


# ------------------------------------------------- exercise 3 (fast retransmit or timeout)
def recovery_ids():
    """One student id of each kind: fast retransmit; timeout (never the first segment lost:
    a write has at least four segments)."""
    kinds = {}
    for k in range(400):
        seed = ex.student_seed(f"r{k}")
        n = loss.recovery_numbers(seed)
        assert n["segments"] >= 4
        kinds.setdefault("fast" if n["segments"] - n["lost"] >= 3 else "timeout", seed)
    return kinds


RECOVERY = recovery_ids()


def test_recovery_kinds_exist():
    assert set(RECOVERY) == {"fast", "timeout"}


@pytest.mark.parametrize("kind", sorted(RECOVERY))
def test_recovery_right_and_wrong(kind):
    seed = RECOVERY[kind]
    n = loss.recovery_numbers(seed)
    want = loss.expected_recovery(seed)
    rtt = 2 * n["delay_ms"] / 1000
    assert ex.judge_recovery(want["recovery"], want["repair_s"], seed=seed)
    assert ex.judge_recovery(want["recovery"].upper(), str(want["repair_s"]), seed=seed)
    other = "timeout" if want["recovery"] == "fast retransmit" else "fast retransmit"
    fb = ex.judge_recovery(other, want["repair_s"], seed=seed)
    assert "duplicate ACK" in fb.message
    assert_no_solution(fb, want["recovery"])
    if kind == "timeout":
        fb = ex.judge_recovery("timeout", 1.0, seed=seed)
        assert "§5.3" in fb.message and "restarts" in fb.message
        fb = ex.judge_recovery("timeout", 0.3, seed=seed)
        assert "§2.4" in fb.message
    else:
        fb = ex.judge_recovery("fast retransmit", rtt / 2, seed=seed)
        assert "round trip" in fb.message
    assert "one of" in ex.judge_recovery("probe", 1, seed=seed).message


def test_recovery_reveal_only_after_a_prediction():
    seed = RECOVERY["fast"]
    assert loss.recovery_reveal(..., 1, seed).figures == []
    shown = loss.recovery_reveal("fast retransmit", 0.0, seed)
    assert len(shown.figures) == 1 and not shown.feedback.correct
    assert "anonymous" in ex.judge_recovery("timeout", 1, seed=answers.DEFAULT_SEED).message


# ------------------------------------------------- exercise 4 (Wireshark's label wrong)
def transfer(faults, delay=0.005):
    return {"name": "t", "profile": "linux", "link": {"mtu": 1500, "delay": delay},
            "hosts": {"client": {"port": 40061}, "server": {"port": 5061}},
            "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                        {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                        {"at": 0.3, "host": "client", "do": "send", "bytes": 10 * 1448}],
            "faults": faults}


HOLD = [{"delay": {"from": "client", "data_segment": 4, "extra": 0.03}}]


def test_wireshark_wrong_right_answers():
    assert ex.judge_wireshark_wrong(transfer(HOLD), "receiver")
    # the real loss-5pct scenario, at the sender's host (fast retransmissions out-of-order)
    assert ex.judge_wireshark_wrong(course.scenario("loss-5pct"), "receiver")


def test_wireshark_wrong_typical_mistakes():
    assert "Nothing was lost" in ex.judge_wireshark_wrong(transfer([]), "receiver").message
    assert "sender's host" in ex.judge_wireshark_wrong(transfer(HOLD), "sender").message
    # the 9th of 10 held 1 ms: one duplicate ACK, then it arrives within one handshake RTT:
    # Out-Of-Order, which is what it is
    short = [{"delay": {"from": "client", "data_segment": 9, "extra": 0.001}}]
    fb = ex.judge_wireshark_wrong(transfer(short), "receiver")
    assert not fb.correct and "out-of-order" in fb.message
    # held 4 ms, after two duplicate ACKs for it: Wireshark calls the original a fast
    # retransmission
    longer = [{"delay": {"from": "client", "data_segment": 4, "extra": 0.004}}]
    fb = ex.judge_wireshark_wrong(transfer(longer), "receiver")
    assert fb.correct and "fast retransmission" in fb.message
    drop = [{"drop": {"from": "client", "data_segment": 4}}]
    assert "drop alone" in ex.judge_wireshark_wrong(transfer(drop), "receiver").message
    assert "my_vantage" in ex.judge_wireshark_wrong(transfer(HOLD), "middle").message
    assert "dict" in ex.judge_wireshark_wrong(42, "sender").message
    assert "cannot run" in ex.judge_wireshark_wrong({"actions": 3}, "sender").message


# ---------------------------------------------------------------------- the grader
def test_notebook06_graded_exercises_in_the_grader():
    student = "student-2"
    seed = ex.student_seed(student)
    want = loss.expected_rto(seed)
    assert grade("06-ex1", dict(student_id=student, **want))[0] == RIGHT
    assert grade("06-ex1", dict(student_id=student, srtt_ms=1, rttvar_ms=1, rto_ms=1))[0] == WRONG
    name = ex.retransmissions_capture(seed)
    sent, needed = facts(name)
    assert grade("06-ex2", {"student_id": student, "retransmitted_frames": sent,
                            "needed_frames": needed})[0] == RIGHT
    assert grade("06-ex2", {"student_id": student, "retransmitted_frames": [],
                            "needed_frames": []})[0] == WRONG
    rec = loss.expected_recovery(seed)
    assert grade("06-ex3", dict(student_id=student, **rec))[0] == RIGHT
    assert grade("06-ex4", {"student_id": student, "my_scenario": transfer(HOLD),
                            "my_vantage": "receiver"})[0] == RIGHT
    assert grade("06-ex4", {"student_id": student, "my_scenario": transfer([]),
                            "my_vantage": "receiver"})[0] == WRONG
    assert grade("06-ex1", {"student_id": student})[0] == UNUSABLE
    assert grade("06-ex1", dict(student_id="anonymous", **want))[0] == WRONG


def test_notebook06_grader_runs_in_a_fresh_process():
    seed = ex.student_seed("alice")
    rec = loss.expected_recovery(seed)
    out = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "06-ex3"],
                         input=json.dumps(dict(student_id="alice", **rec)),
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "right\n")


def test_checks_show_and_return_nothing():
    seed = ex.student_seed("student-1")
    want = loss.expected_rto(seed)
    assert ex.check_rto(want["srtt_ms"], want["rttvar_ms"], want["rto_ms"], seed=seed) is None
    assert ex.check_wireshark_wrong(transfer(HOLD), "receiver") is None
    name = ex.retransmissions_capture(seed)
    sent, needed = facts(name)
    assert ex.check_capture_retransmissions(sent, needed, seed=seed) is None
    q = ex.recovery_question(seed)
    assert f"segment {q.lost} lost" in repr(q) and str(q.delay_ms) in q._repr_html_()
    want = loss.expected_recovery(seed)
    assert ex.reveal_recovery(want["recovery"], want["repair_s"], seed=seed) is None
    from tcpsim.exercises.feedback import last_feedback
    assert last_feedback("06-ex2").correct and last_feedback("06-ex4").correct
    assert last_feedback("06-ex3").correct


def test_reorder_quick_check():
    assert ex.check_reorder("b")
    assert all(not ex.check_reorder(k) for k in "acd")
    assert "one of" in ex.check_reorder("e").message
