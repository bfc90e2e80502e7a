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


# =====================================================================================
# Notebook 01, the segment and its flags (tcpsim/exercises/segments.py)
# =====================================================================================
from tcpsim import header as tcp_header  # noqa: E402
from tcpsim.exercises import grade as grader  # noqa: E402

NAMES_01 = ("test-student", "alice", "bob", "carol")
SEEDS_01 = [ex.student_seed(name) for name in NAMES_01]


def decoded_solution(seed):
    h = tcp_header.decode(ex.decode_question(seed).hex)
    return {"sport": h.sport, "dport": h.dport, "seq": h.seq, "ack": h.ack, "flags": h.flags,
            "window": h.window}


def rst_solution(seed, **change):
    q = ex.rst_question(seed)
    last = q.segments[-1]
    fields = dict(sport=q.client_port, dport=q.server_port, seq=(last[2] + last[4]) % SEQ_SPACE,
                  flags="R", window=0)
    fields.update(change)
    return tcp_header.build(**fields).raw.hex()


def fin_solution(seed):
    segs = course.capture(ex.fin_question(seed).capture).segments
    return [int(f) for f in segs[segs["flags"].str.contains("F")]["frame"]]


def space_solution(seed):
    return [n + ("S" in f) + ("F" in f) for f, n in ex.seq_space_question(seed).segments]


def graded_01(exercise, seed_name, **answers_):
    code, _ = grader.grade(exercise, {"student_id": seed_name, **answers_})
    return code


def test_01_the_default_id_gets_no_question_and_no_score():
    seed = answers.DEFAULT_SEED
    for question in (ex.decode_question, ex.rst_question, ex.fin_question, ex.seq_space_question):
        assert "STUDENT_ID" in repr(question(seed))
    for judge, value in ((ex.judge_decoded_header, {}), (ex.judge_rst, "00"),
                         (ex.judge_fin_frames, []), (ex.judge_seq_spaces, [])):
        fb = judge(value, seed=seed)
        assert not fb and "STUDENT_ID" in fb.message


def test_01_questions_follow_the_seed():
    assert len({ex.decode_question(s).hex for s in SEEDS_01}) > 1
    assert len({ex.rst_question(s) for s in SEEDS_01}) == len(SEEDS_01)
    assert len({ex.seq_space_question(s) for s in SEEDS_01}) == len(SEEDS_01)
    pool = ex.segments.decode_pool()
    assert len(pool) > 60 and len(set(pool)) == len(pool)


# ------------------------------------------------------------ exercise 1: decode from hex
@pytest.mark.parametrize("name", NAMES_01)
def test_01_decode_right_answer_and_its_other_spellings(name):
    seed = ex.student_seed(name)
    want = decoded_solution(seed)
    assert ex.judge_decoded_header(want, seed=seed)
    spelled = dict(want, flags=[tcp_header.FLAG_NAME[c] for c in want["flags"]],
                   seq=str(want["seq"]))
    assert ex.judge_decoded_header(spelled, seed=seed)
    assert ex.judge_decoded_header(dict(want, flags=want["flags"][::-1].lower()), seed=seed)
    assert graded_01("01-ex1", name, decoded=want) == grader.RIGHT


def test_01_decode_typical_wrong_answers():
    seed = next(s for s in SEEDS_01 if decoded_solution(s)["ack"] > 1)
    want = decoded_solution(seed)
    raw = bytes.fromhex(ex.decode_question(seed).hex)
    cases = {
        "byte order": dict(want, seq=int.from_bytes(raw[4:8], "little")),
        "other port": dict(want, sport=want["dport"]),
        "relative": dict(want, ack=1),
        "raw": dict(want, window=max(want["window"] * 1024, 70000)),   # scaled by wscale 10
        "missing": dict(want, flags=want["flags"][:-1] or "F"),
        "letters": dict(want, flags="0x12"),
    }
    expect = {"byte order": "network byte order", "other port": "other port",
              "relative": "relative", "raw": "raw", "missing": "flag",
              "letters": "give the letters"}
    for name, answer in cases.items():
        fb = ex.judge_decoded_header(answer, seed=seed)
        assert expect[name] in fb.message, (name, fb.message)
        assert_no_solution(fb, *(v for k, v in want.items() if k != "flags"))
    assert "no 'window'" in ex.judge_decoded_header({k: want[k] for k in want if k != "window"},
                                                    seed=seed).message
    assert "decoded['seq']" in ex.judge_decoded_header(dict(want, seq=...), seed=seed).message
    assert not ex.judge_decoded_header("not a dict", seed=seed)


