"""The exercise checks of notebook 03 (tcpsim/exercises/isn.py): right answers pass, the
typical wrong ones get a hint about that answer, no message holds the expected value, and
the hidden tests' grader agrees with the checks."""
import copy
import json
import subprocess
import sys

import pytest

from tcpsim import isn_experiments as isnx
from tcpsim.exercises import answers, grade, isn as ex
from tcpsim.syncookies import MSSTAB, mss_index

SEQ = 2 ** 32
SEEDS = [answers.student_seed(s) for s in ("alice", "bob", "carol", "test-student")]
DEFAULT = answers.DEFAULT_SEED


def assert_hint(feedback, *hidden):
    assert not feedback.correct
    for value in hidden:
        assert str(value) not in feedback.message, feedback.message


def test_the_default_id_gets_no_numbers():
    for make in (ex.clock_question, ex.cookie_question, ex.stale_question):
        assert isinstance(make(DEFAULT), ex.NoQuestion)
    assert "anonymous" in ex.judge_next_clock_isn(1, DEFAULT).message
    assert "anonymous" in ex.judge_cookie_mss(536, DEFAULT).message
    assert "anonymous" in ex.judge_stale_segment("a", DEFAULT).message


# --------------------------------------------------------------------------- exercise 1
@pytest.mark.parametrize("seed", SEEDS)
def test_clock_isn_right_and_it_always_wraps(seed):
    n = ex.clock_numbers(seed)
    ticks = (n["next_at_us"] - n["seen_at_us"]) // 4
    assert n["seen_isn"] + ticks > SEQ and (n["next_at_us"] - n["seen_at_us"]) % 4 == 0
    want = (n["seen_isn"] + ticks) % SEQ
    assert ex.judge_next_clock_isn(want, seed)
    assert ex.judge_next_clock_isn(str(want), seed)
    q = ex.clock_question(seed)
    assert str(n["seen_isn"]) in q._repr_html_()


