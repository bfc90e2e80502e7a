"""tcpsim/exercises/buffers.py (notebook 05): each check with the right answer and the typical
wrong ones; no hint gives the expected value; the hidden tests' grader agrees."""
import json
import subprocess
import sys

import pytest

import tcpsim
from tcpsim import course
from tcpsim.exercises import answers, buffers, grade
from tcpsim.exercises.answers import SEQ_SPACE

SEEDS = [answers.student_seed(f"student-{k}") for k in range(40)]
SEED = answers.student_seed("instructor")


# ------------------------------------------------------------------ exercise 1
@pytest.mark.parametrize("seed", SEEDS[:25])
def test_kth_segment_is_what_the_simulator_sends(seed):
    """The formula of expected_kth_segment is the simulator's segment, for every student."""
    n = buffers.write_numbers(seed)
    trace = tcpsim.run(buffers.write_scenario(seed))
    segments = trace.segments
    write = segments[(segments["src"] == "client") & (segments["len"] > 0) &
                     (segments["t"] >= 0.5) & ~segments["retransmission"]]
    assert int(write["len"].sum()) == n["write_bytes"]
    row = write.iloc[n["k"] - 1]
    want = buffers.expected_kth_segment(seed)
    assert (int(row["seq"]), int(row["ack"]), int(row["len"])) == \
        (want["kth_seq"], want["kth_ack"], want["kth_len"])


def test_some_students_writes_cross_the_wrap():
    crossing = [s for s in SEEDS if buffers.write_numbers(s)["client_isn"] > SEQ_SPACE - 50000]
    assert 5 <= len(crossing) <= 30
    wrapped = [s for s in SEEDS if buffers.expected_kth_segment(s)["kth_seq"] <
               buffers.write_numbers(s)["client_isn"]]
    assert wrapped, "no student's k-th segment is past 2^32"


def _wrong_seq_answers(seed):
    n, want = buffers.write_numbers(seed), buffers.expected_kth_segment(seed)
    seq = want["kth_seq"]
    out = {"relative": (seq - n["client_isn"]) % SEQ_SPACE,
           "no SYN": (seq - 1) % SEQ_SPACE,
           "k instead of k-1": (seq + buffers.FULL_SEGMENT) % SEQ_SPACE,
           "no request": (seq - n["request_bytes"]) % SEQ_SPACE,
           "server's space": (n["server_isn"] + 1 + n["reply_bytes"]) % SEQ_SPACE}
    if n["client_isn"] + 1 + n["request_bytes"] + (n["k"] - 1) * buffers.FULL_SEGMENT >= SEQ_SPACE:
        out["no mod"] = n["client_isn"] + 1 + n["request_bytes"] + \
            (n["k"] - 1) * buffers.FULL_SEGMENT
    return out


@pytest.mark.parametrize("seed", SEEDS[:12])
def test_kth_segment_right_and_typical_wrong_answers(seed):
    want = buffers.expected_kth_segment(seed)
    n = buffers.write_numbers(seed)
    assert buffers.judge_kth_segment(**want, seed=seed).correct
    assert buffers.judge_kth_segment(str(want["kth_seq"]), float(want["kth_ack"]),
                                     want["kth_len"], seed=seed).correct
    expected_texts = {str(v) for v in want.values()}
    for why, seq in _wrong_seq_answers(seed).items():
        feedback = buffers.judge_kth_segment(seq, want["kth_ack"], want["kth_len"], seed=seed)
        assert not feedback.correct, why
        assert not any(t in feedback.message for t in expected_texts), why
    hints = {
        "relative": "relative", "no SYN": "SYN", "k instead of k-1": "segments before",
        "no request": "request", "server's space": "own bytes", "no mod": "2^32"}
    for why, seq in _wrong_seq_answers(seed).items():
        message = buffers.judge_kth_segment(seq, want["kth_ack"], want["kth_len"],
                                            seed=seed).message
        assert hints[why] in message, (why, message)
    ack = want["kth_ack"]
    for why, value, hint in (
            ("relative", (ack - n["server_isn"]) % SEQ_SPACE, "relative"),
            ("no SYN", (ack - 1) % SEQ_SPACE, "SYN"),
            ("only the SYN", (n["server_isn"] + 1) % SEQ_SPACE, "next byte"),
            ("own space", (n["client_isn"] + 1 + n["request_bytes"]) % SEQ_SPACE, "server's")):
        feedback = buffers.judge_kth_segment(want["kth_seq"], value, want["kth_len"], seed=seed)
        assert not feedback.correct and hint in feedback.message, (why, feedback.message)
        assert not any(t in feedback.message for t in expected_texts)
    for value, hint in ((buffers.MSS, "12-byte"),
                        (want["kth_len"] - 1, "write")):
        feedback = buffers.judge_kth_segment(want["kth_seq"], want["kth_ack"], value, seed=seed)
        assert not feedback.correct and hint in feedback.message


