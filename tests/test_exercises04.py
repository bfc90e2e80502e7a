"""Notebook 04's checks (tcpsim/exercises/why_three_way.py): the right answers, computed here
the way the notebook's solutions do (pandas on the student's trace; RFC 9293 §3.10.7.3 by
hand), the typical wrong ones with the idea each hint names, and the hidden tests' grader.
No message may contain the expected value."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import pytest

import tcpsim
from tcpsim import ghosts as g
from tcpsim.exercises import answers
from tcpsim.exercises import why_three_way as w
from tcpsim.exercises.grade import RIGHT, WRONG, grade
from tcpsim.exercises.handshake import NoQuestion

IDS = ["alice", "bob", "carol", "dave", "erin", "frank", "instructor", "student-7"]
SEQ_SPACE = 2 ** 32


def seed_of(sid):
    return answers.student_seed(sid)


# ------------------------------------------------------------------ exercise 2
def pandas_ghost_count(trace):
    """The notebook's solution: server accepts whose SYN-ACK acknowledges no client SYN."""
    seg = trace.segments
    own = seg[(seg["src"] == "client") & (seg["flags"] == "S") & seg["conn"].notna()]
    client_isns = set(own["seq"])
    events = trace.events
    accepted = events[(events["host"] == "server") & (events["call"] == "accept")]["conn"]
    synacks = seg[(seg["src"] == "server") & (seg["flags"] == "SA")].drop_duplicates("conn")
    synacks = synacks[synacks["conn"].isin(accepted)]
    return int((~((synacks["ack"] - 1) % SEQ_SPACE).isin(client_isns)).sum())


def counts(trace):
    ev = trace.events
    return (int(((ev["host"] == "server") & (ev["call"] == "accept")).sum()),
            int(((ev["host"] == "client") & (ev["call"] == "connect")
                 & (ev["result"] == "ok")).sum()))


@pytest.mark.parametrize("sid", IDS)
def test_ghost_count_right_answer_two_ways(sid):
    seed = seed_of(sid)
    trace = w.ghost_trace(seed)
    by_pandas = pandas_ghost_count(trace)
    accepts, connects = counts(trace)
    assert by_pandas == g.count_ghosts(trace) == accepts - connects >= 1
    assert w.judge_ghost_count(by_pandas, seed)
    assert w.judge_ghost_count(str(by_pandas), seed)


@pytest.mark.parametrize("sid", IDS)
def test_ghost_count_typical_wrong_answers(sid):
    seed = seed_of(sid)
    trace = w.ghost_trace(seed)
    want = g.count_ghosts(trace)
    accepts, connects = counts(trace)
    old = int(trace.segments["injected"].fillna(False).astype(bool).sum())
    assert old > want                       # some old SYNs hit a live connection: decoys
    # in the judge's order: a value that two mistakes give gets the first one's hint
    cases = {}
    for value, words in ((accepts, "every connection the server accepted"),
                         (old, "not every old SYN"), (connects, "connections the client opened"),
                         (-1, "never negative"), (want + 7, "compare")):
        if value != want:
            cases.setdefault(value, words)
    cases = list(cases.items())
    for value, words in cases:
        fb = w.judge_ghost_count(value, seed)
        assert not fb and words in fb.message, (value, fb.message)
        assert not re.search(rf"(?<![\d.]){want}(?![\d.])", fb.message), fb.message
    assert "no value yet" in w.judge_ghost_count(None, seed).message
    assert "whole number" in w.judge_ghost_count(True, seed).message


def test_ghost_trace_and_checks_refuse_the_default_id():
    assert isinstance(w.ghost_trace(answers.DEFAULT_SEED), NoQuestion)
    assert isinstance(w.rst_seq_question(answers.DEFAULT_SEED), NoQuestion)
    assert "anonymous" in w.judge_ghost_count(1, answers.DEFAULT_SEED).message
    assert "anonymous" in w.judge_rst_seq(1, answers.DEFAULT_SEED).message