@pytest.mark.parametrize("seed", SEEDS)
def test_clock_isn_typical_wrong_answers(seed):
    n = ex.clock_numbers(seed)
    us = n["next_at_us"] - n["seen_at_us"]
    want = (n["seen_isn"] + us // 4) % SEQ
    cases = {n["seen_isn"] + us // 4: "32 bits", n["seen_isn"]: "kept ticking",
             (want + 1) % SEQ: "ISN + 1", (n["seen_isn"] + us * 1000 // 64) % SEQ: "64 ns",
             (n["seen_isn"] + us) % SEQ: "microsecond", (n["seen_isn"] - us // 4) % SEQ: "up",
             want - 1: "whole number of ticks", 12345: "ticks"}
    for value, words in cases.items():
        feedback = ex.judge_next_clock_isn(value, seed)
        assert_hint(feedback, want)
        assert words in feedback.message, (value, feedback.message)
    for bad in (True, "0x10", None, 1.5):
        assert not ex.judge_next_clock_isn(bad, seed)


# --------------------------------------------------------------------------- exercise 2
def solution_scenarios(seed=1985):
    attack = isnx.spoof_scenario("clock", seed=seed)
    probe = isnx.blind_spoof("clock", seed)
    attack["faults"].append({"inject": {"at": isnx.SPOOF_ACK_AT_S, "from": "trusted",
                                        "flags": "PA", "seq": isnx.SPOOFED_ISN + 1,
                                        "ack": (probe.predicted_isn + 1) % SEQ,
                                        "bytes": len(isnx.COMMAND)}})
    defence = copy.deepcopy(attack)
    defence["hosts"]["server"]["options"]["isn_strategy"] = "rfc6528"
    return attack, defence, probe


def test_spoof_scenarios_right():
    attack, defence, _ = solution_scenarios()
    assert ex.judge_spoof_scenarios(attack, defence)
    defence["hosts"]["server"]["options"]["isn_strategy"] = "random"
    assert ex.judge_spoof_scenarios(attack, defence)


def test_spoof_scenarios_typical_wrong_ones():
    attack, defence, probe = solution_scenarios()
    cases = []
    no_plus_one = copy.deepcopy(attack)
    no_plus_one["faults"][-1]["inject"]["ack"] = probe.predicted_isn
    cases.append((no_plus_one, defence, "plus one"))
    from_probe = copy.deepcopy(attack)
    from_probe["faults"][-1]["inject"]["ack"] = (probe.probe_isn + 1) % SEQ
    cases.append((from_probe, defence, "ran on"))
    no_ack = copy.deepcopy(attack)
    no_ack["faults"].pop()
    cases.append((no_ack, defence, "no blind ACK"))
    loud = copy.deepcopy(attack)
    loud["faults"] = [f for f in loud["faults"] if "drop" not in f]
    cases.append((loud, defence, "trusted host answered"))
    zero = copy.deepcopy(attack)
    zero["hosts"]["server"]["options"]["isn_strategy"] = "zero"
    cases.append((attack, zero, "ack = 1"))
    cases.append((attack, copy.deepcopy(attack), "same ISN strategy"))
    other = copy.deepcopy(defence)
    other["until"] = 4.0
    cases.append((attack, other, "one change"))
    cases.append((attack, "rfc6528", "scenario dict"))
    bad = copy.deepcopy(attack)
    bad["until"] = -1
    cases.append((bad, defence, "cannot run"))
    for mine, theirs, words in cases:
        feedback = ex.judge_spoof_scenarios(mine, theirs)
        assert_hint(feedback, probe.actual_isn, (probe.actual_isn + 1) % SEQ)
        assert words in feedback.message, (words, feedback.message)


# --------------------------------------------------------------------------- exercise 3
@pytest.mark.parametrize("seed", SEEDS + list(range(20)))
def test_cookie_mss_right_by_decoding_as_the_kernel(seed):
    q = ex.cookie_question(seed)
    rest = (q.cookie - q.h0 - q.client_isn) % SEQ
    assert rest >> 24 == q.count
    index = (rest - q.h1) % 2 ** 24
    assert index == mss_index(q.client_mss)
    assert ex.judge_cookie_mss(MSSTAB[index], seed)


def test_cookie_mss_typical_wrong_answers():
    for seed in range(40):
        n = ex.cookie_numbers(seed)
        index = MSSTAB.index(n["mss"])
        cases = {index: "index"}
        if n["client_mss"] != n["mss"]:
            cases[n["client_mss"]] = "asked for"
        if index < 3:
            cases[MSSTAB[index + 1]] = "never above"
        if index > 0:
            cases[MSSTAB[index - 1]] = "Not that entry"
        cases[1234] = "four msstab values"
        for value, words in cases.items():
            feedback = ex.judge_cookie_mss(value, seed)
            assert_hint(feedback, n["mss"])
            assert words in feedback.message, (seed, value, feedback.message)


# --------------------------------------------------------------------------- exercise 4
@pytest.mark.parametrize("seed", SEEDS + list(range(8)))
def test_stale_segment_right_choice_follows_the_rule(seed):
    """The right letter is whatever the simulator did, and that agrees with the numbers
    the question shows, put through RFC 9293's window test by hand."""
    q = ex.stale_question(seed)
    values = dict(q.rows)
    seq, length, ack = (int(v) for v in values["the stale segment (client → server): seq, "
                                                "len, ack"].split(", "))
    new_key = next(k for k in values if k.startswith("new incarnation"))
    c_new, s_new = (int(v) for v in values[new_key].split(", "))
    received = int(values["bytes the server has received on the new connection"])
    by_hand = bool(isnx.stale_rule(seq, length, ack, (c_new + 1 + received) % SEQ, 65535,
                                   (s_new + 1) % SEQ))
    assert ex.stale_accepted(seed) == by_hand
    choices = ex.stale_choices(seed)
    want = next(letter for letter, text in choices.items()
                if text.startswith("Accepted" if by_hand else "Not acceptable"))
    assert ex.judge_stale_segment(want, seed)
    for letter in choices:
        if letter != want:
            assert not ex.judge_stale_segment(letter, seed)
    assert not ex.judge_stale_segment("z", seed) and not ex.judge_stale_segment(None, seed)


def test_every_kind_of_stale_question_occurs():
    kinds = {(ex.stale_numbers(s)["strategy"], ex.stale_accepted(s)) for s in range(30)}
    assert {("zero", True), ("zero", False), ("clock", False)} <= kinds


def test_stale_reveal_draws_only_after_a_prediction():
    seed = SEEDS[0]
    assert ex.stale_reveal("z", seed).figures == []
    assert len(ex.stale_reveal("a", seed).figures) == 1


# ------------------------------------------------------------------------- the grader
def test_notebook03_exercises_are_graded_like_the_checks():
    seed_id = "alice"
    seed = answers.student_seed(seed_id)
    n = ex.clock_numbers(seed)
    want = (n["seen_isn"] + (n["next_at_us"] - n["seen_at_us"]) // 4) % SEQ
    attack, defence, _ = solution_scenarios()
    choices = ex.stale_choices(seed)
    right_letter = next(letter for letter, text in choices.items() if text.startswith(
        "Accepted" if ex.stale_accepted(seed) else "Not acceptable"))
    answers_by_exercise = {
        "03-ex1": {"predicted_isn": want},
        "03-ex2": {"my_attack": attack, "my_defence": defence},
        "03-ex3": {"cookie_mss": ex.cookie_numbers(seed)["mss"]},
        "03-ex4": {"stale_prediction": right_letter},
    }
    for exercise, given in answers_by_exercise.items():
        assert grade.grade(exercise, {"student_id": seed_id, **given}) == (0, "right")
        assert grade.grade(exercise, {"student_id": "bob", **given})[0] in (0, 1)
    wrong = {"student_id": seed_id, "predicted_isn": want + SEQ}
    assert grade.grade("03-ex1", wrong) == (1, "not right")
    run = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "03-ex3"],
                         input=json.dumps({"student_id": seed_id, **answers_by_exercise[
                             "03-ex3"]}), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "right\n"


def test_cookie_ack_loss_quick_check_is_what_the_kernel_does():
    """The predict widget's right choice (sealed) is what syncookies-ack-loss shows: no
    SYN-ACK again, the client's data makes the connection; every other choice is wrong."""
    from tcpsim import course
    from tcpsim.exercises import COOKIE_ACK_LOSS_CHOICES, check_cookie_ack_loss
    real = course.capture("syncookies-ack-loss").segments
    assert (real["flags"] == "SA").sum() == 1
    assert check_cookie_ack_loss("b")
    for letter in set(COOKIE_ACK_LOSS_CHOICES) - {"b"}:
        assert not check_cookie_ack_loss(letter)
    assert "one of" in check_cookie_ack_loss("z").message