def test_kth_len_hints_for_the_last_segment():
    last = next(s for s in SEEDS if buffers.expected_kth_segment(s)["kth_len"] <
                buffers.FULL_SEGMENT)
    want = buffers.expected_kth_segment(last)
    feedback = buffers.judge_kth_segment(want["kth_seq"], want["kth_ack"], buffers.FULL_SEGMENT,
                                         seed=last)
    assert not feedback.correct and "last" in feedback.message
    assert str(want["kth_len"]) not in feedback.message


def test_kth_segment_refuses_the_default_id_and_non_numbers():
    want = buffers.expected_kth_segment(SEED)
    assert "anonymous" in buffers.judge_kth_segment(1, 2, 3, seed=answers.DEFAULT_SEED).message
    for bad in (None, True, "12.0", "0x10"):
        feedback = buffers.judge_kth_segment(bad, want["kth_ack"], want["kth_len"], seed=SEED)
        assert not feedback.correct and "kth_seq" in feedback.message
    assert "anonymous" in repr(buffers.write_question(answers.DEFAULT_SEED))


# ------------------------------------------------------------------ exercise 2
def _count_from_capture():
    segments = course.capture("buffers-every-second").segments
    request_end = 1 + int(segments[(segments["src"] == "client") & (segments["len"] > 0)]
                          ["len"].iloc[0])
    data = segments[(segments["src"] == "client") & (segments["len"] == buffers.FULL_SEGMENT)]
    last_byte = int(data["rel_seq"].max()) + buffers.FULL_SEGMENT
    acks = segments[(segments["src"] == "server") & (segments["len"] == 0) &
                    ~segments["flags"].str.contains("F") &
                    (segments["rel_ack"] > request_end) & (segments["rel_ack"] <= last_byte)]
    times = segments.set_index("i")["t"]
    waited = []
    for _, ack in acks.iterrows():
        before = data[data["t"] < ack["t"]]
        waited.append(ack["t"] - times[before["i"].iloc[-1]])
    return len(data), len(acks), sum(1 for w in waited if w >= 0.035)


def test_ack_count_digests_are_the_capture():
    segments, count, timer = _count_from_capture()
    assert segments == buffers.SEGMENTS_IN_CAPTURE
    assert answers.digest("05-ex2", count) == buffers.ACK_COUNT_DIGEST
    assert answers.digest("05-ex2-timer", timer) == buffers.TIMER_ACK_COUNT_DIGEST
    assert buffers.judge_ack_count(count, timer).correct
    assert buffers.judge_ack_count(str(count), float(timer)).correct


def test_ack_count_typical_wrong_answers():
    _, count, timer = _count_from_capture()
    for value, hint in ((21, "quick-ACK"), (count + 1, "rel_ack"), (count - 1, "select"),
                        (40, "rel_ack")):
        feedback = buffers.judge_ack_count(value, timer)
        assert not feedback.correct and hint in feedback.message
        assert str(count) not in feedback.message.replace("21", "").replace("101", "")
    for value, hint in ((0, "much longer"), (timer + 1, "40 ms")):
        feedback = buffers.judge_ack_count(count, value)
        assert not feedback.correct and hint in feedback.message
    assert "ack_count" in buffers.judge_ack_count(None, timer).message


# ------------------------------------------------------------------ exercise 3
def test_unread_window_choice_is_what_the_capture_shows():
    table = buffers.unread_window_table()
    real = table["Linux (real capture)"]
    drop = real.iloc[0] - real.iloc[-1]
    unread = table["unread bytes"].iloc[-1]
    assert unread == buffers.UNREAD_SEGMENTS * buffers.FULL_SEGMENT
    assert 0 < drop < 0.8 * unread                  # "smaller, by clearly less"
    assert real.is_monotonic_decreasing
    textbook = table["tcpsim rfc9293"]
    assert textbook.iloc[0] - textbook.iloc[-1] == unread   # the textbook: every byte
    assert list(table["tcpsim linux"]) == list(real)
    choices = buffers.window_choices(SEED)
    right = next(letter for letter, text in choices.items() if text.startswith("Smaller, but"))
    assert buffers.judge_unread_window(right, seed=SEED).correct
    for letter in set(choices) - {right}:
        assert not buffers.judge_unread_window(letter, seed=SEED).correct
    assert buffers.unread_window_reveal(None, SEED).figures == []
    assert len(buffers.unread_window_reveal(right, SEED).figures) == 1


