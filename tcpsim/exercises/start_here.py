"""The one practice question of notebook 00 (how predict-then-reveal works).

Ungraded: the predict widget calls ``check_connect_returns`` and shows the Feedback it
returns. The right choice and the feedback are sealed (instructors/answer_keys.py).
"""
from .handshake import _judge_choice

CONNECT_RETURNS_QUESTION = "The client's connect() returns when its TCP has received ...?"
CONNECT_RETURNS_CHOICES = {
    "a": "the server's SYN-ACK",
    "b": "an acknowledgment of the client's third segment",
    "c": "the first data from the server",
}


def check_connect_returns(letter):
    """The practice question's feedback (a Feedback, for the predict widget)."""
    return _judge_choice("00-connect-returns", CONNECT_RETURNS_CHOICES, None, letter, "answer")
