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


def test_a_reveal_shows_the_feedback_then_each_picture_under_its_caption(monkeypatch):
    """``Reveal.show`` (what every ``reveal_…`` of the course calls): the feedback first,
    recorded as a try of the exercise, then caption and picture in turn, captions escaped."""
    import IPython.display
    shown_items = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda item, **kwargs: shown_items.append(item))
    feedback = ex.Feedback(False, "not yet")
    reveal = ex.Reveal(feedback, ["picture 1", "picture 2"], ["Linux <real>", "tcpsim"])
    before = wrong_tries("00-test-reveal")
    reveal.show("00-test-reveal", "c")
    assert shown_items[0].message == "not yet" and not shown_items[0].correct
    assert [item.data for item in shown_items[1::2]] == ["<b>Linux &lt;real&gt;</b>", "<b>tcpsim</b>"]
    assert shown_items[2::2] == ["picture 1", "picture 2"]
    assert wrong_tries("00-test-reveal") == before + 1
    assert last_feedback("00-test-reveal").message == "not yet"


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


# ===================================================================== notebook 07
# tcpsim/exercises/closing.py: the same rules as above, for the close's exercises.
from tcpsim.exercises import closing  # noqa: E402
from tcpsim.exercises.grade import RIGHT, WRONG, grade  # noqa: E402

# one student id for each (who closes first, how the other answers) of exercise 1
CLOSE_IDS = {("client", "later"): "student-0", ("server", "later"): "student-1",
             ("client", "at once"): "student-5", ("server", "at once"): "student-6",
             ("server", "half-close"): "student-9", ("client", "half-close"): "student-22"}


def states_by_the_rules(question):
    """RFC 9293 §3.6 applied by hand to the question's segments (the notebook's solution):
    independent of the simulator's state table."""
    state = {"client": "ESTABLISHED", "server": "ESTABLISHED"}
    fin_acked_by, out = {}, []
    for _, src, dst, flags, seq, ack, length in question.segments:
        if "F" in flags:
            state[src] = {"ESTABLISHED": "FIN-WAIT-1", "CLOSE-WAIT": "LAST-ACK"}[state[src]]
            fin_acked_by[src] = seq + length + 1
        if "A" in flags and fin_acked_by.get(dst) == ack:
            state[dst] = {"FIN-WAIT-1": "FIN-WAIT-2", "CLOSING": "TIME-WAIT",
                          "LAST-ACK": "CLOSED"}.get(state[dst], state[dst])
        if "F" in flags:
            state[dst] = {"ESTABLISHED": "CLOSE-WAIT", "FIN-WAIT-1": "CLOSING",
                          "FIN-WAIT-2": "TIME-WAIT"}[state[dst]]
        out.append((state["client"], state["server"]))
    return out


@pytest.mark.parametrize("kind", sorted(CLOSE_IDS))
def test_close_states_the_rules_agree_with_the_simulator_and_pass(kind):
    seed = ex.student_seed(CLOSE_IDS[kind])
    assert (answers.close_numbers(seed)["first"], answers.close_numbers(seed)["variant"]) == kind
    q = ex.close_question(seed)
    want = states_by_the_rules(q)
    assert want == closing.expected_close_states(seed)
    first = kind[0]
    assert want[-1][0 if first == "client" else 1] == "TIME-WAIT"       # the first closer waits
    # half-close: the data carries the ACK of the FIN if it is written within the 40 ms
    assert len(want) in {"at once": {3}, "later": {4}, "half-close": {5, 6}}[kind[1]]
    assert ex.judge_close_states(want, seed=seed)
    lower = [(c.lower().replace("-", "_"), s.lower()) for c, s in want]   # names as people type them
    assert ex.judge_close_states(lower, seed=seed)
    assert ex.judge_close_states([list(p) for p in want], seed=seed)


