"""The exercise checks of notebook 02: right answers pass, typical wrong answers get a hint
that names the idea missed, and no message ever contains the expected answer.

The ``judge_…`` functions return the Feedback (the hidden tests run them too,
tests/test_grading.py); the ``check_…`` functions display it and return nothing."""
import pytest
from hypothesis import given, settings, strategies as st

from tcpsim import course, exercises as ex
from tcpsim.exercises import answers
from tcpsim.exercises.feedback import last_feedback, wrong_tries
from tcpsim.exercises.handshake import SEQ_SPACE

SEED = ex.student_seed("test-student")


def solution_numbers(seed):
    q = ex.handshake_question(seed)
    return dict(synack_ack=(q.client_isn + 1) % SEQ_SPACE,
                third_seq=(q.client_isn + 1) % SEQ_SPACE,
                third_ack=(q.server_isn + 1) % SEQ_SPACE,
                data_seq=(q.client_isn + 1) % SEQ_SPACE,
                data_ack=(q.client_isn + 1 + q.data_bytes) % SEQ_SPACE)


def assert_no_solution(feedback, *values):
    assert not feedback.correct
    for value in values:
        assert str(value) not in feedback.message, feedback.message


# ------------------------------------------------------------------------ the seed
def test_student_seed_is_stable_and_differs_between_students():
    assert ex.student_seed("alice") == ex.student_seed(" Alice ")
    assert ex.student_seed("alice") != ex.student_seed("bob")
    assert 0 <= ex.student_seed("alice") < 2 ** 32


def test_empty_student_id_is_a_clear_error():
    with pytest.raises(ValueError, match="STUDENT_ID"):
        ex.student_seed("  ")


@given(st.integers(0, 2 ** 32 - 1))
@settings(max_examples=200)
def test_every_students_data_crosses_the_wrap(seed):
    q = ex.handshake_question(seed)
    assert q.client_isn + 1 <= SEQ_SPACE - 1          # the data starts below 2^32 ...
    assert q.client_isn + 1 + q.data_bytes > SEQ_SPACE  # ... and its ack has wrapped
    assert 100 <= q.data_bytes <= 1448


# ---------------------------------------------------------------- exercise 1 and 2
def test_handshake_numbers_right_answer():
    s = solution_numbers(SEED)
    assert ex.judge_handshake_numbers(s["synack_ack"], s["third_seq"], s["third_ack"], seed=SEED)


def test_the_check_follows_the_seed():
    other = ex.student_seed("somebody else")
    s = solution_numbers(other)
    assert ex.handshake_question(other) != ex.handshake_question(SEED)
    assert not ex.judge_handshake_numbers(s["synack_ack"], s["third_seq"], s["third_ack"],
                                          seed=SEED)


def test_handshake_numbers_isn_without_plus_one_gets_the_syn_hint():
    q, s = ex.handshake_question(SEED), solution_numbers(SEED)
    fb = ex.judge_handshake_numbers(q.client_isn, s["third_seq"], s["third_ack"], seed=SEED)
    assert "the SYN itself takes a sequence number" in fb.message
    assert_no_solution(fb, s["synack_ack"], s["third_ack"])


def test_handshake_numbers_relative_numbers_get_the_wireshark_hint():
    s = solution_numbers(SEED)
    fb = ex.judge_handshake_numbers(1, 1, 1, seed=SEED)
    assert fb.message.count("relative") == 3
    assert_no_solution(fb, s["synack_ack"], s["third_ack"])


def test_handshake_numbers_wrong_side_gets_the_sequence_space_hint():
    q, s = ex.handshake_question(SEED), solution_numbers(SEED)
    fb = ex.judge_handshake_numbers(q.server_isn + 1, s["third_seq"], s["third_ack"], seed=SEED)
    assert "wrong side" in fb.message
    assert_no_solution(fb, s["synack_ack"])


@pytest.mark.parametrize("bad", [None, ..., "twelve", 1.5, True])
def test_handshake_numbers_not_a_number(bad):
    s = solution_numbers(SEED)
    fb = ex.judge_handshake_numbers(bad, s["third_seq"], s["third_ack"], seed=SEED)
    assert "synack_ack" in fb.message
    assert_no_solution(fb, s["synack_ack"])


