"""What the checks show: feedback boxes, the student's id, and the count of wrong tries.

A check never shows the expected answer: on a wrong answer it names the idea that was
missed (an RFC section, a picture to look at), never how far off the answer is. Tests in
``tests/test_exercises.py`` hold every check to that.

A check in a graded cell *displays* its feedback (:func:`show`) and returns None, so the
cell has no value for nbgrader to read as a score. :func:`show` also records how many
different wrong answers the student tried, in the output's metadata: the count is saved
with the notebook the student hands in, where ``instructors/tamper_report.py`` reads it.
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .answers import (DEFAULT_STUDENT_ID, NotANumber, Unsendable, as_sent, is_default_id,
                      student_seed, whole_number as _whole_number)

RIGHT_COLOUR = "#009E73"   # Okabe-Ito bluish green (tcpsim/plots/style.py)
WRONG_COLOUR = "#D55E00"   # Okabe-Ito vermillion
TRIES_BEFORE_WARNING = 3   # different wrong answers to one exercise before the check says so

__all__ = ["Feedback", "student_seed", "student_id", "show", "record_try", "wrong_tries"]


@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``correct`` and a one-paragraph ``message``.

    ``bool(feedback)`` is ``feedback.correct``. In a notebook it shows as a coloured box.
    """
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return ("✓ Right. " if self.correct else "✗ Not yet. ") + self.message

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = RIGHT_COLOUR if self.correct else WRONG_COLOUR
        head = "✓ Right." if self.correct else "✗ Not yet."
        body = html.escape(self.message).replace("\n", "<br>")
        body = re.sub(r"\*([^*<]+)\*", r"<em>\1</em>", body)   # the messages' *emphasis*
        return (f'<div class="tcpsim-feedback" style="border-left: 6px solid {colour}; '
                f'padding: 6px 10px; margin: 4px 0;">'
                f'<b style="color: {colour}">{head}</b> {body}</div>')


def right(message: str) -> Feedback:
    return Feedback(True, message)


def wrong(message: str) -> Feedback:
    return Feedback(False, message)


def whole_number(value, name: str):
    """``value`` as an int by the course's one rule (answers.whole_number), or a Feedback
    saying why it is not a usable answer."""
    try:
        return _whole_number(value)
    except NotANumber as why:
        return wrong(f"{name} {why}.")


def judge_as_sent(judge, *answers, seed=None) -> Feedback:
    """``judge`` applied to the answers as the hidden test receives them (answers.as_sent)."""
    try:   # (an unanswered `...` stays "no value yet"; JSON would make it the text "Ellipsis",
        # which every judge refuses as well, so check and hidden test still agree)
        sent = as_sent([None if a is Ellipsis else a for a in answers])
    except Unsendable as why:
        return wrong(f"Your answer {why}: use numbers, text, lists and dicts.")
    if seed is None:
        return judge(*sent)
    return judge(*sent, seed=seed)


# ---------------------------------------------------------------- brute force is visible
_wrong_answers: dict[str, set] = {}


def record_try(exercise: str, answer, correct: bool) -> int:
    """Count ``answer`` if it is a new wrong answer to ``exercise``; the count so far."""
    seen = _wrong_answers.setdefault(exercise, set())
    if not correct:
        seen.add(repr(answer))
    return len(seen)


def wrong_tries(exercise: str) -> int:
    """How many different wrong answers to ``exercise`` this kernel has checked."""
    return len(_wrong_answers.get(exercise, ()))


_last: dict[str, Feedback] = {}


def last_feedback(exercise: str):
    """The Feedback last shown for ``exercise`` in this kernel (for tests), or None."""
    return _last.get(exercise)


def show(feedback: Feedback, exercise: str, answer) -> None:
    """Display ``feedback`` (never return it: nbgrader would read a cell's value as a score)
    and record the try. After ``TRIES_BEFORE_WARNING`` different wrong answers the box says
    that guessing shows."""
    tries = record_try(exercise, answer, feedback.correct)
    if tries >= TRIES_BEFORE_WARNING:
        note = (f"\nYou have tried {tries} different wrong answers here. Guessing shows: the "
                "count is saved with your notebook and your instructor sees it. Read the "
                "section above again before the next try.")
        feedback = Feedback(feedback.correct, feedback.message + note)
    _last[exercise] = feedback
    from IPython.display import display
    display(feedback, metadata={"tcpsim": {"exercise": exercise, "correct": feedback.correct,
                                           "wrong_tries": tries}})


# ------------------------------------------------------------------------ the student's id
STUDENT_ID_ENV = "TCPSIM_STUDENT_ID_FROM"   # instructors set it to JUPYTERHUB_USER on a hub


def student_id(typed: str = DEFAULT_STUDENT_ID) -> str:
    """The student's id: what they typed, or, if they left the default, the login that the
    course's JupyterHub gives (only where the instructors said so).

    * ``typed`` is not the default: it is the id.
    * The environment variable ``TCPSIM_STUDENT_ID_FROM`` names another variable (on a hub:
      ``JUPYTERHUB_USER``): its value is the id. During ``nbgrader autograde`` it is the
      submission's student folder instead (``autograded/<student>/<assignment>/``), which
      on a hub with nbgrader's exchange is the same login.
    * Otherwise the default stays, and the randomized exercises refuse to give numbers
      until the student types an id (``handshake_question``).
    """
    text = str(typed).strip()
    if not is_default_id(text):
        return text
    source = os.environ.get(STUDENT_ID_ENV, "").strip()
    if source:
        if os.environ.get("NBGRADER_EXECUTION") == "autograde":
            return Path.cwd().parent.name
        value = os.environ.get(source, "").strip()
        if value:
            return value
    return DEFAULT_STUDENT_ID