def test_window_choices_are_shuffled_per_student():
    orders = {tuple(buffers.window_choices(s).values()) for s in SEEDS[:20]}
    assert len(orders) > 3


# ------------------------------------------------------------------ exercise 4
def _pair():
    stall = course.scenario("buffers-nagle-stall")
    free = json.loads(json.dumps(stall))
    free["hosts"]["client"]["options"] = {"nodelay": True}
    return stall, free


def test_stall_scenarios_right():
    stall, free = _pair()
    assert buffers.judge_stall_scenarios(stall, free).correct


def test_stall_scenarios_typical_wrong():
    stall, free = _pair()
    assert "nodelay" in buffers.judge_stall_scenarios(free, free).message
    no_pingpong = json.loads(json.dumps(stall))
    no_pingpong["actions"] = [a for a in no_pingpong["actions"] if not (
        a.get("host") == "server" and a.get("do") == "send" and a.get("at") == 0.301)]
    feedback = buffers.judge_stall_scenarios(no_pingpong, free)
    assert not feedback.correct and "pingpong" in feedback.message
    big = json.loads(json.dumps(stall))
    for a in big["actions"]:
        if a.get("host") == "client" and a.get("do") == "send":
            a["bytes"] = 1448
    assert "full segments" in buffers.judge_stall_scenarios(big, free).message
    other = json.loads(json.dumps(free))
    other["actions"] = [a for a in other["actions"] if a.get("at") != 0.311] + \
        [{"at": 0.311, "host": "client", "do": "send", "bytes": 20}]
    assert "same writes" in buffers.judge_stall_scenarios(stall, other).message
    assert "still waits" in buffers.judge_stall_scenarios(stall, stall).message
    slow = json.loads(json.dumps(free))
    slow["hosts"]["client"]["options"] = {}
    slow["link"] = {"mtu": 1500, "delay": 0.05}
    slow["actions"] = [a for a in slow["actions"] if not (
        a.get("host") == "server" and a.get("do") == "send" and a.get("at") == 0.301)]
    assert "not for a delayed ACK" in buffers.judge_stall_scenarios(slow, free).message
    assert "cannot run" in buffers.judge_stall_scenarios({"tcpsim": 1, "hosts": 3},
                                                         free).message
    assert "dict" in buffers.judge_stall_scenarios("nope", free).message


# ------------------------------------------------------------------ the grader
def test_notebook05_graded_exercises_in_the_grader():
    want = buffers.expected_kth_segment(SEED)
    _, count, timer = _count_from_capture()
    stall, free = _pair()
    right = next(letter for letter, text in buffers.window_choices(SEED).items()
                 if text.startswith("Smaller, but"))
    cases = {"05-ex1": dict(want), "05-ex2": {"ack_count": count, "timer_ack_count": timer},
             "05-ex3": {"window_prediction": right},
             "05-ex4": {"stall_scenario": stall, "no_stall_scenario": free}}
    for exercise, submitted in cases.items():
        code, _ = grade.grade(exercise, {"student_id": "instructor", **submitted})
        assert code == grade.RIGHT, exercise
    wrong = dict(want, kth_len=want["kth_len"] - 1)
    assert grade.grade("05-ex1", {"student_id": "instructor", **wrong})[0] == grade.WRONG
    assert grade.grade("05-ex1", {"student_id": "someone-else", **want})[0] == grade.WRONG


def test_notebook05_grader_runs_in_a_fresh_process():
    want = buffers.expected_kth_segment(SEED)
    graded = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "05-ex1"],
                            input=json.dumps({"student_id": "instructor", **want}),
                            capture_output=True, text=True, timeout=120)
    assert graded.returncode == 0 and graded.stdout == "right\n", graded.stdout


def test_one_ack_quick_check():
    right = next(k for k, text in buffers.ONE_ACK_CHOICES.items() if text.startswith("It depends"))
    assert buffers.check_one_ack(right).correct
    for key in set(buffers.ONE_ACK_CHOICES) - {right}:
        assert not buffers.check_one_ack(key).correct
