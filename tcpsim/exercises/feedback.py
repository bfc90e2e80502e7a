"""What every check function returns, and the student seed of randomized exercises.

A check never prints the expected answer: on a wrong answer it says what is wrong with
*this* answer and points at the idea (an RFC section, a picture to look at). Tests in
``tests/test_exercises.py`` hold every check to that.
"""
from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from numbers import Integral

RIGHT_COLOUR = "#009E73"   # Okabe-Ito bluish green (tcpsim/plots/style.py)
WRONG_COLOUR = "#D55E00"   # Okabe-Ito vermillion


@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``correct`` and a one-paragraph ``message``.

    ``bool(feedback)`` is ``feedback.correct``, so autograder tests can ``assert check(...)``.
    In a notebook it shows as a coloured box.
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
        return (f'<div class="tcpsim-feedback" style="border-left: 6px solid {colour}; '
                f'padding: 6px 10px; margin: 4px 0;">'
                f'<b style="color: {colour}">{head}</b> {body}</div>')


def right(message: str) -> Feedback:
    return Feedback(True, message)


def wrong(message: str) -> Feedback:
    return Feedback(False, message)


def student_seed(student_id) -> int:
    """A number from 0 to 2**32 - 1 derived from a student id (any text).

    The same id always gives the same seed, on every machine, so an exercise randomized
    from it shows each student their own numbers and the autograder can check them.
    """
    text = str(student_id).strip().lower()
    if not text:
        raise ValueError("STUDENT_ID is empty: write your student id (any text, for example "
                         "your login) between the quotes")
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def whole_number(value, name: str):
    """``value`` as an int, or a Feedback saying why it is not a usable answer."""
    if value is None or value is Ellipsis:
        return wrong(f"{name} has no value yet: replace the ... with your answer.")
    if isinstance(value, bool):
        return wrong(f"{name} must be a whole number, not {value}.")
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return wrong(f"{name} must be a whole number (an int); you gave {value!r}.")


def choice_letter(value, choices: dict, name: str):
    """``value`` as one of the choice letters, or a Feedback saying why it is not one."""
    letters = ", ".join(repr(k) for k in choices)
    if value is None or value is Ellipsis:
        return wrong(f"{name} has no value yet: set it to one of {letters}.")
    text = str(value).strip().lower().rstrip(")").lstrip("(")
    if text not in choices:
        return wrong(f"{name} must be one of {letters}; you gave {value!r}.")
    return text


def choice_check(choices: dict, answer: str, right_message: str, hints: dict, name="answer"):
    """A check function for a multiple-choice question.

    ``choices`` {letter: text}; ``answer`` the right letter; ``hints`` {wrong letter: hint}
    (a letter without a hint gets a general one). The returned function takes the
    student's letter and returns a Feedback.
    """
    def check(letter) -> Feedback:
        choice = choice_letter(letter, choices, name)
        if isinstance(choice, Feedback):
            return choice
        if choice == answer:
            return right(right_message)
        return wrong(hints.get(choice, "Look at the picture above again."))
    check.choices = choices
    return check