# ------------------------------------------------------------------ exercise 1
@pytest.mark.parametrize("sid", IDS)
def test_rst_seq_is_what_the_simulator_sends(sid):
    """The rule the judge applies (SEG.ACK of the SYN-ACK = old SYN + 1, mod 2^32) is the
    RST the linux profile sends in the reveal's run."""
    seed = seed_of(sid)
    n = w.rst_numbers(seed)
    trace = tcpsim.run(w.rst_scenario(seed))
    seg = trace.segments
    synack = seg[(seg["src"] == "server") & (seg["flags"] == "SA")].iloc[0]
    assert synack["ack"] == (n["old_syn_seq"] + 1) % SEQ_SPACE
    rst = seg[(seg["src"] == "client") & (seg["flags"] == "R")].iloc[0]
    assert rst["seq"] == w.expected_rst_seq(seed) == synack["ack"]
    assert w.judge_rst_seq(int(rst["seq"]), seed)


def test_a_third_of_the_students_wrap():
    wraps = [w.rst_numbers(seed_of(f"student-{i}"))["old_syn_seq"] == SEQ_SPACE - 1
             for i in range(300)]
    assert 60 < sum(wraps) < 140


def wrapping_and_plain_ids():
    ids = [f"student-{i}" for i in range(40)]
    wrap = next(i for i in ids if w.rst_numbers(seed_of(i))["old_syn_seq"] == SEQ_SPACE - 1)
    plain = next(i for i in ids if w.rst_numbers(seed_of(i))["old_syn_seq"] != SEQ_SPACE - 1)
    return wrap, plain


def test_rst_seq_typical_wrong_answers():
    wrap, plain = wrapping_and_plain_ids()
    for sid in (wrap, plain):
        seed = seed_of(sid)
        n = w.rst_numbers(seed)
        want = w.expected_rst_seq(seed)
        cases = [(n["old_syn_seq"], "occupies one sequence number"),
                 (n["client_isn"], "client's own numbers"),
                 ((n["client_isn"] + 1) % SEQ_SPACE, "client's own numbers"),
                 (n["server_isn"], "server's sequence space"),
                 ((n["server_isn"] + 1) % SEQ_SPACE, "server's sequence space"),
                 (12345, "first work out")]
        if sid == wrap:
            cases.append((n["old_syn_seq"] + 1, "modulo 2^32"))
        else:
            cases.append((0, "without* ACK"))
        for value, words in cases:
            fb = w.judge_rst_seq(value, seed)
            assert not fb and words in fb.message, (sid, value, fb.message)
            assert not re.search(rf"(?<![\d.]){want}(?![\d.])", fb.message), fb.message
    assert "whole number" in w.judge_rst_seq("0x10", seed_of(plain)).message


def test_rst_reveal_draws_only_after_a_prediction():
    seed = seed_of("alice")
    assert w.rst_reveal(None, seed).figures == []
    assert w.rst_reveal("soon", seed).figures == []
    shown = w.rst_reveal(w.expected_rst_seq(seed), seed)
    assert shown.feedback and len(shown.figures) == 1
    wrong_but_drawn = w.rst_reveal(7, seed)
    assert not wrong_but_drawn.feedback and len(wrong_but_drawn.figures) == 1


def test_rst_question_shows_the_numbers_not_the_answer():
    seed = seed_of("carol")
    q = w.rst_seq_question(seed)
    text = repr(q) + q._repr_html_()
    n = w.rst_numbers(seed)
    assert str(n["old_syn_seq"]) in text and str(n["client_isn"]) in text
    assert str(w.expected_rst_seq(seed)) not in text


# ------------------------------------------------------------------ exercise 3
def ghost_solution(**changes):
    """The notebook's solution: Figure 8 with the two-way teaching handshake."""
    doc = g.old_duplicate_scenario("two-way")
    doc.update(changes)
    return doc