def test_close_states_typical_wrong_answers_get_the_idea():
    seed = ex.student_seed(CLOSE_IDS[("client", "later")])           # FIN, ACK, FIN, ACK
    want = closing.expected_close_states(seed)
    swapped = want[:-1] + [want[-1][::-1]]                              # the passive closer waits
    feedback = ex.judge_close_states(swapped, seed=seed)
    assert "only the side whose FIN went first" in feedback.message
    assert_no_solution(feedback, "LAST-ACK")
    gone = want[:-1] + [("CLOSED", "CLOSED")]                            # forgot TIME-WAIT
    feedback = ex.judge_close_states(gone, seed=seed)
    assert "does not forget the connection" in feedback.message
    assert_no_solution(feedback, "TIME-WAIT")
    early = [want[0], ("FIN-WAIT-1", "CLOSE-WAIT")] + want[2:]          # missed the ACK of the FIN
    feedback = ex.judge_close_states(early, seed=seed)
    assert "acknowledged" in feedback.message
    assert_no_solution(feedback, "FIN-WAIT-2")
    hasty = [("FIN-WAIT-1", "LAST-ACK")] + want[1:]                      # FIN answered by the TCP
    feedback = ex.judge_close_states(hasty, seed=seed)
    assert "application to call close()" in feedback.message
    assert_no_solution(feedback, "CLOSE-WAIT")
    three = ex.student_seed(CLOSE_IDS[("server", "at once")])         # FIN, FIN+ACK, ACK
    want3 = closing.expected_close_states(three)
    missed = [want3[0], ("LAST-ACK", "FIN-WAIT-2")] + want3[2:]
    feedback = ex.judge_close_states(missed, seed=three)
    assert "carry a FIN" in feedback.message
    assert_no_solution(feedback, "TIME-WAIT")


@pytest.mark.parametrize("bad,words", [
    (..., "no value yet"), ("FIN-WAIT-1", "list"), ([("FIN-WAIT-1", "CLOSE-WAIT")], "segments"),
    ([("FIN-WAIT-3", "x")] * 4, "not a state"), ([("FIN-WAIT-1",)] * 4, "pair")])
def test_close_states_unusable_answers(bad, words):
    seed = ex.student_seed(CLOSE_IDS[("client", "later")])
    feedback = ex.judge_close_states(bad, seed=seed)
    assert not feedback and words in feedback.message


def test_close_question_refuses_the_default_id():
    assert "STUDENT_ID" in repr(ex.close_question(answers.DEFAULT_SEED))
    assert not ex.judge_close_states([], seed=answers.DEFAULT_SEED)
    assert "STUDENT_ID" in repr(ex.leak_trace(answers.DEFAULT_SEED))


def leak_answers(seed):
    n = answers.leak_numbers(seed)
    return n["ports"][n["leaked"]], n["fin_timeout_s"]


def test_leak_the_pandas_solution_finds_it():
    table = ex.leak_trace(SEED)
    servers = table[table["host"] == "server"]
    last = servers.groupby("port")["to"].last()
    port = int(last[last == "CLOSE-WAIT"].index[0])
    client = table[(table["port"] == port) & (table["host"] == "client")]
    seconds = client[client["from"] == "FIN-WAIT-2"]["t"].iloc[0] - \
        client[client["to"] == "FIN-WAIT-2"]["t"].iloc[0]
    assert (port, round(seconds, 6)) == leak_answers(SEED)
    assert (last == "CLOSE-WAIT").sum() == 1 and table["port"].nunique() == 6
    n = answers.leak_numbers(SEED)
    assert (servers[servers["port"] == n["ports"][n["decoy"]]]["to"] == "CLOSE-WAIT").any()
    assert ex.judge_close_wait_leak(port, seconds, seed=SEED)
    assert ex.judge_close_wait_leak(str(port), str(seconds), seed=SEED)   # numpy, as sent


def test_leak_typical_wrong_answers():
    port, seconds = leak_answers(SEED)
    n = answers.leak_numbers(SEED)
    cases = [((n["ports"][n["decoy"]], seconds), "where it ended"),
             ((closing.SERVER_PORT, seconds), "the client's"),
             ((port, 60), "another tcp_fin_timeout"),
             ((port, seconds + 0.04), "enters"),
             ((port, -seconds), "later time minus"),
             ((12, seconds), "no connection")]
    for (p, s), words in cases:
        feedback = ex.judge_close_wait_leak(p, s, seed=SEED)
        assert words in feedback.message, (p, s, feedback.message)
        assert_no_solution(feedback, port, seconds)
    assert "no value yet" in ex.judge_close_wait_leak(port, ..., seed=SEED).message
    assert "seconds" in ex.judge_close_wait_leak(port, True, seed=SEED).message