def test_first_data_right_and_typical_wrong_answers():
    q, s = ex.handshake_question(SEED), solution_numbers(SEED)
    assert ex.judge_first_data(s["data_seq"], s["data_ack"], seed=SEED)
    no_wrap = ex.judge_first_data(s["data_seq"], q.client_isn + 1 + q.data_bytes, seed=SEED)
    assert "2^32" in no_wrap.message
    last_byte = ex.judge_first_data(s["data_seq"], (s["data_ack"] - 1) % SEQ_SPACE, seed=SEED)
    assert "next" in last_byte.message
    ack_used_a_number = ex.judge_first_data((s["data_seq"] + 1) % SEQ_SPACE, s["data_ack"],
                                            seed=SEED)
    assert "takes no sequence number" in ack_used_a_number.message
    for fb in (no_wrap, last_byte, ack_used_a_number):
        assert_no_solution(fb, s["data_ack"], s["data_seq"])


# --------------------------------------------------------------------- exercise 3
def test_capture_syn_seq_reads_the_real_capture():
    segments = course.capture("handshake").segments
    real = int(segments[segments["flags"] == "S"].iloc[0]["seq"])
    assert ex.judge_capture_syn_seq(real)
    zero = ex.judge_capture_syn_seq(0)
    assert "relative" in zero.message
    assert_no_solution(zero, real)
    off_by_one = ex.judge_capture_syn_seq(real + 1)
    assert_no_solution(off_by_one, real)


# --------------------------------------------------------------------- exercise 4
def right_letter(choices, right_text):
    return next(letter for letter, text in choices.items() if text == right_text)


def test_synack_loss_prediction():
    choices = ex.synack_loss_choices(SEED)
    right = right_letter(choices, ex.SYNACK_LOSS_CHOICES["b"])
    assert ex.judge_synack_loss(right.upper(), seed=SEED)
    for letter in set(choices) - {right}:
        fb = ex.judge_synack_loss(letter, seed=SEED)
        assert not fb.correct and len(fb.message) > 40
        assert f"'{right}'" not in fb.message
        assert "one more" not in fb.message and "less" not in fb.message
    assert "one of" in ex.judge_synack_loss("e", seed=SEED).message
    three_s = right_letter(choices, ex.SYNACK_LOSS_CHOICES["c"])
    assert "RFC 6298" in ex.judge_synack_loss(three_s, seed=SEED).message


def test_synack_loss_answer_is_what_the_simulator_and_kernel_do():
    """The claimed answer (b: the same SYN-ACK about 1 s later) holds in both traces."""
    for trace in (course.capture("synack-loss"), course.simulate("synack-loss")):
        sa = trace.segments[trace.segments["flags"] == "SA"]
        first, second = sa.iloc[0], sa.iloc[1]
        assert second["seq"] == first["seq"]                 # same ISN: a retransmission
        assert 0.98 <= second["t"] - first["t"] <= 1.05      # TCP_TIMEOUT_INIT, jiffies


def test_reveal_shows_nothing_before_a_prediction():
    assert ex.synack_loss_reveal(..., seed=SEED).figures == []
    assert ex.synack_loss_reveal("z", seed=SEED).figures == []
    wrong = right_letter(ex.synack_loss_choices(SEED), ex.SYNACK_LOSS_CHOICES["a"])
    shown = ex.synack_loss_reveal(wrong, seed=SEED)
    assert not shown.feedback.correct and len(shown.figures) == 2


# --------------------------------------------------------------------- exercise 5
def connect_scenario(**client_options):
    return {"hosts": {"client": {"options": client_options}, "server": {}},
            "actions": [{"at": 0, "host": "server", "do": "listen"},
                        {"at": 0, "host": "client", "do": "connect", "to": "server"}]}


def test_etimedout_scenario_right():
    scenario = connect_scenario(syn_retries=2)
    scenario["faults"] = [{"drop": {"from": "client", "flags": "S"}}]
    fb = ex.judge_etimedout_scenario(scenario)
    assert fb.correct and "6 SYNs" in fb.message        # measured: TCP_SYNCNT=2 sends 6 SYNs


