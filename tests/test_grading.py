"""Grading that cannot be fooled in one line, and never scores a right answer zero.

Submissions are made from the students' release as students make them (an honest one,
answers typed as strings or read with pandas, the typical wrong answers, two kinds of
monkeypatching, another student's numbers under one's own id, a friend's id, a forgotten
id, guessing in a loop, a graded cell replaced) and run through the real ``nbgrader autograde``, configured as
``instructors/nbgrader_config.py`` says. The scores must be what the issue demands
(issue 11), the autograder must say nothing about an honest submission, the feedback of a
wrong one must show neither the hidden tests nor a traceback, and
``instructors/tamper_report.py`` must flag what it promises. The first tests need no
nbgrader: the check and the hidden test agree on every input, and the package holds no
answer in clear.

Like tests/test_release.py these need ``.venv-instructors`` (``make test`` makes it) and
skip without it, except in CI.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings, strategies as st
from nbclient import NotebookClient

from tcpsim import course as tcpsim_course, exercises
from tcpsim.exercises import answers, grade, handshake, sealed

REPO = Path(__file__).resolve().parents[1]
INSTRUCTORS = REPO / "instructors"
BUILD = INSTRUCTORS / "build_release.py"
IVENV = REPO / ".venv-instructors"
IPYTHON = IVENV / "bin" / "python"
NAME = "02-three-way-handshake"


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ANSWER_KEYS = load_module(INSTRUCTORS / "answer_keys.py", "answer_keys").QUESTIONS
TAMPER = load_module(INSTRUCTORS / "tamper_report.py", "tamper_report")


def source_notebook() -> Path:
    """The nbgrader source of notebook 02."""
    path = INSTRUCTORS / "source" / f"{NAME}.ipynb"
    if path.is_file() and '"nbgrader"' in path.read_text(encoding="utf-8"):
        return path
    pytest.fail(f"no nbgrader source of {NAME}")


# ------------------------------------------------------ the check and the hidden test agree
def hidden_test_verdict(exercise: str, student_id: str, **answers_) -> bool:
    """What the hidden test decides: the answers as json.dumps(default=str) sends them,
    graded by grade.py (in this process; test_grade_runs_in_a_fresh_process runs it as the
    notebook does)."""
    wire = json.loads(json.dumps({"student_id": student_id, **answers_}, default=str))
    code, _ = grade.grade(exercise, wire)
    return code == grade.RIGHT


class FakeNumpyInt:   # what json cannot encode, like numpy.int64: default=str sends str(x)
    def __init__(self, value):
        self.value = value

    def __str__(self):
        return str(self.value)


number_forms = st.one_of(
    st.integers(-5, 2 ** 33), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.just(...), st.text(max_size=12),
    st.integers(0, 2 ** 33).map(str), st.integers(0, 2 ** 33).map(lambda n: f"  {n} "),
    st.integers(0, 2 ** 33).map(float), st.integers(0, 2 ** 33).map(lambda n: f"{n}.0"))


def check_verdict(exercise: str, check, *answers_, **kw) -> bool:
    """What the student sees: the check's displayed feedback (right or not)."""
    check(*answers_, **kw)
    return exercises.feedback.last_feedback(exercise).correct


@given(st.sampled_from(["alice", "bob", "anonymous"]), number_forms, st.booleans())
@settings(max_examples=300, deadline=None)
def test_check_and_hidden_test_agree_on_every_number(student_id, form, near_right):
    """Exercise 1 with a right synack_ack/third_ack and the third_seq in any form (or the
    right third_seq in that form): the check and the hidden test decide the same."""
    seed = answers.student_seed(student_id)
    if seed == answers.DEFAULT_SEED:
        want = {"synack_ack": 5, "third_seq": 5, "third_ack": 5}
    else:
        want = answers.expected_handshake(seed)
    third_seq = form
    if near_right and isinstance(form, (int, float, str)) and not isinstance(form, bool):
        third_seq = type(form)(want["third_seq"]) if not isinstance(form, str) else \
            form.replace(form.strip(), str(want["third_seq"])) if form.strip() else form
    check = check_verdict("02-ex1", exercises.check_handshake_numbers, want["synack_ack"],
                          third_seq, want["third_ack"], seed=seed)
    hidden = hidden_test_verdict("02-ex1", student_id, synack_ack=want["synack_ack"],
                                 third_seq=third_seq, third_ack=want["third_ack"])
    assert check == hidden, (student_id, third_seq)