def test_read_after_rst_prediction_and_reveal():
    choices = ex.read_after_rst_choices(SEED)
    right = next(k for k, t in choices.items() if t.startswith("An error: ECONNRESET"))
    assert ex.judge_read_after_rst(right, seed=SEED)
    for letter in set(choices) - {right}:
        feedback = ex.judge_read_after_rst(letter, seed=SEED)
        assert not feedback and "ECONNRESET" not in feedback.message
    assert not ex.read_after_rst_reveal("z", seed=SEED).figures          # predict first
    assert len(ex.read_after_rst_reveal(right, seed=SEED).figures) == 2


def test_read_after_rst_answer_is_what_the_kernel_and_simulator_do():
    for events in (course.events("close-unread"), course.simulate("close-unread").events):
        reads = events[(events["host"] == "client") & (events["call"] == "read")]
        assert list(reads["result"]) == ["ECONNRESET"]


def simultaneous(**changes):
    doc = {"hosts": {"client": {"port": 40100}, "server": {"port": 5100}}, "link": {"mtu": 1500},
           "actions": [{"at": 0.0, "host": "server", "do": "listen"},
                       {"at": 0.1, "host": "client", "do": "connect", "to": "server"},
                       {"at": 0.8, "host": "client", "do": "close"},
                       {"at": 0.85, "host": "server", "do": "close"}], "faults": []}
    doc.update(changes)
    return doc


def test_simultaneous_close_right_ways():
    assert ex.judge_simultaneous_close(simultaneous(link={"delay": 0.1}))
    assert ex.judge_simultaneous_close(simultaneous(faults=[{"delay": {"extra": 0.1}}]))
    assert ex.judge_simultaneous_close({**simultaneous(link={"delay": 0.1}), "profile": "rfc9293"})


def test_simultaneous_close_typical_wrong_ones():
    assert "CLOSE-WAIT" in ex.judge_simultaneous_close(simultaneous()).message
    fins_only = simultaneous(faults=[{"delay": {"flags": "FA", "extra": 0.1}}])
    assert "only one side" in ex.judge_simultaneous_close(fins_only).message
    rst = simultaneous(hosts={"client": {"port": 40100, "options": {"linger0": True}},
                              "server": {"port": 5100}})
    assert "RST" in ex.judge_simultaneous_close(rst).message
    one = simultaneous(actions=simultaneous()["actions"][:3])
    assert "Only one side" in ex.judge_simultaneous_close(one).message
    assert "cannot run" in ex.judge_simultaneous_close({"hosts": {}}).message
    assert "dict" in ex.judge_simultaneous_close(42).message


def test_four_or_three_quick_check():
    assert ex.check_four_or_three("b")
    assert all(not ex.check_four_or_three(k) for k in "acd")


def test_notebook07_graded_exercises_in_the_grader():
    seed_id = CLOSE_IDS[("server", "half-close")]
    seed = ex.student_seed(seed_id)
    want = closing.expected_close_states(seed)
    assert grade("07-ex1", {"student_id": seed_id, "close_states": want})[0] == RIGHT
    assert grade("07-ex1", {"student_id": seed_id, "close_states": want[::-1]})[0] == WRONG
    port, seconds = leak_answers(ex.student_seed(seed_id))
    assert grade("07-ex4", {"student_id": seed_id, "leaked_port": port,
                            "finwait2_s": seconds})[0] == RIGHT
    assert grade("07-ex2", {"student_id": seed_id,
                            "my_scenario": simultaneous(link={"delay": 0.1})})[0] == RIGHT
    assert grade("07-ex2", {"student_id": seed_id, "my_scenario": simultaneous()})[0] == WRONG


def test_notebook07_grader_runs_in_a_fresh_process():
    import json
    import subprocess
    import sys
    choices = ex.read_after_rst_choices(ex.student_seed("alice"))
    right = next(k for k, t in choices.items() if t.startswith("An error"))
    out = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "07-ex3"],
                         input=json.dumps({"student_id": "alice", "rst_prediction": right}),
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "right\n")
