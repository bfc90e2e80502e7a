"""Notebook 10's self-test (tcpsim/exercises/interview.py): the ten items, as the checks and
the hidden tests judge them. Every item gets the right choice and each wrong one; a wrong
one's hint never contains the right choice's text; the order and, for items 2, 5 and 9, the
numbers follow the student's id; the default id gets no question; the grader agrees."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tcpsim import exercises as ex
from tcpsim.exercises import answers, interview
from tcpsim.exercises.feedback import last_feedback
from tcpsim.exercises.grade import GRADED, RIGHT, WRONG, grade

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("answer_keys", REPO / "instructors" / "answer_keys.py")
_keys = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_keys)
ANSWER_KEYS = _keys.QUESTIONS

IDS = [f"student{i}" for i in range(12)]


def letters(student_id, number):
    """{key: the letter this student sees it under}."""
    seed = ex.student_seed(student_id)
    return {key: letter for letter, key in
            answers.letters_for(f"10-q{number}", seed, interview.KEYS).items()}


def right_letter(student_id, number):
    return letters(student_id, number)[ANSWER_KEYS[f"10-q{number}"]["right"]]


@pytest.mark.parametrize("number", interview.ITEMS)
def test_each_item_right_and_every_wrong_choice(number):
    for student_id in IDS[:4]:
        seed = ex.student_seed(student_id)
        item = ex.self_test(seed, number)
        right = right_letter(student_id, number)
        assert ex.judge_self_test(number, right, seed=seed)
        right_text = item.choices[right]
        for letter in set(item.choices) - {right}:
            feedback = ex.judge_self_test(number, letter, seed=seed)
            assert not feedback
            assert right_text not in feedback.message and feedback.message
        assert ex.judge_self_test(number, right.upper(), seed=seed)      # "B" is "b"


@pytest.mark.parametrize("number", interview.ITEMS)
def test_every_item_has_four_different_choices_and_a_sealed_key(number):
    assert set(ANSWER_KEYS[f"10-q{number}"]["feedback"]) == set(interview.KEYS)
    for student_id in IDS:
        item = ex.self_test(ex.student_seed(student_id), number)
        assert len(set(item.choices.values())) == 4 and set(item.choices) == set("abcd")


@pytest.mark.parametrize("number", interview.ITEMS)
def test_the_order_is_shuffled_per_student(number):
    assert len({right_letter(s, number) for s in IDS}) >= 3


def test_randomized_items_take_their_numbers_from_the_seed():
    numbers = [answers.interview_numbers(ex.student_seed(s)) for s in IDS]
    assert len({n["syn_retries"] for n in numbers}) > 1
    assert len({n["fin_timeout_s"] for n in numbers}) > 1
    assert len({(n["keepalive_idle_s"], n["keepalive_intvl_s"], n["keepalive_cnt"])
                for n in numbers}) > 1
    for n in numbers:
        assert 3 <= n["syn_retries"] <= 7 and n["fin_timeout_s"] not in (30, 120)


@pytest.mark.parametrize("retries", range(3, 8))
def test_item2_choices_differ_for_every_syn_retries(retries):
    question, texts = interview.QUESTIONS[2]({"syn_retries": retries})
    assert str(retries) in question and len(set(texts.values())) == 4
    assert int(texts["a"]) > retries + 1    # Linux sends more SYNs than the textbook count


def test_item2_count_is_the_simulators_and_grows_with_syn_retries():
    counts = [interview.syn_count(n) for n in range(3, 8)]
    assert counts == sorted(counts) and len(set(counts)) == 5
    assert interview.syn_count(6) == 11     # SYNs at 0,1,2,3,4,5,7,11,19,35,67 s (linux profile)


def test_item9_right_choice_is_idle_plus_count_intervals():
    n = {"keepalive_idle_s": 60, "keepalive_intvl_s": 10, "keepalive_cnt": 3}
    _, texts = interview.QUESTIONS[9](n)
    assert texts["a"] == "90 s" and texts["b"] == "80 s" and texts["c"] == "30 s"


def test_the_default_id_gets_no_question_and_no_score():
    seed = answers.DEFAULT_SEED
    refusal = ex.self_test(seed, 3)
    assert "anonymous" in repr(refusal)
    with pytest.raises(ValueError, match="anonymous"):
        assert refusal.question
    for letter in "abcd":
        assert not ex.judge_self_test(3, letter, seed=seed)


def test_unusable_answers_get_a_clear_message():
    seed = ex.student_seed("alice")
    assert "no value yet" in ex.judge_self_test(1, ..., seed=seed).message
    assert "no value yet" in ex.judge_self_test(1, None, seed=seed).message
    message = ex.judge_self_test(1, "z", seed=seed).message
    assert "must be one of" in message and "'z'" in message
    assert "must be one of" in ex.judge_self_test(1, 2, seed=seed).message
    with pytest.raises(ValueError, match="questions 1 to 10"):
        ex.self_test(seed, 11)


def test_check_shows_the_feedback_and_returns_nothing():
    seed = ex.student_seed("alice")
    assert ex.check_self_test(4, right_letter("alice", 4), seed=seed) is None
    assert last_feedback("10-q4").correct
    ex.check_self_test(4, "z", seed=seed)
    assert not last_feedback("10-q4").correct


def test_the_items_are_graded_and_the_grader_agrees():
    assert {f"10-q{k}" for k in interview.ITEMS} <= set(GRADED)
    for number in interview.ITEMS:
        right = right_letter("bob", number)
        assert grade(f"10-q{number}", {"student_id": "bob", f"q{number}": right})[0] == RIGHT
        wrong = next(x for x in "abcd" if x != right)
        assert grade(f"10-q{number}", {"student_id": "bob", f"q{number}": wrong})[0] == WRONG
        # another student's right letter under one's own id is, mostly, not right
    others = [right_letter(s, 1) for s in IDS]
    scores = [grade("10-q1", {"student_id": "bob", "q1": letter})[0] for letter in others]
    assert WRONG in scores


def test_the_grader_runs_in_a_fresh_process():
    right = right_letter("alice", 7)
    out = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "10-q7"],
                         input=json.dumps({"student_id": "alice", "q7": right}),
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "right\n")