def test_right_answers_in_every_accepted_form_pass_both():
    seed = answers.student_seed("alice")
    want = answers.expected_first_data(seed)
    for form in (int, str, float, lambda n: f" {n}\n", FakeNumpyInt):
        given_ = {k: form(v) for k, v in want.items()}
        assert check_verdict("02-ex2", exercises.check_first_data, given_["data_seq"],
                             given_["data_ack"], seed=seed), form
        assert hidden_test_verdict("02-ex2", "alice", **given_), form
    for refused in ("0x10", f"{want['data_seq']}.0", True, None, ..., {(1, 2): 3}):
        assert not check_verdict("02-ex2", exercises.check_first_data, refused,
                                 want["data_ack"], seed=seed)
        try:
            hidden = hidden_test_verdict("02-ex2", "alice", data_seq=refused,
                                         data_ack=want["data_ack"])
        except TypeError:        # json.dumps raises in the hidden cell: the test fails
            hidden = False
        assert not hidden, refused


def test_choices_agree_for_every_letter_and_spelling():
    checks = {"02-ex4": exercises.check_third_segment_reason,
              "02-ex5": exercises.reveal_synack_loss}
    for student_id in ("alice", "bob", "anonymous"):
        seed = answers.student_seed(student_id)
        for letter in ["a", "b", "c", "d", "B", " (c) ", "e", "", None, ..., 1]:
            for exercise in ("02-ex4", "02-ex5"):
                name = handshake.GRADED[exercise][1][0]
                shown = exercises.judge_third_segment_reason if exercise == "02-ex4" else \
                    exercises.judge_synack_loss
                hidden = hidden_test_verdict(exercise, student_id, **{name: letter})
                assert shown(letter, seed=seed).correct == hidden
                if exercise == "02-ex4":
                    assert check_verdict(exercise, checks[exercise], letter, seed=seed) == hidden


def test_grade_runs_in_a_fresh_process_and_says_only_right_or_not():
    want = answers.expected_handshake(answers.student_seed("alice"))
    for answers_, code in ((want, 0), ({**want, "third_ack": 1}, 1)):
        done = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "02-ex1"],
                              input=json.dumps({"student_id": "alice", **answers_}),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == code, done.stdout + done.stderr
        assert done.stdout.strip() in ("right", "not right")
        assert str(want["third_ack"]) not in done.stdout
    bad = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "02-ex9"],
                         input="{}", capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown exercise" in bad.stdout