def test_ghost_scenario_right_ways():
    assert w.judge_ghost_scenario(ghost_solution())
    # no connect() at all: an old SYN to an idle server is a ghost too
    idle = ghost_solution()
    idle["actions"] = [a for a in idle["actions"] if a["host"] == "server"]
    assert w.judge_ghost_scenario(idle)
    assert w.judge_ghost_scenario(json.dumps(ghost_solution()))
    assert w.judge_ghost_scenario(ghost_solution(profile="rfc9293"))


def test_ghost_scenario_typical_wrong_ones():
    three = g.old_duplicate_scenario("three-way")
    assert "three-way" in w.judge_ghost_scenario(three).message
    none = ghost_solution(faults=[])
    assert "inject" in w.judge_ghost_scenario(none).message
    early = ghost_solution()
    early["actions"][0]["at"] = 0.5
    early["actions"][1]["at"] = 0.6
    assert "before the server listened" in w.judge_ghost_scenario(early).message
    during = g.old_duplicate_scenario("two-way", old_syn_arrival_s=0.5)
    assert "challenge ACK" in w.judge_ghost_scenario(during).message
    lost = ghost_solution()
    # the old SYN leaves with the connect(), after the client's SYN: the second SYN
    lost["faults"] = lost["faults"] + [{"drop": {"from": "client", "flags": "S", "nth": [2]}}]
    assert "lost" in w.judge_ghost_scenario(lost).message
    no_listen = copy.deepcopy(ghost_solution())
    no_listen["actions"] = [a for a in no_listen["actions"] if a["do"] != "listen"]
    assert "Nobody listens" in w.judge_ghost_scenario(no_listen).message
    assert "cannot run" in w.judge_ghost_scenario({"hosts": {}}).message
    assert "dict" in w.judge_ghost_scenario(42).message


# ------------------------------------------------------------------ the grader
def test_notebook04_graded_exercises_in_the_grader():
    sid = "bob"
    seed = seed_of(sid)
    trace = w.ghost_trace(seed)
    assert grade("04-ex2", {"student_id": sid, "ghost_count": g.count_ghosts(trace)})[0] == RIGHT
    assert grade("04-ex2", {"student_id": sid, "ghost_count": counts(trace)[0]})[0] == WRONG
    assert grade("04-ex1", {"student_id": sid, "rst_seq": w.expected_rst_seq(seed)})[0] == RIGHT
    other = w.expected_rst_seq(seed_of("alice"))
    if other != w.expected_rst_seq(seed):
        assert grade("04-ex1", {"student_id": sid, "rst_seq": other})[0] == WRONG
    assert grade("04-ex3", {"student_id": sid, "my_scenario": ghost_solution()})[0] == RIGHT
    assert grade("04-ex3", {"student_id": sid,
                            "my_scenario": g.old_duplicate_scenario("three-way")})[0] == WRONG


def test_notebook04_grader_runs_in_a_fresh_process():
    seed = seed_of("alice")
    out = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "04-ex1"],
                         input=json.dumps({"student_id": "alice",
                                           "rst_seq": w.expected_rst_seq(seed)}),
                         capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout) == (0, "right\n")


def test_half_open_quick_check_is_what_the_kernel_and_simulator_do():
    """The right choice (b: an ACK with the old numbers, then the client's reset) is the
    real capture's and the crash run's first two segments after the restart."""
    from tcpsim import course
    assert w.check_half_open("b")
    assert all(not w.check_half_open(k) for k in "acd")
    assert "no value yet" in w.check_half_open(None).message
    real = course.capture("interview-syn-established", stream=1).segments
    assert list(real["flags"].head(3)) == ["S", "A", "R"]
    assert real["ack"].iloc[1] != (real["seq"].iloc[0] + 1) % SEQ_SPACE   # the old numbers
    assert w.HALF_OPEN_CHOICES["b"].startswith("An ACK with the old connection's numbers")