def test_etimedout_scenario_typical_wrong_ones():
    assert "succeeded" in ex.judge_etimedout_scenario(connect_scenario(syn_retries=2)).message
    no_listener = connect_scenario(syn_retries=2)
    no_listener["actions"].pop(0)
    assert "ECONNREFUSED" in ex.judge_etimedout_scenario(no_listener).message
    too_slow = connect_scenario()
    too_slow["faults"] = [{"drop": {"from": "server", "flags": "SA"}}]
    fb = ex.judge_etimedout_scenario(too_slow)
    assert not fb.correct and "131 s" in fb.message
    invalid = connect_scenario(syn_retries=0)
    assert "syn_retries" in ex.judge_etimedout_scenario(invalid).message
    nobody = {"hosts": {"client": {}, "server": {}}}
    assert "connect" in ex.judge_etimedout_scenario(nobody).message
    assert not ex.judge_etimedout_scenario(["not", "a", "dict"])


# --------------------------------------------------------------- exercise 6, quick
def test_third_segment_reason_and_refused():
    choices = ex.third_segment_choices(SEED)
    right = right_letter(choices, ex.THIRD_SEGMENT_CHOICES["b"])
    assert ex.judge_third_segment_reason(right, seed=SEED)
    cookies = right_letter(choices, ex.THIRD_SEGMENT_CHOICES["d"])
    assert "SYN cookies" in ex.judge_third_segment_reason(cookies, seed=SEED).message
    assert ex.check_refused("b")
    assert "firewall" in ex.check_refused("a").message


def test_feedback_is_falsy_when_wrong_and_renders_as_html():
    fb = ex.check_refused("c")
    assert not fb and "Not yet" in fb._repr_html_() and "Not yet" in str(fb)
    assert ex.check_refused("b")._repr_html_().count("Right") == 1


def test_start_here_question():
    assert ex.check_connect_returns("a")
    assert "pure ACK" in ex.check_connect_returns("b").message
    assert not ex.check_connect_returns("c")
    assert "one of" in ex.check_connect_returns("").message


# ------------------------------------------------------- the student's id, quiet checks
def test_the_default_id_gets_no_numbers_and_is_told_why():
    q = ex.handshake_question(answers.DEFAULT_SEED)
    assert "STUDENT_ID" in repr(q) and "first code cell" in q._repr_html_()
    with pytest.raises(ValueError, match="STUDENT_ID"):
        q.client_isn + 1
    fb = ex.judge_handshake_numbers(1, 2, 3, seed=ex.student_seed("anonymous"))
    assert not fb and "STUDENT_ID" in fb.message
    assert not ex.judge_first_data(1, 2, seed=ex.student_seed(" Anonymous "))


def test_student_id_from_the_hub_only_where_the_instructors_say(monkeypatch, tmp_path):
    monkeypatch.delenv("TCPSIM_STUDENT_ID_FROM", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "jdoe")
    assert ex.student_id("alice") == "alice"
    assert ex.student_id("anonymous") == "anonymous"      # Binder is a hub too: not by default
    monkeypatch.setenv("TCPSIM_STUDENT_ID_FROM", "JUPYTERHUB_USER")
    assert ex.student_id("anonymous") == "jdoe"
    assert ex.student_id(" alice ") == "alice"
    folder = tmp_path / "autograded" / "jdoe" / "02-three-way-handshake"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("JUPYTERHUB_USER", "the-instructor")    # nbgrader runs as the instructor
    assert ex.student_id("anonymous") == "jdoe"


def test_checks_display_and_return_nothing(capsys):
    s = solution_numbers(SEED)
    assert ex.check_handshake_numbers(s["synack_ack"], s["third_seq"], s["third_ack"],
                                      seed=SEED) is None
    assert last_feedback("02-ex1").correct
    assert "Right" in capsys.readouterr().out


def test_guessing_is_counted_and_said_after_three_wrong_tries(capsys):
    choices = ex.third_segment_choices(SEED)
    right = right_letter(choices, ex.THIRD_SEGMENT_CHOICES["b"])
    ex.feedback._wrong_answers.pop("02-ex4", None)    # a fresh kernel's count
    wrongs = [letter for letter in choices if letter != right]
    for letter in wrongs + wrongs:                # the same wrong answer twice counts once
        ex.check_third_segment_reason(letter, seed=SEED)
    assert wrong_tries("02-ex4") == 3
    ex.check_third_segment_reason(right, seed=SEED)
    assert last_feedback("02-ex4").correct
    assert "Guessing shows" in last_feedback("02-ex4").message
    assert "different wrong answers" in capsys.readouterr().out
