"""The exercise checks of notebook 09 (tcpsim/exercises/captures.py): right answers pass,
typical wrong answers get a hint about that answer, no message holds the expected value,
and the hidden tests' grader (a fresh process) decides as the checks do."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tcpsim import course, exercises as ex, read_pcap
from tcpsim.exercises import answers, captures
from tcpsim.exercises.feedback import last_feedback

STUDENTS = ("alice", "bob", "carol", "dave", "erin", "frank", "instructor")
SEEDS = [answers.student_seed(s) for s in STUDENTS]


def assert_no_solution(feedback, *values):
    assert not feedback.correct
    for value in values:
        assert str(value) not in feedback.message, feedback.message


def grade(exercise, student_id, **given):
    done = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", exercise],
                          input=json.dumps({"student_id": student_id, **given}, default=str),
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() in ("right", "not right"), done.stdout + done.stderr
    return done.returncode == 0


# ------------------------------------------------------------------ exercise 1
def findings(seed):
    """The answers, computed as a student would from the capture the question shows."""
    q = ex.capture_question(seed)
    seg, st = q.segments, q.states
    syn = list(seg[seg["flags"].str.contains("S")]["i"])
    rtx = list(seg[seg["retransmission"]]["i"])
    hosts = sorted(set(st[st["to"] == "TIME-WAIT"]["host"]))
    return syn, rtx, "both" if len(hosts) == 2 else hosts[0]


def test_each_student_gets_a_shipped_capture_and_it_varies():
    names = {captures.capture_name(s) for s in SEEDS}
    assert len(names) >= 4 and names <= set(captures.CAPTURE_POOL) <= set(course.names())
    q = ex.capture_question(SEEDS[0])
    assert q.name == captures.capture_name(SEEDS[0])
    assert q.trace.doc["segments"] == read_pcap(course.capture_path(q.name)).doc["segments"]


@pytest.mark.parametrize("name", captures.CAPTURE_POOL)
def test_every_pool_capture_has_what_the_exercise_asks(name):
    """Every capture of the pool has a SYN and a side in TIME-WAIT in its inferred states."""
    trace = read_pcap(course.capture_path(name))
    assert trace.segments["flags"].str.contains("S").any()
    assert (trace.states["to"] == "TIME-WAIT").any()


def test_capture_findings_right_answer_in_forms_a_student_writes():
    for seed in SEEDS:
        syn, rtx, tw = findings(seed)
        assert ex.judge_capture_findings(syn, rtx, tw, seed=seed), seed
        assert ex.judge_capture_findings(tuple(reversed(syn)), [str(k) for k in rtx],
                                         f" {tw.upper()} ", seed=seed)
        assert ex.judge_capture_findings(str(syn), str(rtx), tw, seed=seed)   # a numpy list's text


def seed_with(predicate):
    return next(s for s in (answers.student_seed(f"student-{k}") for k in range(400))
                if predicate(captures.capture_name(s)))


def test_capture_findings_typical_wrong_answers_get_their_hint():
    seed = seed_with(lambda n: n == "synack-loss")
    syn, rtx, tw = findings(seed)
    frames = [k + 1 for k in syn]
    f = ex.judge_capture_findings(frames, rtx, tw, seed=seed)
    assert_no_solution(f)
    assert "frame numbers" in f.message
    only_syn = [k for k in syn if ex.capture_question(seed).segments.loc[k, "flags"] == "S"]
    f = ex.judge_capture_findings(only_syn, rtx, tw, seed=seed)
    assert_no_solution(f) and "SYN-ACK carries the SYN flag" in f.message
    f = ex.judge_capture_findings(syn, [], tw, seed=seed)
    assert_no_solution(f, rtx)
    assert "the capture has some" in f.message
    f = ex.judge_capture_findings(syn, rtx, "server", seed=seed)
    assert_no_solution(f) and "FIN went first" in f.message
    # the first copies instead of the retransmissions (data-rto: the same segment three times)
    seed = seed_with(lambda n: n == "data-rto")
    syn, rtx, tw = findings(seed)
    seg = ex.capture_question(seed).segments
    originals = [int(seg[(seg["rel_seq"] == seg.loc[rtx[0], "rel_seq"]) & (seg["len"] > 0)]["i"].iloc[0])]
    originals.append(int(seg[seg["i"] < rtx[0]]["i"].iloc[-1]))
    f = ex.judge_capture_findings(syn, originals, tw, seed=seed)
    assert_no_solution(f, rtx)
    assert "retransmission" in f.message
    # a simultaneous close: both
    seed = seed_with(lambda n: n == "simultaneous-close")
    syn, rtx, tw = findings(seed)
    assert tw == "both"
    f = ex.judge_capture_findings(syn, rtx, "client", seed=seed)
    assert_no_solution(f) and "simultaneous close" in f.message


def test_capture_findings_refuses_unusable_answers_clearly():
    seed = SEEDS[0]
    syn, rtx, tw = findings(seed)
    for bad, word in ((..., "no value yet"), (3, "must be a list"), ([1, 1], "twice"),
                      ([True], "whole number")):
        f = ex.judge_capture_findings(bad, rtx, tw, seed=seed)
        assert not f.correct and word in f.message, (bad, f.message)
    f = ex.judge_capture_findings(syn, rtx, "the client", seed=seed)
    assert not f.correct and "must be one of" in f.message
    f = ex.judge_capture_findings(syn, rtx, tw, seed=answers.DEFAULT_SEED)
    assert not f.correct and "anonymous" in f.message
    assert "anonymous" in repr(ex.capture_question(answers.DEFAULT_SEED))


# ------------------------------------------------------------------ exercise 2
def test_rtt_is_twice_the_students_delay_and_seen_at_the_client():
    for seed in SEEDS:
        n = captures.rtt_numbers(seed)
        trace = ex.rtt_question(seed).trace
        seg = trace.segments
        syn = seg[seg["flags"] == "S"].iloc[0]
        synack = seg[seg["flags"] == "SA"].iloc[0]
        ack = seg[(seg["flags"] == "A") & (seg["src"] == "client")].iloc[0]
        assert (synack["t"] - syn["t"]) * 1000 == pytest.approx(2 * n["delay_ms"], abs=0.002)
        assert ack["t"] - synack["t"] < 0.0001         # the client answers at once
        assert trace.hosts["client"]["port"] == n["client_port"]
    assert len({captures.rtt_numbers(s)["delay_ms"] for s in SEEDS}) == len(SEEDS)


def test_rtt_right_and_typical_wrong_answers():
    for seed in SEEDS:
        want = captures.expected_rtt_ms(seed)
        assert ex.judge_handshake_rtt(want, seed=seed)
        assert ex.judge_handshake_rtt(str(round(want, 3)), seed=seed)
        f = ex.judge_handshake_rtt(want / 2, seed=seed)
        assert_no_solution(f, round(want, 1), round(want, 3)) and "one way" in f.message
        f = ex.judge_handshake_rtt(want / 1000, seed=seed)
        assert_no_solution(f, round(want, 1)) and "milliseconds" in f.message
        f = ex.judge_handshake_rtt(0.0, seed=seed)
        assert_no_solution(f, round(want, 1)) and "SYN to the SYN-ACK" in f.message
        f = ex.judge_handshake_rtt(want + 7, seed=seed)
        assert_no_solution(f, round(want, 1))
    for bad in (..., True, "fast", float("nan")):
        f = ex.judge_handshake_rtt(bad, seed=SEEDS[0])
        assert not f.correct and "rtt_ms" in f.message


# ------------------------------------------------------------------ exercise 3
def right_letter(seed):
    return next(letter for letter, text in ex.closed_first_choices(seed).items()
                if text.startswith("The server"))


def test_closed_first_choices_are_shuffled_and_judged():
    orders = {tuple(ex.closed_first_choices(s).values()) for s in SEEDS}
    assert len(orders) > 1
    for seed in SEEDS:
        assert ex.judge_closed_first(right_letter(seed), seed=seed)
        for letter in "abcd":
            if letter != right_letter(seed):
                f = ex.judge_closed_first(letter, seed=seed)
                assert_no_solution(f, f"({right_letter(seed)})")
    assert not ex.judge_closed_first("e", seed=SEEDS[0]).correct


def test_reveal_shows_the_capture_only_after_a_prediction():
    seed = SEEDS[0]
    assert captures.closed_first_reveal(None, seed).figures == []
    shown = captures.closed_first_reveal(right_letter(seed), seed)
    assert len(shown.figures) == 2 and shown.feedback.correct
    states = shown.figures[1]
    assert list(states[states["to"] == "TIME-WAIT"]["host"]) == ["server"]
    ex.reveal_closed_first(right_letter(seed), seed)
    assert last_feedback("09-ex3").correct


# ------------------------------------------------------------------ checks and the grader
def test_checks_show_feedback_and_return_nothing():
    seed = SEEDS[1]
    assert ex.check_capture_findings(*findings(seed), seed=seed) is None
    assert last_feedback("09-ex1").correct
    assert ex.check_handshake_rtt(captures.expected_rtt_ms(seed), seed=seed) is None
    assert last_feedback("09-ex2").correct


def test_the_grader_in_a_fresh_process_agrees_with_the_checks():
    student = "alice"
    seed = answers.student_seed(student)
    syn, rtx, tw = findings(seed)
    assert grade("09-ex1", student, syn_rows=syn, retransmitted_rows=rtx, time_wait=tw)
    assert not grade("09-ex1", student, syn_rows=[k + 1 for k in syn], retransmitted_rows=rtx,
                     time_wait=tw)
    want = captures.expected_rtt_ms(seed)
    assert grade("09-ex2", student, rtt_ms=want)
    assert not grade("09-ex2", student, rtt_ms=want / 2)
    assert grade("09-ex3", student, closed_first=right_letter(seed))
    wrong_letter = next(x for x in "abcd" if x != right_letter(seed))
    assert not grade("09-ex3", student, closed_first=wrong_letter)


def test_the_questions_show_their_tables_and_refuse_the_default_id():
    seed = SEEDS[0]
    assert "<table" in ex.capture_question(seed)._repr_html_()
    assert "<table" in ex.rtt_question(seed)._repr_html_()
    for question in (ex.capture_question, ex.rtt_question):
        refusal = question(answers.DEFAULT_SEED)
        assert "anonymous" in refusal._repr_html_()
        with pytest.raises(ValueError, match="anonymous"):
            _ = refusal.segments


def test_vantage_quick_check():
    assert ex.check_vantage("b").correct
    for letter in "acd":
        f = ex.check_vantage(letter)
        assert not f.correct and "there and back" not in f.message
    assert not ex.check_vantage("e").correct
    assert ex.vantage_reveal() is not None