def test_a_fake_tcpsim_in_the_students_folder_is_not_what_grades(tmp_path):
    """The autograder runs the hidden test in the submission's folder: a `tcpsim/` package
    the student put there does not shadow the real one (-I keeps the folder off sys.path)."""
    fake = tmp_path / "tcpsim" / "exercises"
    fake.mkdir(parents=True)
    (tmp_path / "tcpsim" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "grade.py").write_text("print('right')\n")
    done = subprocess.run([sys.executable, "-I", "-m", "tcpsim.exercises.grade", "02-ex1"],
                          input=json.dumps({"student_id": "alice", "synack_ack": 0,
                                            "third_seq": 0, "third_ack": 0}),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert done.returncode == 1 and done.stdout == "not right\n", done.stdout + done.stderr


# --------------------------------------------------------------- no answer in clear
def right_letter(question: str, texts: dict, student_id: str) -> str:
    """The letter this student must give (from the instructors' answer key)."""
    seed = answers.student_seed(student_id)
    letters = answers.letters_for(question, seed, texts)
    return next(letter for letter, key in letters.items()
                if key == ANSWER_KEYS[question]["right"])


def test_sealed_answers_are_up_to_date_with_the_answer_key():
    done = subprocess.run([sys.executable, str(INSTRUCTORS / "seal_answers.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for question, spec in ANSWER_KEYS.items():
        assert sealed.RIGHT[question] == answers.digest(question, spec["right"])
        for key, text in spec["feedback"].items():
            assert answers.unseal(question, key, sealed.FEEDBACK[question][key]) == text


def test_the_package_holds_no_answer_in_clear():
    package = "\n".join(p.read_text(encoding="utf-8")
                        for p in (REPO / "tcpsim" / "exercises").glob("*.py"))
    assert not re.search(r"_ANSWER\s*=", package)
    for spec in ANSWER_KEYS.values():     # no choice's feedback: it would mark the right one
        for text in spec["feedback"].values():
            assert text[:40] not in package
    segments = tcpsim_course.capture("handshake").segments
    real = int(segments[segments["flags"] == "S"].iloc[0]["seq"])
    assert str(real) not in package
    assert answers.capture_syn_seq_right(real) and not answers.capture_syn_seq_right(real + 1)


def test_choice_order_is_shuffled_per_student():
    letters = {right_letter("02-ex4", exercises.THIRD_SEGMENT_CHOICES, f"student{i}")
               for i in range(40)}
    assert len(letters) == 4           # the right letter differs between students
    alice = answers.student_seed("alice")
    assert exercises.third_segment_choices(alice) == exercises.third_segment_choices(alice)
    assert sorted(exercises.synack_loss_choices(alice).values()) == \
        sorted(exercises.SYNACK_LOSS_CHOICES.values())


# ------------------------------------------------------------ submissions and nbgrader
def need_instructors_venv():
    if not (IVENV / ".installed").exists() or not (IVENV / "bin" / "nbgrader").exists():
        why = f"the instructors' environment {IVENV.name} is not installed (`make test`)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; in CI grading must be checked")
        pytest.skip(why)


def nbgrader(course_dir: Path, *args) -> subprocess.CompletedProcess:
    bindir = IPYTHON.parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("TCPSIM_STUDENT_ID_FROM", None)
    done = subprocess.run([str(bindir / "nbgrader"), *args, f"--CourseDirectory.root={course_dir}"],
                          cwd=INSTRUCTORS, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"nbgrader {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def text_of(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


STUDENT_ID_LINE = 'exercises.student_id("anonymous")'


def answer_code(student_id: str, right: bool = True, **overrides) -> dict:
    """{grade_id: code} of every answer cell, computed for ``student_id``."""
    seed = answers.student_seed(student_id)
    code = {"student-id": STUDENT_ID_LINE.replace('"anonymous"', f'"{student_id}"')}
    if right:
        if seed != answers.DEFAULT_SEED:
            ex1, ex2 = answers.expected_handshake(seed), answers.expected_first_data(seed)
            code["ex1-answer"] = "\n".join(f"{k} = {v}" for k, v in ex1.items())
            code["ex2-answer"] = "\n".join(f"{k} = {v}" for k, v in ex2.items())
        code["ex3-answer"] = ('syns = real.segments[real.segments["flags"] == "S"]\n'
                              'real_syn_seq = int(syns["seq"].iloc[0])')
        code["ex4-answer"] = (f'third_segment_reason = '
                              f'"{right_letter("02-ex4", exercises.THIRD_SEGMENT_CHOICES, student_id)}"')
        code["ex5-answer"] = (f'synack_prediction = '
                              f'"{right_letter("02-ex5", exercises.SYNACK_LOSS_CHOICES, student_id)}"')
        code["ex6-answer"] = ('my_scenario = {"hosts": {"client": {"options": {"syn_retries": 2}},'
                              ' "server": {}},\n  "actions": [{"at": 0, "host": "server", "do": '
                              '"listen"}, {"at": 0, "host": "client", "do": "connect", "to": '
                              '"server"}],\n  "faults": [{"drop": {"from": "client", "flags": '
                              '"S"}}]}')
    code.update(overrides)
    return code


def make_submission(release: dict, code: dict, added: dict | None = None) -> dict:
    """The release with its answer cells' sources replaced (code {grade_id: source}) and
    new cells inserted after the cells named in ``added`` {grade_id: source}."""
    nb = json.loads(json.dumps(release))
    cells = []
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid == "student-id":      # the student types their id between the quotes
            cell["source"] = text_of(cell).replace(STUDENT_ID_LINE, code[gid])
        elif gid in code:
            cell["source"] = code[gid]
        cells.append(cell)
        if added and gid in added:
            cells.append(nbformat.v4.new_code_cell(added[gid]))
    nb["cells"] = cells
    return nb


def wrong_letter(question, texts, student_id, key):
    seed = answers.student_seed(student_id)
    return next(letter for letter, k in answers.letters_for(question, seed, texts).items()
                if k == key)


def submissions(release: dict) -> dict:
    """{student folder: (notebook, expected autograded points or None, run it first?)}."""
    s = {}
    s["alice"] = (answer_code("alice"), 9, True)                      # honest
    seed = answers.student_seed("carol")
    ex1, ex2 = answers.expected_handshake(seed), answers.expected_first_data(seed)
    s["carol"] = (answer_code(                                         # strings, pandas
        "carol",
        **{"ex1-answer": "\n".join(f'{k} = "{v}"' for k, v in ex1.items()),
           "ex2-answer": f'data_seq = " {ex2["data_seq"]} "\ndata_ack = float({ex2["data_ack"]})',
           "ex3-answer": 'real_syn_seq = real.segments[real.segments["flags"] == "S"]["seq"].iloc[0]',
           "ex4-answer": 'third_segment_reason = "({})"'.format(
               right_letter("02-ex4", exercises.THIRD_SEGMENT_CHOICES, "carol").upper()),
           }), 9, False)
    seed = answers.student_seed("erin")                                # typical wrong, 1
    client_isn, server_isn, data_bytes = answers.handshake_numbers(seed)
    s["erin"] = (answer_code(
        "erin",
        **{"ex1-answer": f"synack_ack = {client_isn}\nthird_seq = {client_isn}\n"
                         f"third_ack = {server_isn}",
           "ex2-answer": f"data_seq = {client_isn + 2}\ndata_ack = {client_isn + 1 + data_bytes}",
           "ex3-answer": "real_syn_seq = 0",
           "ex4-answer": f'third_segment_reason = "{wrong_letter("02-ex4", exercises.THIRD_SEGMENT_CHOICES, "erin", "a")}"',
           "ex5-answer": f'synack_prediction = "{wrong_letter("02-ex5", exercises.SYNACK_LOSS_CHOICES, "erin", "c")}"',
           "ex6-answer": 'my_scenario = {"hosts": {"client": {}, "server": {}}, "actions": ['
                         '{"at": 0, "host": "server", "do": "listen"}, {"at": 0, "host": '
                         '"client", "do": "connect", "to": "server"}], "faults": [{"drop": '
                         '{"from": "server", "flags": "SA"}}]}'}), 0, False)
    seed = answers.student_seed("frank")                               # typical wrong, 2
    ex2 = answers.expected_first_data(seed)
    segments = tcpsim_course.capture("handshake").segments
    synack_ack = int(segments[segments["flags"] == "SA"].iloc[0]["ack"])
    s["frank"] = (answer_code(
        "frank",
        **{"ex1-answer": "synack_ack = 1\nthird_seq = 1\nthird_ack = 1",
           "ex2-answer": f"data_seq = {ex2['data_seq']}\ndata_ack = {ex2['data_ack'] - 1}",
           "ex3-answer": f"real_syn_seq = {synack_ack}",
           "ex4-answer": f'third_segment_reason = "{wrong_letter("02-ex4", exercises.THIRD_SEGMENT_CHOICES, "frank", "d")}"',
           "ex5-answer": f'synack_prediction = "{wrong_letter("02-ex5", exercises.SYNACK_LOSS_CHOICES, "frank", "a")}"',
           "ex6-answer": 'my_scenario = {"hosts": {"client": {"options": {"syn_retries": 2}}, '
                         '"server": {}}, "actions": [{"at": 0, "host": "client", "do": '
                         '"connect", "to": "server"}]}'}), 0, False)
    patch = ("import tcpsim.exercises.answers as answers\n"
             "import tcpsim.exercises.handshake as handshake\n"
             "always = lambda *a, **k: exercises.Feedback(True, 'right')\n"
             "for name in dir(exercises):\n"
             "    if name.startswith(('check_', 'judge_', 'reveal_')):\n"
             "        setattr(exercises, name, always)\n"
             "        setattr(handshake, name, always)\n"
             "answers.whole_number = lambda value: 0\n"
             "answers.is_right_choice = lambda *a: True\n"
             "handshake.GRADED = {k: (always, v[1]) for k, v in handshake.GRADED.items()}\n"
             "q = exercises.HandshakeQuestion(0, 2**32 - 1, 0, 0)\n"
             "STUDENT_SEED = 0")
    s["gina"] = (answer_code(                                          # monkeypatching
        "gina", right=False,
        **{"ex1-answer": "synack_ack = third_seq = third_ack = 0",
           "ex2-answer": "data_seq = data_ack = 0",
           "ex3-answer": "real_syn_seq = 0", "ex4-answer": 'third_segment_reason = "z"',
           "ex5-answer": 'synack_prediction = "z"', "ex6-answer": "my_scenario = {}"}),
        0, False, {"student-id": patch})
    s["hank"] = (answer_code(                          # patches the hidden test's machinery
        "hank", right=False,
        **{"ex1-answer": "synack_ack = third_seq = third_ack = 0"}),
        0, False,
        {"student-id": "import subprocess\nclass Passed:\n    returncode, stdout = 0, 'right\\n'\n"
                       "subprocess.run = lambda *a, **k: Passed()\n"
                       "import sys\nsys.executable = '/bin/true'"})
    alice = answer_code("alice")                                       # copies alice's numbers
    s["ivan"] = (answer_code("ivan", right=False,
                             **{k: alice[k] for k in ("ex1-answer", "ex2-answer",
                                                      "ex4-answer", "ex5-answer")}), 0, False)
    s["judy"] = ({**alice}, 9, False)                                  # a friend's id
    s["kim"] = (answer_code("anonymous"), 5, False)                    # forgot the id
    guess = ('for guess in "abcd":\n'
             '    exercises.check_third_segment_reason(guess, seed=STUDENT_SEED)\n')
    liam = answer_code("liam")                                         # guesses in a loop
    liam["ex4-answer"] = guess + liam["ex4-answer"]
    s["liam"] = (liam, 9, True)
    s["mona"] = (answer_code("mona", **{"ex1-check": "pass  # not my problem"}), 9, False)
    return {student: (make_submission(release, spec[0], spec[3] if len(spec) > 3 else None),
                      spec[1], spec[2]) for student, spec in s.items()}


def execute_as_student(nb: dict, folder: Path) -> dict:
    """Run the notebook as the student did before handing it in (outputs saved)."""
    node = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(node, timeout=120, startup_timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return json.loads(nbformat.writes(node))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course with the release, every submission collected, autograded and exported."""
    need_instructors_venv()
    course_dir = tmp_path_factory.mktemp("course")
    src = source_notebook()
    done = subprocess.run([str(IPYTHON), str(BUILD), "--course-dir", str(course_dir),
                           "--source", str(src.parent),
                           "--students", str(course_dir / "students-edition"), NAME],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    release = json.loads((course_dir / "release" / NAME / f"{NAME}.ipynb").read_text())
    expected = {}
    for student, (nb, points, run_first) in submissions(release).items():
        folder = course_dir / "submitted" / student / NAME
        folder.mkdir(parents=True)
        if run_first:
            nb = execute_as_student(nb, folder)
        (folder / f"{NAME}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
        expected[student] = points
    folder = course_dir / "submitted" / "source" / NAME           # the instructors' edition
    folder.mkdir(parents=True)
    shutil.copy2(src, folder / f"{NAME}.ipynb")
    expected["source"] = 9
    honest = nbgrader(course_dir, "autograde", NAME, "--create", "--student=alice")
    everyone = nbgrader(course_dir, "autograde", NAME, "--create")
    nbgrader(course_dir, "export", f"--to={course_dir / 'grades.csv'}")
    rows = list(csv.DictReader((course_dir / "grades.csv").open()))
    scores = {r["student_id"]: float(r["raw_score"]) for r in rows if r["assignment"] == NAME}
    return {"dir": course_dir, "expected": expected, "scores": scores,
            "honest_log": honest.stdout + honest.stderr,
            "log": everyone.stdout + everyone.stderr}


def test_autograde_scores_each_submission_as_the_issue_demands(graded):
    """alice honest 9; carol strings/pandas 9; erin, frank typical wrong 0; gina
    monkeypatching the course 0; hank patching subprocess.run and sys.executable 0; ivan
    another's numbers 0; judy a friend's id 9 (flagged below); kim
    forgot the id: 0 for exercises 1-2, the rest 5; liam guessed in a loop 9 (flagged);
    mona right answers but a graded cell replaced by `pass` 9 (nbgrader restores it); the
    instructors' edition 9."""
    want = {s: p for s, p in graded["expected"].items() if p is not None}
    got = {s: graded["scores"][s] for s in want}
    assert got == want


def test_autograde_says_nothing_about_an_honest_submission(graded):
    log = graded["honest_log"]
    assert "WARNING" not in log and "ERROR" not in log, log
    assert "cannot be converted to a float" not in log


def test_autograde_still_warns_about_a_locked_cell_that_was_changed(graded):
    """mona replaced exercise 1's graded cell by `pass`: nbgrader restores it (her right
    answers score, above), and its checksum warning, now the only one of the whole run,
    names her cell."""
    warnings = [line for line in graded["log"].splitlines() if "Attribute 'checksum'" in line]
    assert len(warnings) == 1 and "ex1-check" in warnings[0], warnings


def graded_cells(nb: dict):
    return [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")
            and c["cell_type"] == "code"]


@pytest.mark.parametrize("student", ["alice", "source"])
def test_no_graded_cell_writes_to_stderr(graded, student):
    """nbgrader scores 0 for a graded cell with stderr output: a warning inside a check
    would zero right answers."""
    path = graded["dir"] / "autograded" / student / NAME / f"{NAME}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in graded_cells(nb):
        for output in cell.get("outputs", []):
            assert not (output["output_type"] == "stream" and output.get("name") == "stderr"), \
                f"{cell['metadata']['nbgrader']['grade_id']}: {output.get('text')}"
            assert output["output_type"] != "error"
            assert output["output_type"] != "execute_result", "a check returned a value"


def test_feedback_of_a_wrong_submission_shows_no_hidden_test_and_no_traceback(graded):
    nbgrader(graded["dir"], "generate_feedback", NAME, "--student=erin")
    page = (graded["dir"] / "feedback" / "erin" / NAME / f"{NAME}.html").read_text()
    assert "Not yet" in page                              # the checks' hints are there
    assert "This test did not pass" in page               # what replaced the tracebacks
    for hidden in ("BEGIN HIDDEN TESTS", "tcpsim.exercises.grade", "_subprocess",
                   "Traceback (most recent call last)", "AssertionError", "returncode",
                   "Cell In["):
        assert hidden not in page, hidden
    seed = answers.student_seed("erin")
    for value in (*answers.expected_handshake(seed).values(),
                  *answers.expected_first_data(seed).values()):
        if value >= 10 ** 6:          # (a small number may be in the page for other reasons)
            assert not re.search(rf"\b{value}\b", page), value


def test_tamper_report_flags_what_it_promises(graded):
    flags = TAMPER.report(graded["dir"], NAME)

    def kinds(student):
        return {f.split(":")[0] for f in flags[student] if not f.startswith("note")}
    assert kinds("alice") == set() and flags["alice"] == [], flags["alice"]
    for student in ("carol", "erin", "frank", "ivan", "mona"):
        assert kinds(student) == set(), (student, flags[student])
    assert "rebinding" in kinds("gina")
    assert any("exercises" in f and "setattr" in f or "rebinds q" in f for f in flags["gina"])
    assert "rebinding" in kinds("hank")
    assert any("stores into subprocess.run" in f for f in flags["hank"])
    assert any("stores into sys.executable" in f for f in flags["hank"])
    assert any("'alice'" in f and "judy" in f for f in flags["judy"])
    assert any("not set" in f for f in flags["kim"])
    assert any("3 different wrong answers to 02-ex4" in f for f in flags["liam"])


def test_tamper_report_command_line(graded):
    done = subprocess.run([sys.executable, str(INSTRUCTORS / "tamper_report.py"), NAME,
                           "--course-dir", str(graded["dir"]), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["alice"] == []