# --------------------------------------------------------------- exercise 2: build a RST
@pytest.mark.parametrize("seed", SEEDS_01)
def test_01_rst_right_answers(seed):
    assert ex.judge_rst(rst_solution(seed), seed=seed)
    q = ex.rst_question(seed)
    assert ex.judge_rst(rst_solution(seed, flags="RA", ack=(q.segments[-2][2] + q.segments[-2][4])
                                     % SEQ_SPACE), seed=seed)   # as Linux aborts: RST+ACK


def test_01_rst_typical_wrong_answers():
    seed = SEEDS_01[0]
    q, want = ex.rst_question(seed), answers.expected_rst(seed)
    last = q.segments[-1]
    cases = {
        "first byte of the client's last segment": rst_solution(seed, seq=last[2]),
        "occupies no sequence number": rst_solution(seed, seq=(want["seq"] + 1) % SEQ_SPACE),
        "server's sequence space": rst_solution(seed, seq=q.segments[-1][3]),
        "seq 0 is for a reset": rst_solution(seed, seq=0),
        "challenge ACK": rst_solution(seed, seq=(want["seq"] + 7) % SEQ_SPACE),
        "from the server's port": rst_solution(seed, sport=q.server_port, dport=q.client_port),
        "no RST bit": rst_solution(seed, flags="A"),
        "has no place": rst_solution(seed, flags="RF"),
        "carries data": rst_solution(seed, payload=b"x"),
    }
    for idea, hex_ in cases.items():
        fb = ex.judge_rst(hex_, seed=seed)
        assert idea in fb.message, (idea, fb.message)
        assert_no_solution(fb, want["seq"])
    bad_sum = bytearray.fromhex(rst_solution(seed))
    bad_sum[16] ^= 0xFF
    assert "checksum: wrong" in ex.judge_rst(bad_sum.hex(), seed=seed).message
    assert "not a TCP segment" in ex.judge_rst("abcd", seed=seed).message
    assert "hex text" in ex.judge_rst(12, seed=seed).message


# --------------------------------------------------------- exercise 3: every FIN, pandas
@pytest.mark.parametrize("seed", SEEDS_01)
def test_01_fin_frames_right_answer(seed):
    want = fin_solution(seed)
    assert len(want) >= 2
    assert ex.judge_fin_frames(want, seed=seed)
    assert ex.judge_fin_frames([str(f) for f in reversed(want)], seed=seed)


def test_01_fin_frames_typical_wrong_answers():
    seed = next(s for s in SEEDS_01 if len(fin_solution(s)) >= 3)
    want = fin_solution(seed)
    assert "row positions" in ex.judge_fin_frames([f - 1 for f in want], seed=seed).message
    assert "travels alone" in ex.judge_fin_frames([], seed=seed).message
    assert "missing" in ex.judge_fin_frames(want[:1], seed=seed).message
    assert "twice" in ex.judge_fin_frames(want + want[:1], seed=seed).message
    segs = course.capture(ex.fin_question(seed).capture).segments
    no_fin = int(segs[~segs["flags"].str.contains("F")]["frame"].iloc[0])
    assert "no FIN" in ex.judge_fin_frames(want + [no_fin], seed=seed).message
    assert "not frame numbers" in ex.judge_fin_frames([10 ** 6], seed=seed).message
    assert "a list" in ex.judge_fin_frames("7, 8", seed=seed).message
    for answer in ([f - 1 for f in want], [], want[:1]):
        assert_no_solution(ex.judge_fin_frames(answer, seed=seed), *want)


def test_01_fin_equals_fa_is_wrong_where_a_fin_rides_on_data():
    """drop-mid-slow's FIN is on a data segment (FPA): `flags == "FA"` misses it."""
    name = "raw/drop-mid-slow-mtu1500"
    seed = next(s for s in range(10 ** 5) if ex.fin_question(s).capture == name)
    segs = course.capture(name).segments
    fa = [int(f) for f in segs[segs["flags"] == "FA"]["frame"]]
    assert "FPA" in set(segs["flags"]) and fa != fin_solution(seed)
    assert "ride on a data segment" in ex.judge_fin_frames(fa, seed=seed).message


# ------------------------------------------------------- exercise 4: sequence space
@pytest.mark.parametrize("seed", SEEDS_01)
def test_01_seq_spaces_right_answer(seed):
    assert ex.judge_seq_spaces(space_solution(seed), seed=seed)


@given(st.integers(0, 2 ** 32 - 1))
@settings(max_examples=100)
def test_01_every_student_gets_a_syn_a_pure_ack_a_fin_and_data(seed):
    segs = answers.seq_space_segments(seed)
    flags = [f for f, _ in segs]
    assert len(segs) == 5 and ("A", 0) in segs
    assert any("S" in f for f in flags) and any("F" in f for f in flags)
    assert any(n > 0 for _, n in segs)


def test_01_seq_spaces_typical_wrong_answers():
    seed = SEEDS_01[0]
    segs = ex.seq_space_question(seed).segments
    want = space_solution(seed)
    only_data = [n for _, n in segs]
    fb = ex.judge_seq_spaces(only_data, seed=seed)
    assert "takes one sequence number of its own" in fb.message
    plus_one = [w + 1 if not ("S" in f or "F" in f) else w for (f, _), w in zip(segs, want)]
    assert "ACK, PSH and RST take none" in ex.judge_seq_spaces(plus_one, seed=seed).message
    with_header = [w + 20 for w in want]
    assert "not header bytes" in ex.judge_seq_spaces(with_header, seed=seed).message
    assert "list of 5" in ex.judge_seq_spaces(want[:4], seed=seed).message
    assert "seq_spaces[0]" in ex.judge_seq_spaces([True] + want[1:], seed=seed).message


# -------------------------------------------------- the quick check, the hidden tests
def test_01_synack_quick_check():
    assert ex.check_synack_segments("a")
    for letter in "bc":
        fb = ex.check_synack_segments(letter)
        assert not fb and "same segment" in fb.message


def test_01_hidden_tests_grade_as_the_checks_judge():
    """The grader (what the hidden tests run) scores the solutions right, the default id
    and another student's answers wrong, and runs as a fresh process too."""
    import json
    import subprocess
    import sys
    me, other = "test-student", "alice"
    right = {"01-ex1": {"decoded": decoded_solution(ex.student_seed(me))},
             "01-ex2": {"rst_hex": rst_solution(ex.student_seed(me))},
             "01-ex3": {"fin_frames": fin_solution(ex.student_seed(me))},
             "01-ex4": {"seq_spaces": space_solution(ex.student_seed(me))}}
    for exercise, given_ in right.items():
        assert grader.grade(exercise, {"student_id": me, **given_}) == (grader.RIGHT, "right")
        assert grader.grade(exercise, {"student_id": "anonymous", **given_})[0] == grader.WRONG
        assert grader.grade(exercise, {"student_id": me})[0] == grader.UNUSABLE
    theirs = {"seq_spaces": space_solution(ex.student_seed(other))}
    if theirs["seq_spaces"] != right["01-ex4"]["seq_spaces"]:
        assert grader.grade("01-ex4", {"student_id": me, **theirs})[0] == grader.WRONG
    done = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "01-ex2"],
                          input=json.dumps({"student_id": me, **right["01-ex2"]}),
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "right\n")
